#include <gtest/gtest.h>

#include <chrono>
#include <thread>

#include "query/dataset.h"

namespace touchpoint::query {
namespace {

store::CommittedEvent Impression(uint64_t seq) {
  AdEvent e;
  e.ad_id = "a1";
  e.event_time_ms = 1700000000000 + static_cast<int64_t>(seq);
  e.user_key = "u" + std::to_string(seq % 100);
  return store::CommittedEvent{seq, e, false};
}

// Committed events must not pile up waiting for a query: memory would grow without bound on a
// server nobody asks for reports.
TEST(LiveDataset, AppliesCommitsInTheBackgroundWithoutAnyQuery) {
  LiveDataset live;
  for (uint64_t batch = 0; batch < 50; ++batch) {
    std::vector<store::CommittedEvent> events;
    for (uint64_t i = 0; i < 1000; ++i) events.push_back(Impression(batch * 1000 + i + 1));
    live.OnCommit(std::move(events));
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
  live.OnCommit({Impression(1), Impression(2)});
  EXPECT_EQ(live.Read([](const Dataset& d) { return d.ads().size(); }), 2u);
  live.OnCommit({Impression(3)});
  EXPECT_EQ(live.Read([](const Dataset& d) { return d.ads().size(); }), 3u);
}

}  // namespace
}  // namespace touchpoint::query
