#include "query/dataset.h"

#include <pthread.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>

#include "core/check.h"

namespace touchpoint::query {

using identity::IdentifierHash;
using identity::IdType;

Dataset::Dataset(uint32_t max_cluster_size)
    : graph_(max_cluster_size), catalog_(std::make_shared<Catalog>()) {}

namespace {

uint16_t Code16(Dictionary& d, std::string_view s) {
  uint32_t c = d.Intern(s);
  return c > 0xffff ? 0 : static_cast<uint16_t>(c);  // past 65k distinct values: "unknown"
}

}  // namespace

uint32_t Dataset::NodeOf(const SiteEvent& ev, bool link, uint32_t match_row) {
  uint32_t first = kNoNode;
  auto add = [&](IdType type, std::string_view value) {
    if (value.empty()) return;
    uint32_t n = graph_.Intern(IdentifierHash(type, value));
    if (match_row != kNoNode && type != IdType::kCookie && type != IdType::kClickId)
      site_match_keys_.emplace_back(match_row, n);
    if (first == kNoNode)
      first = n;
    else if (link)
      graph_.Union(first, n);
  };
  const UserKeys& u = ev.user;
  add(IdType::kCookie, u.ttp);
  add(IdType::kClickId, u.ttclid);
  for (const auto& e : u.external_id_sha256) add(IdType::kExternalId, e);
  for (const auto& e : u.email_sha256) add(IdType::kEmail, e);
  for (const auto& e : u.phone_sha256) add(IdType::kPhone, e);
  if (!u.first_name_sha256.empty() && !u.last_name_sha256.empty() && !u.zip_code_sha256.empty())
    add(IdType::kNameZip, u.first_name_sha256 + '|' + u.last_name_sha256 + '|' + u.zip_code_sha256);
  return first;
}

void Dataset::Append(uint64_t seq, const store::StoredEvent& event) {
  clustered_ = false;
  if (const auto* site = std::get_if<SiteEvent>(&event)) {
    // Test events (with a test_event_code) are kept in the log and shown by the event debugger
    // and export, and left out of everything computed here: reports, funnels, insights and the
    // identity graph.
    if (!site->test_event_code.empty()) return;
    sites_.seq.push_back(seq);
    sites_.pixel.push_back(Code16(pixels_, site->pixel_id));
    sites_.event.push_back(Code16(event_names_, site->event));
    sites_.currency.push_back(Code16(currencies_, site->currency));
    sites_.time_ms.push_back(site->event_time_ms);
    sites_.node.push_back(NodeOf(*site, true, static_cast<uint32_t>(sites_.seq.size() - 1)));
    sites_.value.push_back(site->value ? *site->value : std::numeric_limits<double>::quiet_NaN());
    return;
  }
  const auto& ad = std::get<AdEvent>(event);
  uint32_t ad_code = ad_ids_.Intern(ad.ad_id);
  if (ad_code >= ad_places_.size()) RebuildAdPlaces();
  if (!ad.study_id.empty()) AppendStudy(ad, ad_code);
  if (ad.ghost) return;  // not shown: only the study knows it
  ads_.type.push_back(static_cast<uint8_t>(ad.type));
  ads_.age.push_back(AgeCode(ad.age));
  ads_.gender.push_back(GenderCode(ad.gender));
  uint32_t placement = placements_.Intern(ad.placement);
  ads_.placement.push_back(placement > 255 ? 0 : static_cast<uint8_t>(placement));
  ads_.ad.push_back(ad_code);
  ads_.time_ms.push_back(ad.event_time_ms);
  // The person: the platform's user key, joined with the click id (the landing page's ttclid)
  // and with hashed email/phone when the platform shares them (view-through matching).
  uint32_t node = kNoNode;
  auto add = [&](IdType type, std::string_view value) {
    if (value.empty()) return;
    uint32_t n = graph_.Intern(IdentifierHash(type, value));
    if (node == kNoNode)
      node = n;
    else
      graph_.Union(node, n);
  };
  add(IdType::kUserKey, ad.user_key);
  add(IdType::kClickId, ad.click_id);
  for (const auto& e : ad.email_sha256) add(IdType::kEmail, e);
  for (const auto& e : ad.phone_sha256) add(IdType::kPhone, e);
  ads_.node.push_back(node);
  ads_.watch_ms.push_back(static_cast<uint32_t>(std::clamp<int64_t>(ad.watch_ms, 0, UINT32_MAX)));
  ads_.video_ms.push_back(static_cast<uint32_t>(std::clamp<int64_t>(ad.video_ms, 0, UINT32_MAX)));
  ads_.country.push_back(Code16(countries_, ad.country));
  ads_.region.push_back(Code16(regions_, ad.region));
  ads_.os.push_back(Code16(oses_, ad.os));
  ads_.device.push_back(Code16(devices_, ad.device));
}

void Dataset::AppendStudy(const AdEvent& ad, uint32_t ad_code) {
  StudyRow row;
  row.study = studies_.Intern(ad.study_id);
  row.test = ad.cell == "test";
  row.ghost = ad.ghost;
  row.time_ms = ad.event_time_ms;
  row.ad = ad_code;
  // Identifier nodes only (no links: a ghost joins nothing; a shown impression links its
  // identifiers in Append as any other).
  if (!ad.user_key.empty())
    row.person = graph_.Intern(IdentifierHash(IdType::kUserKey, ad.user_key));
  auto key = [&](IdType type, const std::string& v) {
    uint32_t n = graph_.Intern(IdentifierHash(type, v));
    if (row.person == kNoNode) row.person = n;
    study_match_keys_.emplace_back(row.person, n);
  };
  for (const auto& e : ad.email_sha256) key(IdType::kEmail, e);
  for (const auto& p : ad.phone_sha256) key(IdType::kPhone, p);
  study_rows_.push_back(row);
}

void Dataset::LinkMerged(uint64_t first_seq, const SiteEvent& later) {
  auto it = std::lower_bound(sites_.seq.begin(), sites_.seq.end(), first_seq);
  if (it == sites_.seq.end() || *it != first_seq) return;
  size_t row = static_cast<size_t>(it - sites_.seq.begin());
  uint32_t node = NodeOf(later, true, static_cast<uint32_t>(row));
  if (node == kNoNode) return;
  clustered_ = false;
  if (sites_.node[row] == kNoNode)
    sites_.node[row] = node;
  else
    graph_.Union(sites_.node[row], node);
  // A browser copy adds match keys only (store::MergeCopies).
  if (std::isnan(sites_.value[row]) && later.value && later.source != "pixel")
    sites_.value[row] = *later.value;
}

void Dataset::ReplaceWithServerCopy(uint64_t first_seq, const SiteEvent& server) {
  auto it = std::lower_bound(sites_.seq.begin(), sites_.seq.end(), first_seq);
  if (it == sites_.seq.end() || *it != first_seq) return;
  size_t row = static_cast<size_t>(it - sites_.seq.begin());
  sites_.value[row] = server.value ? *server.value : std::numeric_limits<double>::quiet_NaN();
  sites_.currency[row] = Code16(currencies_, server.currency);
  sites_.time_ms[row] = server.event_time_ms;
  clustered_ = false;  // (the cluster order sorts a cluster's rows by time)
  uint32_t node = NodeOf(server, true, static_cast<uint32_t>(row));
  if (node == kNoNode) return;
  if (sites_.node[row] == kNoNode)
    sites_.node[row] = node;
  else
    graph_.Union(sites_.node[row], node);
}

void Dataset::SetCatalog(std::shared_ptr<const Catalog> catalog) {
  catalog_ = std::move(catalog);
  for (const auto& c : catalog_->campaigns)
    for (const auto& g : c.adgroups)
      for (const auto& a : g.ads) ad_ids_.Intern(a.ad_id);
  RebuildAdPlaces();
  clustered_ = false;
}

void Dataset::RebuildAdPlaces() {
  ad_places_.assign(ad_ids_.size() + 64, AdPlace{});
  for (size_t ci = 0; ci < catalog_->campaigns.size(); ++ci) {
    const auto& c = catalog_->campaigns[ci];
    for (size_t gi = 0; gi < c.adgroups.size(); ++gi) {
      const auto& g = c.adgroups[gi];
      for (size_t ai = 0; ai < g.ads.size(); ++ai) {
        uint32_t code = ad_ids_.Find(g.ads[ai].ad_id);
        if (code < ad_places_.size())
          ad_places_[code] =
              AdPlace{static_cast<int32_t>(ci), static_cast<int32_t>(gi), static_cast<int32_t>(ai)};
      }
    }
  }
}

const Ad* Dataset::CatalogAd(uint32_t code) const {
  if (code >= ad_places_.size() || ad_places_[code].ad < 0) return nullptr;
  const auto& p = ad_places_[code];
  return &catalog_->campaigns[p.campaign].adgroups[p.adgroup].ads[p.ad];
}
const AdGroup* Dataset::CatalogAdGroup(uint32_t code) const {
  if (code >= ad_places_.size() || ad_places_[code].ad < 0) return nullptr;
  const auto& p = ad_places_[code];
  return &catalog_->campaigns[p.campaign].adgroups[p.adgroup];
}
const Campaign* Dataset::CatalogCampaign(uint32_t code) const {
  if (code >= ad_places_.size() || ad_places_[code].ad < 0) return nullptr;
  return &catalog_->campaigns[ad_places_[code].campaign];
}

void Dataset::Cluster() {
  if (clustered_) return;
  if (ad_places_.size() < ad_ids_.size()) RebuildAdPlaces();
  // Cluster ids: dense numbering of identity roots that own rows; the anonymous cluster last.
  const uint32_t n_nodes = graph_.size();
  std::vector<uint32_t> cluster_of_root(n_nodes, UINT32_MAX);
  uint32_t n_clusters = 0;
  auto cluster_of = [&](uint32_t node) -> uint32_t {
    if (node == kNoNode) return UINT32_MAX;
    uint32_t r = graph_.Find(node);
    if (cluster_of_root[r] == UINT32_MAX) cluster_of_root[r] = n_clusters++;
    return cluster_of_root[r];
  };
  const size_t n_ads = ads_.size(), n_sites = sites_.size();
  std::vector<uint32_t> ad_cluster(n_ads), site_cluster(n_sites);
  for (size_t i = 0; i < n_ads; ++i) ad_cluster[i] = cluster_of(ads_.node[i]);
  for (size_t i = 0; i < n_sites; ++i) site_cluster[i] = cluster_of(sites_.node[i]);
  const uint32_t anon = n_clusters;  // rows without identifiers
  for (auto& c : ad_cluster)
    if (c == UINT32_MAX) c = anon;
  for (auto& c : site_cluster)
    if (c == UINT32_MAX) c = anon;
  const uint32_t total = n_clusters + 1;

  // Counting sort by cluster, then by time within each cluster.
  auto counting_sort = [&](const std::vector<uint32_t>& cluster, std::vector<uint32_t>& begin,
                           std::vector<uint32_t>& order, const std::vector<int64_t>& time) {
    begin.assign(total + 1, 0);
    for (uint32_t c : cluster) begin[c + 1]++;
    for (uint32_t c = 0; c < total; ++c) begin[c + 1] += begin[c];
    order.assign(cluster.size(), 0);
    std::vector<uint32_t> pos(begin.begin(), begin.end() - 1);
    for (uint32_t i = 0; i < cluster.size(); ++i) order[pos[cluster[i]]++] = i;
    for (uint32_t c = 0; c < total; ++c) {
      auto b = order.begin() + begin[c], e = order.begin() + begin[c + 1];
      if (e - b > 1)
        std::stable_sort(b, e, [&](uint32_t x, uint32_t y) { return time[x] < time[y]; });
    }
  };
  std::vector<uint32_t> ad_order;
  counting_sort(ad_cluster, cluster_ad_begin_, ad_order, ads_.time_ms);
  ads_.Permute(ad_order);
  counting_sort(site_cluster, cluster_site_begin_, site_order_, sites_.time_ms);
  clustered_ = true;
}

void Dataset::ShrinkToFit() {
  auto shrink = [](auto& v) { v.shrink_to_fit(); };
  shrink(ads_.type);
  shrink(ads_.age);
  shrink(ads_.gender);
  shrink(ads_.placement);
  shrink(ads_.ad);
  shrink(ads_.time_ms);
  shrink(ads_.node);
  shrink(ads_.watch_ms);
  shrink(ads_.video_ms);
  shrink(ads_.country);
  shrink(ads_.region);
  shrink(ads_.os);
  shrink(ads_.device);
  shrink(sites_.seq);
  shrink(sites_.pixel);
  shrink(sites_.event);
  shrink(sites_.currency);
  shrink(sites_.time_ms);
  shrink(sites_.node);
  shrink(sites_.value);
  shrink(study_rows_);
  shrink(study_match_keys_);
  shrink(site_match_keys_);
}

DatasetStats Dataset::Stats() const {
  DatasetStats s;
  s.ad_events = ads_.size();
  s.site_events = sites_.size();
  s.identifiers = graph_.size();
  s.clusters = clustered_ ? cluster_count() : 0;
  s.identity_merges = graph_.merges();
  s.refused_merges = graph_.refused_merges();
  s.memory_bytes = ads_.MemoryBytes() + sites_.MemoryBytes() + graph_.MemoryBytes() +
                   cluster_ad_begin_.capacity() * 4 + cluster_site_begin_.capacity() * 4 +
                   site_order_.capacity() * 4 + ad_ids_.MemoryBytes() + pixels_.MemoryBytes() +
                   event_names_.MemoryBytes() + study_rows_.capacity() * sizeof(StudyRow) +
                   study_match_keys_.capacity() * 8 + site_match_keys_.capacity() * 8;
  return s;
}

// --- LiveDataset -------------------------------------------------------------------------------

namespace {

int64_t SteadyNowNs() {
  return std::chrono::duration_cast<std::chrono::nanoseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

}  // namespace

Status LiveDataset::LoadFrom(const store::EventStore& store, LoadOptions options) {
  state_.store(kLoadingState, std::memory_order_release);
  return Load(store, options);
}

void LiveDataset::StartLoad(const store::EventStore& store, LoadOptions options) {
  TP_CHECK(!loader_.joinable());
  state_.store(kLoadingState, std::memory_order_release);  // loaded() is false from here on
  loader_ = std::thread([this, &store, options = std::move(options)] {
    pthread_setname_np(pthread_self(), "tp-loader");
    Status st = Load(store, options);
    if (!st.ok() && !stop_load_.load(std::memory_order_relaxed))
      spdlog::error("cannot load stored events: {}", st.message());
    if (options.done) options.done(st);
  });
}

Status LiveDataset::Load(const store::EventStore& store, const LoadOptions& options) {
  load_start_ns_.store(SteadyNowNs(), std::memory_order_relaxed);
  auto finish = [&](Status st) {
    load_end_ns_.store(SteadyNowNs(), std::memory_order_relaxed);
    {
      std::lock_guard lock(load_mu_);
      state_.store(st.ok() ? kLoadedState : kFailedState, std::memory_order_release);
    }
    load_cv_.notify_all();
    return st;
  };
  std::lock_guard lock(query_mu_);  // queries and the applier wait for the load
  // Whatever the applier applied before this point was committed before the seq range below is
  // read, so the chunks read it again: start from nothing.
  data_ = Dataset(data_.max_cluster_size());
  data_.SetCatalog(store.GetCatalog());
  auto spend = store.GetSpend();
  if (!spend.ok()) return finish(spend.status());
  data_.SetSpend(std::move(*spend));
  // Every commit after this read reaches OnCommit (the listener was set before the load
  // started): the chunks read up to here, the queue holds the rest.
  auto range = store.CommittedSeqRange();
  if (!range.ok()) return finish(range.status());
  loaded_max_seq_ = range->last_seq;
  events_total_.store(range->last_seq ? range->last_seq - range->first_seq + 1 : 0,
                      std::memory_order_relaxed);
  uint64_t after = 0, loaded = 0;
  for (;;) {
    if (options.before_chunk_for_testing)
      options.before_chunk_for_testing(loaded, events_total_.load(std::memory_order_relaxed));
    if (stop_load_.load(std::memory_order_relaxed))
      return finish(Unavailable("the load of stored events was stopped"));
    if (after >= loaded_max_seq_) break;
    auto last = store.ScanChunk(after, loaded_max_seq_, std::max<size_t>(options.chunk_events, 1),
                                [&](uint64_t seq, int64_t, const store::StoredEvent& ev) {
                                  data_.Append(seq, ev);
                                  ++loaded;
                                });
    if (!last.ok()) return finish(last.status());
    events_loaded_.store(loaded, std::memory_order_relaxed);
    if (*last == after) break;  // nothing left below loaded_max_seq_
    after = *last;
  }
  // The commits made meanwhile, each once (the skip rule in Drain), then the clustered layout
  // the first query would otherwise build.
  const size_t queued = pending();
  Drain();
  data_.Cluster();
  auto stats = data_.Stats();
  const double seconds =
      static_cast<double>(SteadyNowNs() - load_start_ns_.load(std::memory_order_relaxed)) / 1e9;
  spdlog::info(
      "loaded {} ad events and {} site events into memory ({} identifiers) in {:.1f} s; {} "
      "events committed meanwhile applied after",
      stats.ad_events, stats.site_events, stats.identifiers, seconds, queued);
  if (stats.refused_merges)
    spdlog::warn("identity: refused {} merges that would grow a cluster past {} identifiers",
                 stats.refused_merges, data_.max_cluster_size());
  return finish(OkStatus());
}

LoadProgress LiveDataset::Progress() const {
  LoadProgress p;
  const int state = state_.load(std::memory_order_acquire);
  p.state = state == kLoadedState    ? LoadProgress::State::kLoaded
            : state == kLoadingState ? LoadProgress::State::kLoading
            : state == kFailedState  ? LoadProgress::State::kFailed
                                     : LoadProgress::State::kNotStarted;
  p.events_loaded = events_loaded_.load(std::memory_order_relaxed);
  p.events_total = std::max(events_total_.load(std::memory_order_relaxed), p.events_loaded);
  if (p.state == LoadProgress::State::kLoaded)
    p.percent = 100;
  else if (p.events_total > 0)
    p.percent = std::min(
        99.9, 100.0 * static_cast<double>(p.events_loaded) / static_cast<double>(p.events_total));
  const int64_t start = load_start_ns_.load(std::memory_order_relaxed);
  const int64_t end = load_end_ns_.load(std::memory_order_relaxed);
  if (start) p.seconds = static_cast<double>((end ? end : SteadyNowNs()) - start) / 1e9;
  return p;
}

void LiveDataset::WaitForLoad() {
  if (state_.load(std::memory_order_acquire) != kLoadingState) return;
  std::unique_lock lock(load_mu_);
  load_cv_.wait(lock, [&] { return state_.load(std::memory_order_acquire) != kLoadingState; });
}

LiveDataset::LiveDataset(uint32_t max_cluster_size) : data_(max_cluster_size) {
  applier_ = std::thread([this] {
    pthread_setname_np(pthread_self(), "tp-applier");  // as top -H and perf show it
    ApplierLoop();
  });
}

LiveDataset::~LiveDataset() {
  stop_load_.store(true, std::memory_order_relaxed);
  if (loader_.joinable()) loader_.join();
  {
    std::lock_guard lock(pending_mu_);
    stopping_ = true;
  }
  pending_cv_.notify_all();
  applier_.join();
}

constexpr size_t kApplyBatch = 20000;  // wake the applier early past this many queued events

void LiveDataset::OnCommit(std::vector<store::CommittedBatch> batches) {
  size_t n = 0;
  for (const auto& b : batches) n += b.events.size();
  bool wake;
  {
    std::lock_guard lock(pending_mu_);
    pending_events_ += n;
    pending_.push_back(std::move(batches));  // moves the commit's buffer, not its events
    wake = pending_events_ >= kApplyBatch;
  }
  if (wake) pending_cv_.notify_one();
}

size_t LiveDataset::pending() const {
  std::lock_guard lock(pending_mu_);
  return pending_events_;
}

void LiveDataset::ApplierLoop() {
  for (;;) {
    // While a load runs, the queue waits for it (the load applies it at its end): no early
    // wake-up then, however long the queue, or this thread would spin.
    auto loading = [this] { return state_.load(std::memory_order_acquire) == kLoadingState; };
    {
      std::unique_lock lock(pending_mu_);
      pending_cv_.wait_for(lock, std::chrono::milliseconds(200), [&] {
        return stopping_ || (pending_events_ >= kApplyBatch && !loading());
      });
      if (stopping_) return;
      if (pending_.empty() && !pending_catalog_ && !pending_spend_) continue;
    }
    if (loading()) continue;
    std::lock_guard lock(query_mu_);
    Drain();
  }
}

void LiveDataset::SetCatalog(std::shared_ptr<const Catalog> catalog) {
  std::lock_guard lock(pending_mu_);
  pending_catalog_ = std::move(catalog);
}

void LiveDataset::SetSpend(std::vector<SpendRow> spend) {
  std::lock_guard lock(pending_mu_);
  pending_spend_ = std::move(spend);
}

void LiveDataset::Drain() {
  std::vector<std::vector<store::CommittedBatch>> commits;
  std::shared_ptr<const Catalog> catalog;
  std::optional<std::vector<SpendRow>> spend;
  {
    std::lock_guard lock(pending_mu_);
    commits.swap(pending_);
    pending_events_ = 0;
    catalog.swap(pending_catalog_);
    spend.swap(pending_spend_);
  }
  if (catalog) data_.SetCatalog(std::move(catalog));
  if (spend) data_.SetSpend(std::move(*spend));
  const uint64_t refused_before = data_.Stats().refused_merges;
  for (const auto& batches : commits) {
    for (const auto& b : batches) {
      for (size_t i = 0; i < b.events.size() && i < b.outcomes.size(); ++i) {
        const uint64_t seq = b.seqs[i];
        switch (b.outcomes[i]) {
          case store::WriteOutcome::kDuplicate:  // nothing new
            break;
          case store::WriteOutcome::kMerged:  // its match keys join the first copy's identity
            if (const auto* site = std::get_if<SiteEvent>(&b.events[i]))
              data_.LinkMerged(seq, *site);
            break;
          case store::WriteOutcome::kReplaced:  // a server copy's fields replace a browser copy's
            if (const auto* site = std::get_if<SiteEvent>(&b.events[i]))
              data_.ReplaceWithServerCopy(seq, *site);
            break;
          case store::WriteOutcome::kAccepted:
            if (seq > loaded_max_seq_) data_.Append(seq, b.events[i]);  // not read by LoadFrom
            break;
        }
      }
    }
  }
  const uint64_t refused = data_.Stats().refused_merges - refused_before;
  if (refused)
    spdlog::warn("identity: refused {} merges that would grow a cluster past {} identifiers",
                 refused, data_.max_cluster_size());
}

}  // namespace touchpoint::query
