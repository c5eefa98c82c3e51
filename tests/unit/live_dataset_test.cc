#include <gtest/gtest.h>

#include <chrono>
#include <cmath>
#include <optional>
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

}  // namespace
}  // namespace touchpoint::query
