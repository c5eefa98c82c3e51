#pragma once
// Everything queries read: the columns of all stored events, the identity graph over their
// identifiers, the catalog and spend. Built from the durable log at start-up and appended after
// each commit; never touches SQLite while answering.
//
// Layout for speed: Cluster() reorders the ad-event rows by (identity cluster, time) and indexes
// site events the same way, so a report is one sequential pass over clusters — a conversion's
// journey is a short contiguous run of rows. New rows land in an unclustered tail; the next
// query re-clusters (identity merges can move rows between clusters anyway).
//
// Not thread-safe: LiveDataset serializes access.

#include <atomic>
#include <condition_variable>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/catalog.h"
#include "core/event.h"
#include "identity/identity_graph.h"
#include "query/column_store.h"
#include "store/event_store.h"

namespace touchpoint::query {

struct DatasetStats {
  size_t ad_events = 0, site_events = 0, identifiers = 0, clusters = 0;
  uint64_t identity_merges = 0, refused_merges = 0;
  size_t memory_bytes = 0;
};

class Dataset {
 public:
  explicit Dataset(uint32_t max_cluster_size = 10000);

  void Append(uint64_t seq, const store::StoredEvent& event);
  // A duplicate merged into the stored event `first_seq`: its identifiers join that event's.
  void LinkMerged(uint64_t first_seq, const SiteEvent& later);
  // A server copy replaced the fields of the browser copy stored as `first_seq`
  // (store::WriteOutcome::kReplaced): its value, currency and time, and its identifiers join.
  void ReplaceWithServerCopy(uint64_t first_seq, const SiteEvent& server);
  void SetCatalog(std::shared_ptr<const Catalog> catalog);
  void SetSpend(std::vector<SpendRow> spend) { spend_ = std::move(spend); }

  // Reorders rows by cluster when anything changed since the last call.
  void Cluster();
  bool clustered() const { return clustered_; }
  void ShrinkToFit();

  // Clustered view (valid after Cluster()).
  size_t cluster_count() const { return cluster_ad_begin_.size() - 1; }
  // Ad rows [ad_begin(c), ad_begin(c+1)) are cluster c's touchpoints, oldest first. The last
  // cluster (index anonymous_cluster()) holds rows without any identifier.
  uint32_t ad_begin(size_t c) const { return cluster_ad_begin_[c]; }
  uint32_t site_begin(size_t c) const { return cluster_site_begin_[c]; }
  const std::vector<uint32_t>& cluster_ad_begins() const { return cluster_ad_begin_; }
  // Site row of the i-th entry in cluster order.
  const std::vector<uint32_t>& site_order() const { return site_order_; }
  size_t anonymous_cluster() const { return cluster_count() - 1; }

  const AdColumns& ads() const { return ads_; }
  const SiteColumns& sites() const { return sites_; }
  const Dictionary& ad_ids() const { return ad_ids_; }
  const Dictionary& pixels() const { return pixels_; }
  const Dictionary& event_names() const { return event_names_; }
  const Dictionary& currencies() const { return currencies_; }
  const Dictionary& countries() const { return countries_; }
  const Dictionary& regions() const { return regions_; }
  const Dictionary& placements() const { return placements_; }
  const Dictionary& oses() const { return oses_; }
  const Dictionary& devices() const { return devices_; }
  const Catalog& catalog() const { return *catalog_; }
  const std::vector<SpendRow>& spend() const { return spend_; }

  // Catalog position of each ad dictionary code (-1 when the ad is not in the catalog).
  struct AdPlace {
    int32_t campaign = -1, adgroup = -1, ad = -1;  // indexes into the catalog's vectors
  };
  const std::vector<AdPlace>& ad_places() const { return ad_places_; }
  const Ad* CatalogAd(uint32_t ad_code) const;
  const AdGroup* CatalogAdGroup(uint32_t ad_code) const;
  const Campaign* CatalogCampaign(uint32_t ad_code) const;

  DatasetStats Stats() const;
  uint32_t max_cluster_size() const { return graph_.max_cluster_size(); }

  // Lift studies (query/lift_query.h). Every ad event with a study_id, ghosts included (a ghost
  // is nowhere else: never a touchpoint, an impression or part of reach).
  struct StudyRow {
    uint32_t study = 0;  // studies() code
    bool test = false;   // cell
    bool ghost = false;
    uint32_t person = kNoNode;  // the user key's identifier node, else the first match key's
    int64_t time_ms = 0;
    uint32_t ad = 0;  // ad_ids() code
  };
  const std::vector<StudyRow>& study_rows() const { return study_rows_; }
  const Dictionary& studies() const { return studies_; }
  // (person, identifier node) for each hashed email / phone on a study row: the keys lift
  // matches conversions by.
  const std::vector<std::pair<uint32_t, uint32_t>>& study_match_keys() const {
    return study_match_keys_;
  }
  // (site row, identifier node) for each hashed email / phone / external id of a site event
  // (merged copies included), in no particular order.
  const std::vector<std::pair<uint32_t, uint32_t>>& site_match_keys() const {
    return site_match_keys_;
  }

 private:
  // The event's identity node; `match_row` (when not kNoNode): its email / phone / external id
  // nodes are recorded as that site row's match keys.
  uint32_t NodeOf(const SiteEvent& ev, bool link, uint32_t match_row = kNoNode);
  void AppendStudy(const AdEvent& ad, uint32_t ad_code);
  void RebuildAdPlaces();

  AdColumns ads_;
  SiteColumns sites_;
  Dictionary ad_ids_, pixels_, event_names_, currencies_, countries_, regions_, placements_, oses_,
      devices_;
  identity::IdentityGraph graph_;
  std::shared_ptr<const Catalog> catalog_;
  std::vector<SpendRow> spend_;
  std::vector<AdPlace> ad_places_;
  Dictionary studies_;
  std::vector<StudyRow> study_rows_;
  std::vector<std::pair<uint32_t, uint32_t>> study_match_keys_;
  std::vector<std::pair<uint32_t, uint32_t>> site_match_keys_;

  bool clustered_ = false;
  std::vector<uint32_t> cluster_ad_begin_{0, 0};
  std::vector<uint32_t> cluster_site_begin_{0, 0};
  std::vector<uint32_t> site_order_;
};

// How far the start-up load of the stored events is (GET /healthz, /metrics, the 503 answers).
struct LoadProgress {
  enum class State : uint8_t { kNotStarted, kLoading, kLoaded, kFailed };
  State state = State::kNotStarted;
  uint64_t events_loaded = 0;  // stored events read so far
  // The stored events to read: the seq range committed when the load started (exact while the
  // log has no holes; see EventStore::CommittedSeqRange).
  uint64_t events_total = 0;
  double percent = 0;  // events_loaded / events_total, below 100 until the load is done
  double seconds = 0;  // since the load started; its duration once done
};

struct LoadOptions {
  size_t chunk_events = 65536;  // stored events read per short read transaction
  // Called on the loader thread when the load ended, with its outcome (not by LoadFrom).
  std::function<void(const Status&)> done;
  // Tests only: called on the loader thread before each chunk and once after the last, with the
  // events read so far and the total; the load waits while it runs (a test holds it there).
  std::function<void(uint64_t events_loaded, uint64_t events_total)> before_chunk_for_testing;
};

// A Dataset shared by the server's threads: commits arrive from the store's writer (cheap:
// queued), queries run one at a time on a consistent state that includes every commit made
// before they started.
//
// Start-up: the server listens before the stored events are in memory. The store's commit
// listener calls OnCommit from the start; StartLoad() then reads the stored events up to the
// highest seq committed at that moment (`loaded_max_seq_`) in chunks, on a thread of its own,
// while OnCommit queues everything committed meanwhile. Once the chunks are read, the queue is
// applied: an accepted event with a seq at or below loaded_max_seq_ was read by the load and is
// skipped; every later one was committed after the listener was set, so it is in the queue.
// Duplicates, merges and replacements only touch a stored row and are idempotent, so applying
// one the load already saw changes nothing. Each event is therefore counted exactly once.
class LiveDataset {
 public:
  explicit LiveDataset(uint32_t max_cluster_size = 10000);
  ~LiveDataset();  // stops the load (between chunks) and the applier thread

  // Loads everything stored and returns once it is in memory (the CLI; tests).
  Status LoadFrom(const store::EventStore& store, LoadOptions options = {});
  // Starts loading everything stored on a thread of its own and returns at once. The store's
  // commit listener must already be calling OnCommit, and `store` must outlive this object.
  // Until the load is done, loaded() is false and Read() waits for it.
  void StartLoad(const store::EventStore& store, LoadOptions options = {});
  bool loaded() const { return state_.load(std::memory_order_acquire) == kLoadedState; }
  LoadProgress Progress() const;
  // The store's commit listener: queues the events (cheap, on the writer thread). A background
  // thread applies them to the columns every few hundred milliseconds, or as soon as many are
  // waiting, so memory stays bounded whether or not anyone queries.
  void OnCommit(std::vector<store::CommittedBatch> batches);
  void SetCatalog(std::shared_ptr<const Catalog> catalog);
  void SetSpend(std::vector<SpendRow> spend);
  // Events queued and not yet applied (for tests and metrics).
  size_t pending() const;

  // Runs f(const Dataset&) on an up-to-date, clustered dataset (waits for a load under way).
  template <typename F>
  auto Read(F&& f) {
    WaitForLoad();
    std::lock_guard lock(query_mu_);
    Drain();
    data_.Cluster();
    return f(static_cast<const Dataset&>(data_));
  }

 private:
  static constexpr int kNotStartedState = 0, kLoadingState = 1, kLoadedState = 2, kFailedState = 3;
  Status Load(const store::EventStore& store, const LoadOptions& options);
  void WaitForLoad();
  void Drain();  // caller holds query_mu_
  void ApplierLoop();

  std::mutex query_mu_;  // held by queries and by Drain's writes to data_
  Dataset data_;
  mutable std::mutex pending_mu_;
  std::condition_variable pending_cv_;
  // Commits as they came (a list of batches, so queueing one never moves the others).
  std::vector<std::vector<store::CommittedBatch>> pending_;
  size_t pending_events_ = 0;
  std::shared_ptr<const Catalog> pending_catalog_;
  std::optional<std::vector<SpendRow>> pending_spend_;
  bool stopping_ = false;
  uint64_t loaded_max_seq_ = 0;  // guarded by query_mu_
  std::thread applier_;

  // The load (StartLoad); its progress is read by any thread.
  std::thread loader_;
  std::atomic<bool> stop_load_{false};
  std::atomic<int> state_{kNotStartedState};
  std::atomic<uint64_t> events_loaded_{0}, events_total_{0};
  std::atomic<int64_t> load_start_ns_{0}, load_end_ns_{0};  // steady clock
  std::mutex load_mu_;  // with load_cv_: Read() waits for the end of a load
  std::condition_variable load_cv_;
};

}  // namespace touchpoint::query
