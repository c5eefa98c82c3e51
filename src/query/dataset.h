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

#include <condition_variable>
#include <memory>
#include <mutex>
#include <optional>
#include <thread>
#include <vector>

#include "core/catalog.h"
#include "core/event.h"
#include "identity/identity_graph.h"
#include "store/column_store.h"
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

  const store::AdColumns& ads() const { return ads_; }
  const store::SiteColumns& sites() const { return sites_; }
  const store::Dictionary& ad_ids() const { return ad_ids_; }
  const store::Dictionary& pixels() const { return pixels_; }
  const store::Dictionary& event_names() const { return event_names_; }
  const store::Dictionary& currencies() const { return currencies_; }
  const store::Dictionary& countries() const { return countries_; }
  const store::Dictionary& regions() const { return regions_; }
  const store::Dictionary& placements() const { return placements_; }
  const store::Dictionary& oses() const { return oses_; }
  const store::Dictionary& devices() const { return devices_; }
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

 private:
  uint32_t NodeOf(const SiteEvent& ev, bool link);
  void RebuildAdPlaces();

  store::AdColumns ads_;
  store::SiteColumns sites_;
  store::Dictionary ad_ids_, pixels_, event_names_, currencies_, countries_, regions_, placements_,
      oses_, devices_;
  identity::IdentityGraph graph_;
  std::shared_ptr<const Catalog> catalog_;
  std::vector<SpendRow> spend_;
  std::vector<AdPlace> ad_places_;

  bool clustered_ = false;
  std::vector<uint32_t> cluster_ad_begin_{0, 0};
  std::vector<uint32_t> cluster_site_begin_{0, 0};
  std::vector<uint32_t> site_order_;
};

// A Dataset shared by the server's threads: commits arrive from the store's writer (cheap:
// queued), queries run one at a time on a consistent state that includes every commit made
// before they started.
class LiveDataset {
 public:
  explicit LiveDataset(uint32_t max_cluster_size = 10000);
  ~LiveDataset();  // stops the applier thread

  // Loads everything stored (at start-up).
  Status LoadFrom(const store::EventStore& store);
  // The store's commit listener: queues the events (cheap, on the writer thread). A background
  // thread applies them to the columns every few hundred milliseconds, or as soon as many are
  // waiting, so memory stays bounded whether or not anyone queries.
  void OnCommit(std::vector<store::CommittedBatch> batches);
  void SetCatalog(std::shared_ptr<const Catalog> catalog);
  void SetSpend(std::vector<SpendRow> spend);
  // Events queued and not yet applied (for tests and metrics).
  size_t pending() const;

  // Runs f(const Dataset&) on an up-to-date, clustered dataset.
  template <typename F>
  auto Read(F&& f) {
    std::lock_guard lock(query_mu_);
    Drain();
    data_.Cluster();
    return f(static_cast<const Dataset&>(data_));
  }

 private:
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
  uint64_t loaded_max_seq_ = 0;
  std::thread applier_;
};

}  // namespace touchpoint::query
