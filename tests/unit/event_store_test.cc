#include "store/event_store.h"

#include <fcntl.h>
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sys/mman.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <filesystem>
#include <future>
#include <mutex>
#include <random>
#include <sstream>
#include <thread>

namespace touchpoint::store {
namespace {

class EventStoreTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tp_store_test_" + std::to_string(std::random_device{}()));
    Reopen();
  }
  void TearDown() override {
    {
      std::lock_guard lock(hold_mu_);
      hold_ = false;  // a test that stopped early must not leave the writer held
    }
    hold_cv_.notify_all();
    store_.reset();
    std::filesystem::remove_all(dir_);
  }
  void Reopen() { ReopenWith(StoreOptions{.synchronous_full = false}); }
  // Reopens the store on the same directory with these options.
  void ReopenWith(StoreOptions options) {
    store_.reset();
    options.data_dir = dir_.string();
    auto s = EventStore::Open(options, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  static SiteEvent Purchase(std::string event_id) {
    SiteEvent e;
    e.pixel_id = "P";
    e.event = "CompletePayment";
    e.event_id = std::move(event_id);
    e.event_time_ms = 1700000000000;
    return e;
  }
  std::vector<std::string> ExportLines() {
    std::vector<std::string> lines;
    Status st = store_->Export(ExportQuery{.pixel_id = "P"}, [&](std::string_view l) {
      lines.emplace_back(l);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return lines;
  }

  std::filesystem::path dir_;
  ManualClock clock_{1700000000000};
  std::unique_ptr<EventStore> store_;
  // A gate for before_group_for_testing: the writer waits while hold_ is true.
  std::mutex hold_mu_;
  std::condition_variable hold_cv_;
  bool hold_ = false;
};

TEST_F(EventStoreTest, SecondCopyWithin5MinutesIsMergedNotCounted) {
  SiteEvent pixel = Purchase("o1");
  pixel.user.ttp = "cookie";
  auto r1 = store_->Write({pixel});
  ASSERT_TRUE(r1.status.ok());
  EXPECT_EQ(r1.outcomes[0], WriteOutcome::kAccepted);
  clock_.Advance(4 * kMinuteMs);
  SiteEvent server = Purchase("o1");
  server.user.email_sha256 = {std::string(64, 'a')};
  server.value = 42;
  auto r2 = store_->Write({server});
  EXPECT_EQ(r2.outcomes[0], WriteOutcome::kMerged);
  EXPECT_EQ(r2.seqs[0], r1.seqs[0]);
  auto lines = ExportLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"ttp\":\"cookie\""), std::string::npos);
  EXPECT_NE(lines[0].find(std::string(64, 'a')), std::string::npos);
  EXPECT_NE(lines[0].find("\"value\":42"), std::string::npos);
}

TEST_F(EventStoreTest, CopyAfter5MinutesIsDroppedWithoutMerge) {
  ASSERT_TRUE(store_->Write({Purchase("o1")}).status.ok());
  clock_.Advance(5 * kMinuteMs + 1);
  SiteEvent late = Purchase("o1");
  late.user.ttp = "late-cookie";
  EXPECT_EQ(store_->Write({late}).outcomes[0], WriteOutcome::kDuplicate);
  auto lines = ExportLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(lines[0].find("late-cookie"), std::string::npos);
}

TEST_F(EventStoreTest, CopyAfter48HoursIsANewEvent) {
  ASSERT_TRUE(store_->Write({Purchase("o1")}).status.ok());
  clock_.Advance(kDedupWindowMs + 1);
  EXPECT_EQ(store_->Write({Purchase("o1")}).outcomes[0], WriteOutcome::kAccepted);
  EXPECT_EQ(ExportLines().size(), 2u);
}

TEST_F(EventStoreTest, DuplicatesInsideOneBatchAreCaught) {
  auto r = store_->Write({Purchase("o1"), Purchase("o1"), Purchase("o2")});
  ASSERT_TRUE(r.status.ok());
  EXPECT_EQ(r.outcomes, (std::vector<WriteOutcome>{WriteOutcome::kAccepted, WriteOutcome::kMerged,
                                                   WriteOutcome::kAccepted}));
}

TEST_F(EventStoreTest, AServerCopyReplacesAnEarlierBrowserCopyEvenAfter5Minutes) {
  // An anonymous beacon that guessed the purchase's event_id, with a made-up value.
  SiteEvent guess = Purchase("o1");
  guess.source = "pixel";
  guess.value = 1e9;
  guess.currency = "USD";
  guess.user.ttp = "cookie";
  guess.page_url = "https://shop.example/thanks";
  auto r1 = store_->Write({guess});
  ASSERT_EQ(r1.outcomes[0], WriteOutcome::kAccepted);
  clock_.Advance(kHourMs);
  SiteEvent server = Purchase("o1");
  server.source = "web";
  server.value = 42;
  server.currency = "EUR";
  server.event_time_ms = 1700000001000;
  server.user.email_sha256 = {std::string(64, 'a')};
  auto r2 = store_->Write({server});
  ASSERT_TRUE(r2.status.ok());
  EXPECT_EQ(r2.outcomes[0], WriteOutcome::kReplaced);
  EXPECT_EQ(r2.seqs[0], r1.seqs[0]);  // still one event
  auto lines = ExportLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"value\":42"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"currency\":\"EUR\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"source\":\"web\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"event_time\":1700000001"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"ttp\":\"cookie\""), std::string::npos);  // the browser's keys stay
  EXPECT_NE(lines[0].find(std::string(64, 'a')), std::string::npos);
  EXPECT_NE(lines[0].find("shop.example/thanks"), std::string::npos);
  EXPECT_EQ(lines[0].find("1000000000"), std::string::npos) << lines[0];

  // From now on the stored copy is the server's: another beacon changes nothing.
  SiteEvent again = guess;
  again.value = 7;
  EXPECT_EQ(store_->Write({again}).outcomes[0], WriteOutcome::kDuplicate);
  EXPECT_NE(ExportLines()[0].find("\"value\":42"), std::string::npos);
}

TEST_F(EventStoreTest, ABrowserCopyNeverOverridesOrCompletesAServerCopy) {
  SiteEvent server = Purchase("o1");
  server.source = "web";
  server.user.external_id_sha256 = {std::string(64, 'b')};
  ASSERT_EQ(store_->Write({server}).outcomes[0], WriteOutcome::kAccepted);
  clock_.Advance(kMinuteMs);
  SiteEvent browser = Purchase("o1");
  browser.source = "pixel";
  browser.value = 999;
  browser.currency = "USD";
  browser.user.ttclid = "CLK";
  auto r = store_->Write({browser});
  EXPECT_EQ(r.outcomes[0], WriteOutcome::kMerged);  // within 5 min: its match keys join
  auto lines = ExportLines();
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"ttclid\":\"CLK\""), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("999"), std::string::npos) << lines[0];
  EXPECT_EQ(lines[0].find("USD"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"source\":\"web\""), std::string::npos);
}

TEST_F(EventStoreTest, WhichCopyIsStoredSurvivesARestart) {
  SiteEvent guess = Purchase("o1");
  guess.source = "pixel";
  guess.value = 5;
  ASSERT_EQ(store_->Write({guess}).outcomes[0], WriteOutcome::kAccepted);
  SiteEvent server_first = Purchase("o2");
  server_first.source = "web";
  ASSERT_EQ(store_->Write({server_first}).outcomes[0], WriteOutcome::kAccepted);
  Reopen();  // the dedup window is rebuilt from the log, with who sent each stored copy
  clock_.Advance(kHourMs);
  SiteEvent server = Purchase("o1");
  server.source = "web";
  server.value = 42;
  EXPECT_EQ(store_->Write({server}).outcomes[0], WriteOutcome::kReplaced);
  SiteEvent late_server = Purchase("o2");
  late_server.source = "web";
  EXPECT_EQ(store_->Write({late_server}).outcomes[0], WriteOutcome::kDuplicate);
  auto lines = ExportLines();
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_NE(lines[0].find("\"value\":42"), std::string::npos) << lines[0];
}

TEST_F(EventStoreTest, TestEventsDeDuplicateApartFromRealOnes) {
  SiteEvent test = Purchase("o1");
  test.test_event_code = "TEST123";
  ASSERT_EQ(store_->Write({test}).outcomes[0], WriteOutcome::kAccepted);
  // The real event with the same event_id is not a duplicate of the test.
  EXPECT_EQ(store_->Write({Purchase("o1")}).outcomes[0], WriteOutcome::kAccepted);
  // Test events de-duplicate among themselves, per test code.
  EXPECT_EQ(store_->Write({test}).outcomes[0], WriteOutcome::kMerged);
  SiteEvent other = test;
  other.test_event_code = "TEST456";
  EXPECT_EQ(store_->Write({other}).outcomes[0], WriteOutcome::kAccepted);
  // And a test event arriving after the real one is not its duplicate either.
  SiteEvent test2 = Purchase("o2");
  ASSERT_EQ(store_->Write({test2}).outcomes[0], WriteOutcome::kAccepted);
  test2.test_event_code = "TEST123";
  EXPECT_EQ(store_->Write({test2}).outcomes[0], WriteOutcome::kAccepted);
  EXPECT_EQ(ExportLines().size(), 5u);
}

TEST_F(EventStoreTest, RestartRecoversEventsAndTheDedupWindow) {
  ASSERT_TRUE(store_->Write({Purchase("o1"), Purchase("o2")}).status.ok());
  Reopen();
  clock_.Advance(kHourMs);
  auto r = store_->Write({Purchase("o1"), Purchase("o3")});
  EXPECT_EQ(r.outcomes[0], WriteOutcome::kDuplicate);
  EXPECT_EQ(r.outcomes[1], WriteOutcome::kAccepted);
  EXPECT_EQ(r.seqs[1], 3u);  // seq numbering continues after restart
  EXPECT_EQ(ExportLines().size(), 3u);
}

TEST_F(EventStoreTest, PixelsCatalogAndSpendSurviveRestart) {
  auto p = store_->CreatePixel("shop", {});
  ASSERT_TRUE(p.ok());
  Catalog cat;
  cat.campaigns.push_back(Campaign{
      "c1",
      "C",
      {AdGroup{"g1", "G", 7, 1, CountMode::kOnce, {Ad{"a1", "A", "https://x.example", {}}}}}});
  ASSERT_TRUE(store_->PutCatalog(cat).ok());
  ASSERT_TRUE(store_->PutSpend({SpendRow{0, "a1", 10, "USD"}}).ok());
  Reopen();
  EXPECT_EQ(store_->FindPixelByToken(p->access_token)->pixel_id, p->pixel.pixel_id);
  EXPECT_EQ(*store_->GetCatalog(), cat);
  EXPECT_EQ(store_->GetSpend()->size(), 1u);
}

TEST_F(EventStoreTest, FullQueueRefusesWithRetryLater) {
  ReopenWith(StoreOptions{.synchronous_full = false, .max_queued_events = 10});
  // Hold the writer busy by queueing many batches at once; at least one must be refused.
  int refused = 0;
  std::atomic<int> done{0};
  int submitted = 0;
  for (int i = 0; i < 200; ++i) {
    std::vector<StoredEvent> batch;
    for (int j = 0; j < 5; ++j) batch.emplace_back(Purchase(std::to_string(i * 10 + j)));
    Status st = store_->Submit(std::move(batch), [&done](WriteResult) { done++; });
    if (st.code() == StatusCode::kResourceExhausted)
      ++refused;
    else if (st.ok())
      ++submitted;
  }
  store_->Close();
  EXPECT_GT(refused, 0);
  EXPECT_EQ(done.load(), submitted);  // every accepted submission got its answer
}

TEST_F(EventStoreTest, ARefusedSubmitLeavesItsCallbackWithTheCaller) {
  // The HTTP handlers move their responder into the callback and, when the store refuses, take
  // it back to answer with the refusal: the callback must still be there, never called.
  ReopenWith(StoreOptions{
      .synchronous_full = false, .max_queued_events = 2, .before_group_for_testing = [this] {
        std::unique_lock lock(hold_mu_);
        hold_cv_.wait(lock, [this] { return !hold_; });
      }});
  {
    std::lock_guard lock(hold_mu_);
    hold_ = true;
  }
  auto batch = [](const std::string& id) {
    std::vector<StoredEvent> b;
    b.emplace_back(Purchase(id));
    b.emplace_back(Purchase(id + "b"));
    return b;
  };
  std::atomic<int> called{0};
  auto marker = std::make_shared<int>(7);
  // The first batch fills the queue (its events count until committed; the writer is held).
  ASSERT_TRUE(store_->Submit(batch("a"), [&called](WriteResult) { called++; }).ok());
  WriteCallback refused = [&called, marker](WriteResult) { called += 100; };
  Status st = store_->Submit(batch("c"), std::move(refused));
  EXPECT_EQ(st.code(), StatusCode::kResourceExhausted);
  ASSERT_TRUE(refused) << "the refused callback was moved from";
  EXPECT_EQ(marker.use_count(), 2);  // still held by `refused`
  {
    std::lock_guard lock(hold_mu_);
    hold_ = false;
  }
  hold_cv_.notify_all();
  store_->Close();
  EXPECT_EQ(called.load(), 1);  // the accepted batch; never the refused one
  // Closed: refused again, and again left with the caller.
  st = store_->Submit(batch("d"), std::move(refused));
  EXPECT_EQ(st.code(), StatusCode::kUnavailable);
  ASSERT_TRUE(refused);
  refused(WriteResult{});
  EXPECT_EQ(called.load(), 101);
}

TEST_F(EventStoreTest, WalIsCheckpointedInTheBackgroundAndStaysBounded) {
  // About 80 MB of events through the writer, whose own automatic checkpoint is off: without the
  // checkpointer the WAL would hold all of it; with it, it stays within the restart bound plus
  // what one passive pass may leave behind.
  const std::string page(400, 'x');
  size_t written_bytes = 0;
  for (int b = 0; b < 160; ++b) {
    std::vector<StoredEvent> batch;
    for (int i = 0; i < 1000; ++i) {
      SiteEvent e = Purchase("");
      e.page_url = "https://shop.example/" + page + std::to_string(b * 1000 + i);
      written_bytes += e.page_url.size();
      batch.emplace_back(std::move(e));
    }
    auto r = store_->Write(std::move(batch));
    ASSERT_TRUE(r.status.ok()) << r.status.message();
  }
  const auto wal = dir_ / "touchpoint.db-wal";
  ASSERT_TRUE(std::filesystem::exists(wal));
  const size_t wal_bytes = std::filesystem::file_size(wal);
  const size_t bound =
      size_t{EventStore::kRestartPages + 2 * EventStore::kCheckpointPages} * EventStore::kPageBytes;
  EXPECT_GT(written_bytes, bound + bound / 4);  // a WAL holding everything would fail below
  EXPECT_LT(wal_bytes, bound) << "WAL " << wal_bytes << " bytes";
  // Everything is there, in the database file once the store is closed.
  store_->Close();
  EXPECT_GT(std::filesystem::file_size(dir_ / "touchpoint.db"), written_bytes);
  Reopen();
  size_t n = 0;
  Status st = store_->ScanAll([&](uint64_t, int64_t, const StoredEvent&) { ++n; });
  ASSERT_TRUE(st.ok()) << st.message();
  EXPECT_EQ(n, 160'000u);
}

TEST_F(EventStoreTest, CheckpointedPagesLeaveThePageCache) {
  // About 50 MB through the writer: the checkpoint passes copy it into the database file and then
  // drop what they synced from the page cache but the file's newest 4 MiB, so most of the file is
  // not resident (a store that kept it all cached would have all of it resident: the pages were
  // just written).
  ReopenWith(StoreOptions{.synchronous_full = false, .cached_tail_bytes = size_t{4} << 20});
  const std::string page(400, 'x');
  for (int b = 0; b < 100; ++b) {
    std::vector<StoredEvent> batch;
    for (int i = 0; i < 1000; ++i) {
      SiteEvent e = Purchase("");
      e.page_url = "https://shop.example/" + page + std::to_string(b * 1000 + i);
      batch.emplace_back(std::move(e));
    }
    auto r = store_->Write(std::move(batch));
    ASSERT_TRUE(r.status.ok()) << r.status.message();
  }
  ASSERT_GE(store_->Stats().checkpoint_passes, 2u);
  const std::string db = (dir_ / "touchpoint.db").string();
  int fd = ::open(db.c_str(), O_RDONLY);
  ASSERT_GE(fd, 0);
  const size_t size = std::filesystem::file_size(db);
  ASSERT_GT(size, size_t{30} << 20);
  void* map = ::mmap(nullptr, size, PROT_READ, MAP_SHARED, fd, 0);
  ASSERT_NE(map, MAP_FAILED);
  const size_t pages = (size + 4095) / 4096;
  std::vector<unsigned char> resident(pages);
  ASSERT_EQ(::mincore(map, size, resident.data()), 0);
  size_t n = 0, tail = 0;
  const size_t tail_pages = (size_t{4} << 20) / 4096;
  for (size_t i = 0; i < pages; ++i) {
    n += resident[i] & 1;
    if (i + tail_pages >= pages) tail += resident[i] & 1;
  }
  ::munmap(map, size);
  ::close(fd);
  EXPECT_LT(n, pages / 2) << n << " of " << pages
                          << " pages of the database file in the page cache";
  EXPECT_GT(tail, tail_pages / 2) << "of the newest 4 MiB, " << tail << " of " << tail_pages
                                  << " pages in the page cache";
}

TEST_F(EventStoreTest, CheckpointPassesFollowTheWalsGrowthNotEachCommit) {
  // 1,500 commits of one ~12 KB event each: every commit adds at most 4 pages to the WAL (the
  // row's leaf and overflow pages and the table's interior page), so at most 6,000 pages in all.
  // A checkpoint pass is due once the WAL holds kCheckpointPages pages, then each time it has
  // grown by kCheckpointStepPages, not after every commit once the WAL is past that size; before
  // each restart (the WAL at kRestartPages pages) up to kCatchUpPasses more passes shrink what the
  // restart copies.
  constexpr int kCommits = 1500;
  constexpr int kMaxPagesPerCommit = 4;
  const std::string filler(12000, 'x');
  for (int i = 0; i < kCommits; ++i) {
    SiteEvent e = Purchase("");
    e.page_url = "https://shop.example/" + filler + std::to_string(i);
    auto r = store_->Write({StoredEvent(std::move(e))});
    ASSERT_TRUE(r.status.ok()) << r.status.message();
  }
  store_->Close();  // waits for the checkpointer's pass in progress
  const uint64_t passes = store_->Stats().checkpoint_passes;
  const uint64_t restarts = store_->Stats().checkpoint_restarts;
  EXPECT_GE(passes, 1u);
  EXPECT_LE(restarts, uint64_t{kCommits * kMaxPagesPerCommit / EventStore::kRestartPages});
  EXPECT_LE(passes, kCommits * kMaxPagesPerCommit / EventStore::kCheckpointStepPages + 1 +
                        EventStore::kCatchUpPasses * restarts)
      << restarts << " restarts";
}

TEST_F(EventStoreTest, SmallGroupsAreAnsweredByTheWriterAndBigOnesHandedOn) {
  // Durable mode. One event, nothing in flight: synced and answered on the writer, no hand-off.
  // More than kInlineAckEvents: through the syncer and the acker. Both stored and answered.
  ReopenWith(StoreOptions{.synchronous_full = true});
  std::vector<StoredEvent> one;
  one.emplace_back(Purchase("small"));
  // The answer already sees its group counted (the counter is not bumped after the answer, where
  // a reader woken by it could miss it).
  std::promise<std::pair<WriteResult, uint64_t>> answered;
  ASSERT_TRUE(
      store_
          ->Submit(
              std::move(one),
              [&](WriteResult res) {
                answered.set_value({std::move(res), store_->Stats().groups_answered_by_writer});
              })
          .ok());
  auto [r, seen_in_answer] = answered.get_future().get();
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(seen_in_answer, 1u);
  EXPECT_EQ(store_->Stats().groups_answered_by_writer, 1u);
  std::vector<StoredEvent> big;
  for (size_t i = 0; i <= EventStore::kInlineAckEvents; ++i)
    big.emplace_back(Purchase("big" + std::to_string(i)));
  r = store_->Write(std::move(big));
  ASSERT_TRUE(r.status.ok()) << r.status.message();
  EXPECT_EQ(r.outcomes.size(), EventStore::kInlineAckEvents + 1);
  EXPECT_EQ(store_->Stats().groups_answered_by_writer, 1u);
  EXPECT_EQ(store_->Stats().commits, 2u);
  Reopen();
  size_t n = 0;
  ASSERT_TRUE(store_->ScanAll([&](uint64_t, int64_t, const StoredEvent&) { ++n; }).ok());
  EXPECT_EQ(n, EventStore::kInlineAckEvents + 2);
}

TEST(LatencyHistogram, BucketsHoldTheirUpperBound) {
  LatencyHistogram h;
  h.Observe(0.01);    // first bucket (<= 0.05 ms)
  h.Observe(0.05);    // still the first: bounds are inclusive, as Prometheus' "le"
  h.Observe(0.0501);  // the second
  h.Observe(30);      // (25, 50]
  h.Observe(1e6);     // above every bound
  EXPECT_EQ(h.counts[0], 2u);
  EXPECT_EQ(h.counts[1], 1u);
  const size_t b50 = std::find(h.kBoundsMs.begin(), h.kBoundsMs.end(), 50.0) - h.kBoundsMs.begin();
  EXPECT_EQ(h.counts[b50], 1u);
  EXPECT_EQ(h.counts.back(), 1u);
  EXPECT_EQ(h.count, 5u);
  EXPECT_DOUBLE_EQ(h.max_ms, 1e6);
  EXPECT_NEAR(h.sum_ms, 0.01 + 0.05 + 0.0501 + 30 + 1e6, 1e-6);
}

TEST_F(EventStoreTest, WriteLatencyIncludesTheWaitForTheWriter) {
  // Each answer holds the writer for 60 ms, and the next batch is submitted meanwhile: the second
  // and the third wait for the writer, and their write latencies say so, in the histogram and
  // (past slow_write_warn_ms) in the log, where two slow groups within a second give one warning.
  ReopenWith(StoreOptions{.synchronous_full = true, .slow_write_warn_ms = 30});
  std::ostringstream log;
  auto previous = spdlog::default_logger();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
      "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(log)));
  auto submit_holding = [&](const std::string& id) {
    auto holding = std::make_shared<std::promise<void>>();
    std::vector<StoredEvent> batch;
    batch.emplace_back(Purchase(id));
    EXPECT_TRUE(store_
                    ->Submit(std::move(batch),
                             [holding](WriteResult) {
                               holding->set_value();
                               std::this_thread::sleep_for(std::chrono::milliseconds(60));
                             })
                    .ok());
    holding->get_future().wait();  // its answer is being given: the writer is held
  };
  submit_holding("first");
  submit_holding("second");  // waits for the first's answer
  std::vector<StoredEvent> third;
  third.emplace_back(Purchase("third"));
  ASSERT_TRUE(store_->Write(std::move(third)).status.ok());  // waits for the second's
  const LatencyHistogram h = store_->Stats().write_latency;
  EXPECT_EQ(h.count, 3u);
  EXPECT_GE(h.max_ms, 40.0);
  uint64_t above_25ms = 0;
  for (size_t i = 0; i < h.kBoundsMs.size(); ++i)
    if (h.kBoundsMs[i] > 25) above_25ms += h.counts[i];
  above_25ms += h.counts.back();
  EXPECT_GE(above_25ms, 2u);
  spdlog::set_default_logger(previous);
  const std::string text = log.str();
  const size_t first = text.find("slow write: a request waited ");
  EXPECT_NE(first, std::string::npos) << text;
  EXPECT_EQ(text.find("slow write", first + 1), std::string::npos)
      << "at most one warning a second: " << text;
}

TEST_F(EventStoreTest, DurableModeAnswersEveryBatchInCommitOrderAfterTheSync) {
  ReopenWith(StoreOptions{.synchronous_full = true});
  std::mutex mu;
  std::vector<uint64_t> first_seqs;  // in the order the callbacks ran
  std::atomic<int> answered{0};
  std::vector<std::thread> senders;
  for (int t = 0; t < 4; ++t)
    senders.emplace_back([&, t] {
      for (int b = 0; b < 50; ++b) {
        std::vector<StoredEvent> batch;
        for (int i = 0; i < 20; ++i)
          batch.emplace_back(Purchase("t" + std::to_string(t) + "b" + std::to_string(b) + "i" +
                                      std::to_string(i)));
        Status st = store_->Submit(std::move(batch), [&](WriteResult r) {
          EXPECT_TRUE(r.status.ok()) << r.status.message();
          std::lock_guard lock(mu);
          if (!r.seqs.empty()) first_seqs.push_back(r.seqs.front());
          ++answered;
        });
        EXPECT_TRUE(st.ok()) << st.message();
      }
    });
  for (auto& t : senders) t.join();
  store_->Close();
  EXPECT_EQ(answered.load(), 200);
  ASSERT_EQ(first_seqs.size(), 200u);
  EXPECT_TRUE(std::is_sorted(first_seqs.begin(), first_seqs.end()));
  // Every batch's write, every commit and every sync counted once, each in one bucket.
  const StoreStats stats = store_->Stats();
  auto bucketed = [](const LatencyHistogram& h) {
    uint64_t n = 0;
    for (uint64_t c : h.counts) n += c;
    return n;
  };
  EXPECT_EQ(stats.write_latency.count, 200u);
  EXPECT_EQ(stats.commit_latency.count, stats.commits);
  EXPECT_GE(stats.sync_latency.count, 1u);
  EXPECT_LE(stats.sync_latency.count, stats.commits);  // one sync covers every commit before it
  for (const auto* h : {&stats.write_latency, &stats.commit_latency, &stats.sync_latency}) {
    EXPECT_EQ(bucketed(*h), h->count);
    EXPECT_GT(h->sum_ms, 0);
    EXPECT_LE(h->sum_ms, h->max_ms * static_cast<double>(h->count));
  }
  // A batch's write includes the commit and the sync it waited for.
  EXPECT_GE(stats.write_latency.max_ms, stats.sync_latency.max_ms);
  Reopen();
  size_t n = 0;
  ASSERT_TRUE(store_->ScanAll([&](uint64_t, int64_t, const StoredEvent&) { ++n; }).ok());
  EXPECT_EQ(n, 4000u);
}

}  // namespace
}  // namespace touchpoint::store
