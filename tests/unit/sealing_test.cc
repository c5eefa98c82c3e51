// Sealing the log into segments (store/segment.h) changes nothing a reader sees: exports are
// byte-for-byte the same before and after sealing and after a restart, late duplicates still
// merge into their sealed first copies, and the dedup window survives a restart from the
// segments' dedup tables.
#include <gtest/gtest.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <sstream>
#include <thread>

#include "store/event_store.h"

namespace touchpoint::store {
namespace {

namespace fs = std::filesystem;

const std::string kHashA(64, 'a');
const std::string kHashB = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

class SealingTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ =
        fs::temp_directory_path() / ("tp_sealing_test_" + std::to_string(std::random_device{}()));
    Reopen();
  }
  void TearDown() override {
    store_.reset();
    fs::remove_all(dir_);
  }
  void Reopen(size_t seal_events = 1000000) {
    store_.reset();
    StoreOptions options;
    options.data_dir = dir_.string();
    options.synchronous_full = false;
    options.seal_events = seal_events;
    auto s = EventStore::Open(options, &clock_);
    ASSERT_TRUE(s.ok()) << s.status().message();
    store_ = std::move(*s);
  }
  std::vector<std::string> Export(ExportQuery q) {
    std::vector<std::string> lines;
    Status st = store_->Export(q, [&](std::string_view l) {
      lines.emplace_back(l);
      return true;
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return lines;
  }
  // Every export a client can ask for here, concatenated.
  std::vector<std::string> AllExports() {
    std::vector<std::string> all;
    for (const ExportQuery& q :
         {ExportQuery{}, ExportQuery{.pixel_id = "P1"}, ExportQuery{.pixel_id = "P2"},
          ExportQuery{.ads = true},
          ExportQuery{.from_ms = 1700000000000 + 3 * 60000, .to_ms = 1700000000000 + 9 * 60000},
          ExportQuery{.ads = true, .from_ms = 1700000000000 + 60000}}) {
      auto lines = Export(q);
      all.push_back("-- query");
      all.insert(all.end(), lines.begin(), lines.end());
    }
    return all;
  }
  int64_t LogRows() {
    sqlite3* db = nullptr;
    EXPECT_EQ(sqlite3_open((dir_ / "touchpoint.db").c_str(), &db), SQLITE_OK);
    sqlite3_stmt* q = nullptr;
    sqlite3_prepare_v2(db, "SELECT count(*) FROM events", -1, &q, nullptr);
    int64_t n = sqlite3_step(q) == SQLITE_ROW ? sqlite3_column_int64(q, 0) : -1;
    sqlite3_finalize(q);
    sqlite3_close(db);
    return n;
  }
  size_t SegmentFiles() {
    size_t n = 0;
    if (fs::exists(dir_ / "segments"))
      for (const auto& e : fs::directory_iterator(dir_ / "segments"))
        n += e.path().extension() == ".tps";
    return n;
  }

  fs::path dir_;
  ManualClock clock_{1700000000000};
  std::unique_ptr<EventStore> store_;
};

SiteEvent Site(const std::string& pixel, const std::string& event, const std::string& id, int i) {
  SiteEvent e;
  e.pixel_id = pixel;
  e.source = i % 3 == 0 ? "pixel" : i % 3 == 1 ? "web" : "";
  e.event = event;
  e.event_id = id;
  e.event_time_ms = 1700000000000 + i * 60000 + i;
  return e;
}

// A varied store: site events with every field, contents, values, test events, ad events of
// all types, merged and replaced duplicates.
void WriteVaried(EventStore& store, ManualClock& clock) {
  std::vector<StoredEvent> batch;
  for (int i = 0; i < 12; ++i) {
    SiteEvent e = Site(i % 2 ? "P1" : "P2", i % 4 ? "CompletePayment" : "PageView",
                       "ev-" + std::to_string(i), i);
    if (i % 5 == 0) e.test_event_code = "TEST42";
    e.user.ttclid = "clk-" + std::to_string(i);
    e.user.ttp = "ttp." + std::to_string(i);
    if (i % 2) e.user.email_sha256 = {kHashA, kHashB};
    if (i % 3) e.user.phone_sha256 = {kHashB};
    e.user.external_id_sha256 = {kHashA};
    e.user.ip = "198.51.100.0";
    e.user.user_agent = "Mozilla/5.0 (X11) \"q\" \\ é";
    e.user.locale = "de-DE";
    if (i % 4) e.value = 19.99 * i;
    e.currency = "EUR";
    e.order_id = i % 3 ? "ord-" + std::to_string(i) : "";
    e.content_type = "product";
    e.query = "red shoes";
    e.description = "tab\there";
    if (i % 4) {
      e.contents.push_back(
          ContentItem{"sku-" + std::to_string(i), "Shoe", "shoes", "product", "Acme", 9.5, 3});
      e.contents.push_back(ContentItem{"sku-x", "", "", "", "", std::nullopt, std::nullopt});
    }
    e.page_url = "https://shop.example/p?i=" + std::to_string(i);
    e.page_referrer = i % 2 ? "https://ads.example/" : "";
    if (i % 3 == 1) {  // the Events API 2.0 fields, on some events only
      e.user.first_name_sha256 = kHashA;
      e.user.last_name_sha256 = kHashB;
      e.user.zip_code_sha256 = kHashA;
      e.user.city_sha256 = kHashB;
      e.user.state_sha256 = kHashA;
      e.user.country_sha256 = kHashB;
      e.shop_id = "shop-1";
      e.num_items = i;
      e.predicted_ltv = 99.5;
      e.partner_name = "MyServer";
      e.lead_id = "7291234567890123456";
      e.lead_event_source = "HubSpot";
      e.app_id = "com.shop";
      e.app_name = "Shop";
      e.app_version = "2.1";
      e.device_platform = "Android";
      e.device_model = "Pixel";
      e.device_mobile = i % 2 == 0;
    }
    e.limited_data_use = i % 4 == 2;
    batch.push_back(e);
  }
  for (int i = 0; i < 9; ++i) {
    AdEvent a;
    a.type = static_cast<AdEventType>(i % 3);
    a.event_id = i % 2 ? "ad-ev-" + std::to_string(i) : "";
    a.ad_id = "ad-" + std::to_string(i % 4);
    a.event_time_ms = 1700000000000 + i * 30000;
    a.user_key = "uk-" + std::to_string(i);
    if (a.type == AdEventType::kClick) a.click_id = "clk-" + std::to_string(i);
    if (a.type == AdEventType::kVideoPlay) {
      a.watch_ms = 1234 * i;
      a.video_ms = 30000;
    }
    if (i % 2) a.email_sha256 = {kHashB};
    if (i % 3) a.phone_sha256 = {kHashA};
    a.age = "25-34";
    a.gender = i % 2 ? "female" : "unknown";
    a.country = "DE";
    a.region = "BE";
    a.placement = "feed";
    a.os = "android";
    a.device = "phone";
    batch.push_back(a);
  }
  ASSERT_TRUE(store.Write(std::move(batch)).status.ok());
  // A merged duplicate (a server copy within 5 min adds keys and a value) and a replaced one (a
  // server copy of a browser copy, later).
  clock.Advance(kMinuteMs);
  SiteEvent merge = Site("P1", "CompletePayment", "ev-1", 1);
  merge.user.ttclid = "other";
  merge.user.email_sha256 = {std::string(64, 'c')};
  SiteEvent replace = Site("P2", "PageView", "ev-0", 0);
  replace.source = "web";
  replace.value = 77;
  replace.event_time_ms = 1700000000000 + 4 * 60000;
  auto r = store.Write({merge, replace});
  ASSERT_TRUE(r.status.ok());
  ASSERT_EQ(r.outcomes[0], WriteOutcome::kMerged);
}

TEST_F(SealingTest, ExportIsByteForByteTheSameAfterSealingAndAfterARestart) {
  WriteVaried(*store_, clock_);
  const auto before = AllExports();
  ASSERT_GT(before.size(), 30u);
  // The export carries the Events API 2.0 fields (so the comparison below covers them).
  std::string joined;
  for (const auto& l : before) joined += l + "\n";
  for (const char* field :
       {"\"first_name\":\"", "\"country\":\"", "\"shop_id\":\"shop-1\"", "\"num_items\":4",
        "\"predicted_ltv\":99.5", "\"partner_name\":\"MyServer\"",
        "\"lead\":{\"lead_id\":\"7291234567890123456\",\"lead_event_source\":\"HubSpot\"}",
        "\"app\":{\"app_id\":\"com.shop\",\"app_name\":\"Shop\",\"app_version\":\"2.1\"}",
        "\"device\":{\"platform\":\"Android\",\"model\":\"Pixel\",\"mobile\":true}",
        "\"limited_data_use\":true"})
    EXPECT_NE(joined.find(field), std::string::npos) << field;
  std::vector<uint64_t> scanned_before;
  ASSERT_TRUE(store_
                  ->ScanAll([&](uint64_t seq, int64_t, const StoredEvent&) {
                    scanned_before.push_back(seq);
                  })
                  .ok());

  ASSERT_TRUE(store_->SealNow().ok());
  EXPECT_EQ(SegmentFiles(), 1u);
  EXPECT_EQ(LogRows(), 0);  // the log holds only the (empty) tail
  EXPECT_EQ(AllExports(), before);

  Reopen();
  EXPECT_EQ(AllExports(), before);
  std::vector<uint64_t> scanned_after;
  ASSERT_TRUE(store_
                  ->ScanAll([&](uint64_t seq, int64_t, const StoredEvent&) {
                    scanned_after.push_back(seq);
                  })
                  .ok());
  EXPECT_EQ(scanned_after, scanned_before);
}

TEST_F(SealingTest, SegmentsAndTailAreReadAsOneSequence) {
  WriteVaried(*store_, clock_);
  ASSERT_TRUE(store_->SealNow().ok());
  // More events after the seal, in the log's tail.
  ASSERT_TRUE(store_->Write({Site("P1", "Lead", "late-1", 2), Site("P2", "Lead", "late-2", 3)})
                  .status.ok());
  const auto lines = Export(ExportQuery{});
  ASSERT_GE(lines.size(), 14u);
  EXPECT_NE(lines[lines.size() - 2].find("late-1"), std::string::npos);
  EXPECT_NE(lines.back().find("late-2"), std::string::npos);
  const auto before = AllExports();
  Reopen();
  EXPECT_EQ(AllExports(), before);
}

TEST_F(SealingTest, LateDuplicateMergesIntoASealedFirstCopy) {
  SiteEvent browser = Site("P1", "CompletePayment", "o1", 1);
  browser.source = "pixel";
  browser.value = 1e9;
  browser.user.ttp = "cookie";
  auto r1 = store_->Write({browser});
  ASSERT_EQ(r1.outcomes[0], WriteOutcome::kAccepted);
  ASSERT_TRUE(store_->SealNow().ok());
  ASSERT_EQ(LogRows(), 0);

  clock_.Advance(kHourMs);
  SiteEvent server = Site("P1", "CompletePayment", "o1", 1);
  server.source = "web";
  server.value = 42;
  server.user.email_sha256 = {kHashA};
  auto r2 = store_->Write({server});
  ASSERT_EQ(r2.outcomes[0], WriteOutcome::kReplaced);
  EXPECT_EQ(r2.seqs[0], r1.seqs[0]);
  EXPECT_EQ(store_->Stats().amendments, 1u);
  auto lines = Export(ExportQuery{});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"value\":42"), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find("\"ttp\":\"cookie\""), std::string::npos) << lines[0];
  EXPECT_NE(lines[0].find(kHashA), std::string::npos) << lines[0];

  // After a restart the amendment still wins, and the stored copy is known to be the server's:
  // a browser copy is a plain duplicate now (found through the segment's dedup table).
  Reopen();
  EXPECT_EQ(Export(ExportQuery{}), lines);
  SiteEvent again = browser;
  again.value = 7;
  auto r3 = store_->Write({again});
  EXPECT_EQ(r3.outcomes[0], WriteOutcome::kDuplicate);
  EXPECT_EQ(r3.seqs[0], r1.seqs[0]);
  EXPECT_EQ(Export(ExportQuery{}), lines);
  int scanned = 0;
  ASSERT_TRUE(store_
                  ->ScanAll([&](uint64_t, int64_t, const StoredEvent& ev) {
                    ++scanned;
                    EXPECT_EQ(std::get<SiteEvent>(ev).value, 42);
                  })
                  .ok());
  EXPECT_EQ(scanned, 1);
}

TEST_F(SealingTest, MergeWithin5MinutesIntoASealedCopyAfterARestart) {
  SiteEvent server = Site("P1", "CompletePayment", "o1", 1);
  server.source = "web";
  ASSERT_EQ(store_->Write({server}).outcomes[0], WriteOutcome::kAccepted);
  ASSERT_TRUE(store_->SealNow().ok());
  Reopen();
  clock_.Advance(2 * kMinuteMs);
  SiteEvent browser = server;
  browser.source = "pixel";
  browser.user.ttclid = "CLK";
  EXPECT_EQ(store_->Write({browser}).outcomes[0], WriteOutcome::kMerged);
  auto lines = Export(ExportQuery{});
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_NE(lines[0].find("\"ttclid\":\"CLK\""), std::string::npos) << lines[0];
}

TEST_F(SealingTest, DedupWindowSurvivesARestartFromSegmentsAlone) {
  std::vector<StoredEvent> batch;
  for (int i = 0; i < 500; ++i) batch.push_back(Site("P1", "Purchase", "e" + std::to_string(i), i));
  ASSERT_TRUE(store_->Write(std::move(batch)).status.ok());
  ASSERT_TRUE(store_->SealNow().ok());
  Reopen();
  clock_.Advance(47 * kHourMs);
  auto r = store_->Write({Site("P1", "Purchase", "e123", 0), Site("P1", "Purchase", "new", 0)});
  EXPECT_EQ(r.outcomes[0], WriteOutcome::kDuplicate);
  EXPECT_EQ(r.seqs[0], 124u);
  EXPECT_EQ(r.outcomes[1], WriteOutcome::kAccepted);
  EXPECT_EQ(r.seqs[1], 501u);   // seqs continue after the sealed ones
  clock_.Advance(2 * kHourMs);  // past 48 h: a new event
  EXPECT_EQ(store_->Write({Site("P1", "Purchase", "e124", 0)}).outcomes[0],
            WriteOutcome::kAccepted);
}

TEST_F(SealingTest, TheSealerSealsCompleteRunsInTheBackground) {
  Reopen(/*seal_events=*/100);
  for (int b = 0; b < 7; ++b) {
    std::vector<StoredEvent> batch;
    for (int i = 0; i < 50; ++i)
      batch.push_back(Site("P1", "PageView", "b" + std::to_string(b * 50 + i), i));
    ASSERT_TRUE(store_->Write(std::move(batch)).status.ok());
  }
  // Runs whose events may still merge (within 5 minutes) stay in the log.
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(store_->Stats().sealed_seq, 0u);
  clock_.Advance(kMergeWindowMs + 1);
  ASSERT_TRUE(store_->Write({Site("P1", "PageView", "last", 0)}).status.ok());  // wakes it
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (store_->Stats().sealed_seq < 300 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  EXPECT_EQ(store_->Stats().sealed_seq, 300u);
  EXPECT_EQ(store_->Stats().segments, 3u);
  EXPECT_EQ(Export(ExportQuery{}).size(), 351u);
  store_.reset();  // Close seals complete runs only: the 51 left stay in the log
  EXPECT_EQ(SegmentFiles(), 3u);
  EXPECT_EQ(LogRows(), 51);
  Reopen(100);
  EXPECT_EQ(Export(ExportQuery{}).size(), 351u);
}

TEST_F(SealingTest, ACrashBetweenRenameAndDeleteIsHarmless) {
  WriteVaried(*store_, clock_);
  store_.reset();
  const fs::path before_seal = dir_.string() + "_before";
  fs::copy(dir_, before_seal, fs::copy_options::recursive);
  Reopen();
  const auto exports = AllExports();
  ASSERT_TRUE(store_->SealNow().ok());
  store_.reset();
  // The segment is in place, but the log and its manifest are as before the seal: a crash
  // right after the rename.
  for (const char* name : {"touchpoint.db", "touchpoint.db-marker"})
    fs::copy_file(before_seal / name, dir_ / name, fs::copy_options::overwrite_existing);
  fs::remove_all(before_seal);
  ASSERT_GT(LogRows(), 0);
  Reopen();
  EXPECT_EQ(AllExports(), exports);  // each event once
  EXPECT_EQ(LogRows(), 0);
}

TEST_F(SealingTest, SealedRowsGiveTheirPagesBack) {
  std::vector<StoredEvent> batch;
  for (int i = 0; i < 20000; ++i) {
    SiteEvent e = Site("P1", "PageView", "pv" + std::to_string(i), i);
    e.page_url = "https://shop.example/a/long/path/" + std::to_string(i);
    e.user.user_agent = "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/120.0";
    batch.push_back(std::move(e));
  }
  ASSERT_TRUE(store_->Write(std::move(batch)).status.ok());
  store_.reset();  // checkpoints the log into the database file
  const auto unsealed = fs::file_size(dir_ / "touchpoint.db");
  Reopen();
  ASSERT_TRUE(store_->SealNow().ok());
  store_.reset();
  const auto sealed_db = fs::file_size(dir_ / "touchpoint.db");
  EXPECT_LT(sealed_db * 5, unsealed) << sealed_db << " vs " << unsealed;
  uint64_t segment_bytes = 0;
  for (const auto& e : fs::directory_iterator(dir_ / "segments")) segment_bytes += e.file_size();
  EXPECT_LT(segment_bytes * 10, unsealed) << segment_bytes << " vs " << unsealed;
}

}  // namespace
}  // namespace touchpoint::store
