#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <filesystem>
#include <future>
#include <optional>
#include <random>
#include <thread>

#include "query/dataset.h"

namespace touchpoint::query {
namespace {

AdEvent Impression(uint64_t seq) {
  AdEvent e;
  e.ad_id = "a1";
  e.event_time_ms = 1700000000000 + static_cast<int64_t>(seq);
  e.user_key = "u" + std::to_string(seq % 100);
  return e;
}

// One committed batch of accepted impressions with seqs first, first + 1, ...
store::CommittedBatch Impressions(uint64_t first, uint64_t n) {
  store::CommittedBatch b;
  for (uint64_t seq = first; seq < first + n; ++seq) {
    b.events.emplace_back(Impression(seq));
    b.seqs.push_back(seq);
    b.outcomes.push_back(store::WriteOutcome::kAccepted);
  }
  return b;
}

SiteEvent Purchase(std::optional<double> value) {
  SiteEvent e;
  e.pixel_id = "P1";
  e.event = "CompletePayment";
  e.event_id = "o1";
  e.event_time_ms = 1700000000000;
  e.user.ttp = "cookie-1";
  e.value = value;
  return e;
}

// Committed events must not pile up waiting for a query: memory would grow without bound on a
// server nobody asks for reports.
TEST(LiveDataset, AppliesCommitsInTheBackgroundWithoutAnyQuery) {
  LiveDataset live;
  for (uint64_t batch = 0; batch < 50; ++batch) {
    std::vector<store::CommittedBatch> commit;
    commit.push_back(Impressions(batch * 1000 + 1, 500));
    commit.push_back(Impressions(batch * 1000 + 501, 500));
    live.OnCommit(std::move(commit));
  }
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (live.pending() > 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(live.pending(), 0u);
  size_t rows = live.Read([](const Dataset& d) { return d.ads().size(); });
  EXPECT_EQ(rows, 50000u);
}

TEST(LiveDataset, QueriesSeeEveryCommitMadeBeforeThem) {
  LiveDataset live;
  std::vector<store::CommittedBatch> first;
  first.push_back(Impressions(1, 2));
  live.OnCommit(std::move(first));
  EXPECT_EQ(live.Read([](const Dataset& d) { return d.ads().size(); }), 2u);
  std::vector<store::CommittedBatch> second;
  second.push_back(Impressions(3, 1));
  live.OnCommit(std::move(second));
  EXPECT_EQ(live.Read([](const Dataset& d) { return d.ads().size(); }), 3u);
}

TEST(LiveDataset, DuplicatesAddNothingAndMergedCopiesOnlyFillTheFirstCopy) {
  LiveDataset live;
  store::CommittedBatch stored;  // the first copy, without a value
  stored.events.emplace_back(Purchase(std::nullopt));
  stored.seqs.push_back(7);
  stored.outcomes.push_back(store::WriteOutcome::kAccepted);
  std::vector<store::CommittedBatch> commit;
  commit.push_back(std::move(stored));
  live.OnCommit(std::move(commit));
  // A later commit: a plain duplicate (its value must be ignored) and a merged copy (its value
  // fills the first copy's), both pointing at seq 7; neither is a new row.
  store::CommittedBatch copies;
  copies.events.emplace_back(Purchase(5.0));
  copies.events.emplace_back(Purchase(9.0));
  copies.seqs = {7, 7};
  copies.outcomes = {store::WriteOutcome::kDuplicate, store::WriteOutcome::kMerged};
  std::vector<store::CommittedBatch> later;
  later.push_back(std::move(copies));
  live.OnCommit(std::move(later));
  live.Read([](const Dataset& d) {
    ASSERT_EQ(d.sites().size(), 1u);
    EXPECT_EQ(d.sites().seq[0], 7u);
    EXPECT_EQ(d.sites().value[0], 9.0);
  });
}

// First name + last name + ZIP code together are an identity key; any of them alone, or a name
// with another ZIP code, links nothing (docs/api.md#hashing-and-normalisation).
TEST(Dataset, NamePlusZipLinksTwoCookiesAndNothingLessDoes) {
  auto clusters = [](const std::string& zip_b, const std::string& last_b) {
    Dataset d;
    for (int i = 0; i < 2; ++i) {
      SiteEvent e = Purchase(10.0);
      e.event_id = "o" + std::to_string(i);
      e.user.ttp = "cookie-" + std::to_string(i);
      e.user.first_name_sha256 = std::string(64, 'a');
      e.user.last_name_sha256 = i == 0 ? std::string(64, 'b') : last_b;
      e.user.zip_code_sha256 = i == 0 ? std::string(64, 'c') : zip_b;
      d.Append(static_cast<uint64_t>(i + 1), store::StoredEvent(e));
    }
    d.Cluster();
    return d.Stats().clusters;
  };
  const std::string b(64, 'b'), c(64, 'c');
  const size_t linked = clusters(c, b);
  EXPECT_EQ(clusters(std::string(64, 'd'), b), linked + 1);  // another ZIP code
  EXPECT_EQ(clusters("", b), linked + 1);                    // no ZIP code
  EXPECT_EQ(clusters(c, std::string(64, 'e')), linked + 1);  // another last name
}

// One commit of one event with this outcome at this seq.
std::vector<store::CommittedBatch> Commit(SiteEvent e, uint64_t seq, store::WriteOutcome o) {
  store::CommittedBatch b;
  b.events.emplace_back(std::move(e));
  b.seqs.push_back(seq);
  b.outcomes.push_back(o);
  std::vector<store::CommittedBatch> commit;
  commit.push_back(std::move(b));
  return commit;
}

TEST(LiveDataset, AServerCopyReplacesABrowserCopysValueTimeAndCurrency) {
  LiveDataset live;
  SiteEvent browser = Purchase(1e9);
  browser.source = "pixel";
  browser.currency = "USD";
  live.OnCommit(Commit(browser, 3, store::WriteOutcome::kAccepted));
  SiteEvent server = Purchase(42.0);
  server.source = "web";
  server.currency = "EUR";
  server.event_time_ms = 1700000060000;
  live.OnCommit(Commit(server, 3, store::WriteOutcome::kReplaced));
  // A browser copy merged afterwards (or into a server copy) adds no value.
  SiteEvent late_browser = Purchase(7.0);
  late_browser.source = "pixel";
  live.OnCommit(Commit(Purchase(std::nullopt), 4, store::WriteOutcome::kAccepted));
  late_browser.event_id = "o1";
  live.OnCommit(Commit(late_browser, 4, store::WriteOutcome::kMerged));
  live.Read([](const Dataset& d) {
    ASSERT_EQ(d.sites().size(), 2u);
    EXPECT_EQ(d.sites().value[0], 42.0);
    EXPECT_EQ(d.sites().time_ms[0], 1700000060000);
    EXPECT_EQ(d.currencies().Find("EUR"), d.sites().currency[0]);
    EXPECT_TRUE(std::isnan(d.sites().value[1]));
  });
}

TEST(LiveDataset, TestEventsAreLeftOutOfTheColumns) {
  LiveDataset live;
  SiteEvent test = Purchase(10.0);
  test.test_event_code = "TEST1";
  live.OnCommit(Commit(test, 1, store::WriteOutcome::kAccepted));
  live.OnCommit(Commit(Purchase(20.0), 2, store::WriteOutcome::kAccepted));
  live.Read([](const Dataset& d) {
    ASSERT_EQ(d.sites().size(), 1u);
    EXPECT_EQ(d.sites().seq[0], 2u);
    EXPECT_EQ(d.sites().value[0], 20.0);
  });
}

// The start-up load against a real store, with commits on both sides of each edge of the scan:
// events stored before the commit listener existed (read by the load only), events committed
// after the listener was set and before the load took its seq range (in the store *and* in the
// queue: counted once), and events committed while the load is held between two chunks (in the
// queue only: counted once, after the load). A duplicate and a merged copy of stored events go
// through the queue too and add no row.
class LiveDatasetLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tp_live_load_test_" + std::to_string(std::random_device{}()));
    auto s = store::EventStore::Open(
        store::StoreOptions{.data_dir = dir_.string(), .synchronous_full = false}, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  void TearDown() override {
    live_.reset();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  // Writes `n` impressions (user keys u<first>...) and checks each was stored.
  void WriteImpressions(uint64_t first, uint64_t n) {
    std::vector<store::StoredEvent> events;
    for (uint64_t i = first; i < first + n; ++i) events.emplace_back(Impression(i));
    auto r = store_->Write(std::move(events));
    ASSERT_TRUE(r.status.ok()) << r.status.message();
    for (auto o : r.outcomes) ASSERT_EQ(o, store::WriteOutcome::kAccepted);
  }
  void Listen() {
    store_->SetCommitListener(
        [this](std::vector<store::CommittedBatch> b) { live_->OnCommit(std::move(b)); });
  }

  std::filesystem::path dir_;
  ManualClock clock_{1700000000000};
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<LiveDataset> live_ = std::make_unique<LiveDataset>();
};

TEST_F(LiveDatasetLoadTest, EveryEventIsCountedOnceWhateverSideOfTheScanItLandsOn) {
  WriteImpressions(1, 10);  // before the listener: the load reads them
  SiteEvent first = Purchase(10.0);
  ASSERT_EQ(store_->Write({first}).outcomes.at(0), store::WriteOutcome::kAccepted);
  Listen();
  WriteImpressions(11, 5);  // queued and stored before the load starts: one row each

  std::promise<void> reached, release;
  std::shared_future<void> released = release.get_future().share();
  std::optional<LoadProgress> at_hold;
  LoadOptions options;
  options.chunk_events = 4;
  options.before_chunk_for_testing = [&](uint64_t loaded, uint64_t) {
    if (loaded != 8) return;  // 16 stored events: chunks start at 0, 4, 8, 12; hold at 8
    at_hold = live_->Progress();
    reached.set_value();
    released.wait();
  };
  std::promise<Status> done;
  options.done = [&](const Status& st) { done.set_value(st); };
  live_->StartLoad(*store_, std::move(options));
  reached.get_future().wait();
  EXPECT_FALSE(live_->loaded());

  WriteImpressions(16, 6);  // committed while the load is held: in the queue only
  auto dup = store_->Write({first});
  ASSERT_EQ(dup.outcomes.at(0), store::WriteOutcome::kMerged);  // within 5 min: merged
  clock_.Advance(10 * 60 * 1000);
  dup = store_->Write({first});
  ASSERT_EQ(dup.outcomes.at(0), store::WriteOutcome::kDuplicate);
  WriteImpressions(22, 1);
  EXPECT_FALSE(live_->loaded());
  release.set_value();
  ASSERT_TRUE(done.get_future().get().ok());

  ASSERT_TRUE(at_hold.has_value());
  EXPECT_EQ(at_hold->state, LoadProgress::State::kLoading);
  EXPECT_EQ(at_hold->events_loaded, 8u);
  EXPECT_EQ(at_hold->events_total, 16u);  // 10 + 1 + 5: the seq range when the load started
  EXPECT_NEAR(at_hold->percent, 50.0, 1e-9);
  EXPECT_TRUE(live_->loaded());
  const LoadProgress after = live_->Progress();
  EXPECT_EQ(after.state, LoadProgress::State::kLoaded);
  EXPECT_EQ(after.percent, 100.0);
  EXPECT_EQ(after.events_loaded, 16u);

  live_->Read([](const Dataset& d) {
    ASSERT_EQ(d.ads().size(), 22u);  // 10 + 5 + 6 + 1, each once
    ASSERT_EQ(d.sites().size(), 1u);
    EXPECT_EQ(d.sites().value[0], 10.0);
    // Every impression's time is unique (1700000000000 + its number): each one exactly once.
    std::vector<int64_t> times(d.ads().time_ms.begin(), d.ads().time_ms.end());
    std::sort(times.begin(), times.end());
    for (size_t i = 0; i < times.size(); ++i)
      EXPECT_EQ(times[i], 1700000000000 + static_cast<int64_t>(i) + 1) << i;
  });
  // Commits after the load are applied as before.
  WriteImpressions(23, 2);
  EXPECT_EQ(live_->Read([](const Dataset& d) { return d.ads().size(); }), 24u);
}

// The load reads sealed segments, a server copy amended into a sealed event, and the log's
// tail, in chunks that cross from one to the other: each event once, the amendment applied.
TEST_F(LiveDatasetLoadTest, ChunksReadSegmentsAmendmentsAndTheTailEachEventOnce) {
  WriteImpressions(1, 10);
  SiteEvent browser = Purchase(10.0);
  browser.source = "pixel";
  ASSERT_EQ(store_->Write({browser}).outcomes.at(0), store::WriteOutcome::kAccepted);
  ASSERT_TRUE(store_->SealNow().ok());  // seq 1..11 in a segment
  ASSERT_GE(store_->Stats().segments, 1u);
  SiteEvent server = Purchase(25.0);  // the server copy replaces the sealed browser copy
  server.source = "web";
  ASSERT_EQ(store_->Write({server}).outcomes.at(0), store::WriteOutcome::kReplaced);
  WriteImpressions(11, 7);  // the log's tail: seq 12..18
  LoadOptions options;
  options.chunk_events = 3;
  std::vector<uint64_t> chunk_starts;
  options.before_chunk_for_testing = [&](uint64_t loaded, uint64_t total) {
    chunk_starts.push_back(loaded);
    EXPECT_EQ(total, 18u);
  };
  std::promise<Status> done;
  options.done = [&](const Status& st) { done.set_value(st); };
  live_->StartLoad(*store_, std::move(options));
  ASSERT_TRUE(done.get_future().get().ok());
  // One chunk for the segment (11 events), then the tail 3 at a time.
  EXPECT_EQ(chunk_starts, (std::vector<uint64_t>{0, 11, 14, 17, 18}));
  live_->Read([](const Dataset& d) {
    EXPECT_EQ(d.ads().size(), 17u);
    ASSERT_EQ(d.sites().size(), 1u);
    EXPECT_EQ(d.sites().value[0], 25.0);  // the amendment, not the sealed browser copy
  });
}

// LoadFrom (the CLI's) after commits were queued and stored: each is counted once.
TEST_F(LiveDatasetLoadTest, CommitsQueuedBeforeASynchronousLoadAreCountedOnce) {
  Listen();
  WriteImpressions(1, 3);
  ASSERT_TRUE(live_->LoadFrom(*store_).ok());
  EXPECT_TRUE(live_->loaded());
  EXPECT_EQ(live_->Read([](const Dataset& d) { return d.ads().size(); }), 3u);
}

}  // namespace
}  // namespace touchpoint::query
