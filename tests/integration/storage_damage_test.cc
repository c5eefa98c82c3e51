// Damaged or missing storage files are not silent: for each file of the data directory, a
// directory holding 10,000 acknowledged events, the last 6,000 of them in the WAL only, is
// damaged; the store must refuse to open with a message naming the file and the missing seq
// range, open with `recover` and log exactly what was lost, and open cleanly after that. Also no
// false alarm: a clean stop, a killed process, --no-fsync.
//
// The killed process's files are taken by copying them while the store that wrote them is still
// open and idle (every write answered): what SIGKILL leaves is the files as they are in the page
// cache at that moment, which is what a copy reads. (crash_test kills the real binary under
// load and restarts it, five times: the no-false-alarm check under load.)
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <spdlog/sinks/ostream_sink.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <thread>

#include "store/commit_marker.h"
#include "store/event_store.h"
#include "store/segment.h"

extern char** environ;

namespace touchpoint::store {
namespace {

namespace fs = std::filesystem;

constexpr int kBatch = 500;

SiteEvent Purchase(int n) {
  SiteEvent e;
  e.pixel_id = "P";
  e.event = "CompletePayment";
  e.event_id = "e" + std::to_string(n);
  e.event_time_ms = 1700000000000;
  return e;
}

// Writes events first..last (1-based numbers, in batches of kBatch), each batch acknowledged.
void WriteEvents(EventStore& store, int first, int last) {
  for (int n = first; n <= last; n += kBatch) {
    std::vector<StoredEvent> batch;
    for (int i = n; i < n + kBatch && i <= last; ++i) batch.push_back(Purchase(i));
    WriteResult r = store.Write(std::move(batch));
    ASSERT_TRUE(r.status.ok()) << r.status.message();
  }
}

// The files a killed process would leave: everything but the -shm index (rebuilt from the WAL).
void CopyStoreFiles(const fs::path& from, const fs::path& to) {
  fs::create_directories(to);
  for (const char* name : {"touchpoint.db", "touchpoint.db-wal", "touchpoint.db-marker"})
    if (fs::exists(from / name)) fs::copy_file(from / name, to / name);
}

void FlipByte(const fs::path& file, uint64_t offset) {
  std::fstream f(file, std::ios::in | std::ios::out | std::ios::binary);
  f.seekg(static_cast<std::streamoff>(offset));
  char c = 0;
  f.get(c);
  f.seekp(static_cast<std::streamoff>(offset));
  f.put(static_cast<char>(c ^ 0x5A));
  ASSERT_TRUE(f.good()) << file;
}

StoreOptions Options(const fs::path& dir, bool synchronous_full = true, bool recover = false) {
  StoreOptions options;
  options.data_dir = dir.string();
  options.synchronous_full = synchronous_full;
  options.recover = recover;
  return options;
}

// Captures the default logger's output while alive.
class LogCapture {
 public:
  LogCapture() : previous_(spdlog::default_logger()) {
    spdlog::set_default_logger(std::make_shared<spdlog::logger>(
        "capture", std::make_shared<spdlog::sinks::ostream_sink_mt>(out_)));
  }
  ~LogCapture() { spdlog::set_default_logger(previous_); }
  std::string text() const { return out_.str(); }

 private:
  std::shared_ptr<spdlog::logger> previous_;
  std::ostringstream out_;
};

class StorageDamageTest : public ::testing::Test {
 protected:
  // The directory a process killed after acknowledging 10,000 events leaves: seq 1-4000 in
  // touchpoint.db (written, then a clean stop checkpointed them), 4001-10000 in the WAL only.
  // Built once; each test damages a copy.
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("tp_damage_" + std::to_string(std::random_device{}()));
    const fs::path live = root_ / "live";
    ManualClock clock(1700000000000);
    const StoreOptions options = Options(live);
    {
      auto store = EventStore::Open(options, &clock);
      ASSERT_TRUE(store.ok()) << store.status().message();
      WriteEvents(**store, 1, 4000);
    }
    ASSERT_FALSE(fs::exists(live / "touchpoint.db-wal")) << "a clean stop removes the WAL";
    auto store = EventStore::Open(options, &clock);
    ASSERT_TRUE(store.ok()) << store.status().message();
    WriteEvents(**store, 4001, 7000);
    wal_bytes_at_7000_ = fs::file_size(live / "touchpoint.db-wal");
    WriteEvents(**store, 7001, 10000);
    // The offsets below assume that the WAL was only appended to (no checkpoint started it over).
    ASSERT_EQ((*store)->Stats().checkpoint_passes, 0u);
    ASSERT_GT(fs::file_size(live / "touchpoint.db-wal"), wal_bytes_at_7000_);
    CopyStoreFiles(live, root_ / "killed");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    dir_ = root_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    CopyStoreFiles(root_ / "killed", dir_);
  }

  StatusOr<std::unique_ptr<EventStore>> Open(bool recover, bool synchronous_full = true) {
    return EventStore::Open(Options(dir_, synchronous_full, recover), &clock_);
  }
  // Opening refuses; returns the message.
  std::string Refusal() {
    auto store = Open(/*recover=*/false);
    EXPECT_FALSE(store.ok()) << "opened a damaged directory without complaint";
    return store.ok() ? "" : store.status().message();
  }
  // The stored events' seqs are 1..n without a gap: returns n (or -1 on a gap).
  static int64_t DenseCount(const EventStore& store) {
    int64_t n = 0;
    bool dense = true;
    Status st = store.ScanAll([&](uint64_t seq, int64_t, const StoredEvent&) {
      dense &= seq == static_cast<uint64_t>(++n);
    });
    EXPECT_TRUE(st.ok()) << st.message();
    return dense ? n : -1;
  }
  // Opens with recover=true, expecting `count` events to survive; returns the log.
  std::string Recover(int64_t count) {
    LogCapture log;
    auto store = Open(/*recover=*/true);
    EXPECT_TRUE(store.ok()) << store.status().message();
    if (store.ok()) {
      EXPECT_EQ(DenseCount(**store), count);
    }
    return log.text();
  }
  // After a recovery: the next open is clean and holds the same events, plus new ones.
  void ExpectCleanAfterRecovery(int64_t count) {
    {
      LogCapture log;
      auto store = Open(/*recover=*/false);
      ASSERT_TRUE(store.ok()) << store.status().message();
      EXPECT_EQ(DenseCount(**store), count);
      // New events continue at the next seq.
      WriteResult r = (*store)->Write({Purchase(20000)});
      ASSERT_TRUE(r.status.ok());
      EXPECT_EQ(r.seqs[0], static_cast<uint64_t>(count + 1));
      EXPECT_EQ(log.text().find("warn"), std::string::npos) << log.text();
    }
    auto store = Open(/*recover=*/false);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ(DenseCount(**store), count + 1);
  }
  // The whole cycle for damage that loses events or leaves them unverifiable: opening refuses
  // with `refusal` (twice: a refused start changes nothing); recover keeps `kept` events and
  // logs `logged`; the next open is clean.
  void ExpectRefusedThenRecovered(const std::string& refusal, int64_t kept,
                                  const std::string& logged) {
    EXPECT_EQ(Refusal(), refusal);
    EXPECT_EQ(Refusal(), refusal);
    std::string log = Recover(kept);
    EXPECT_NE(log.find(logged), std::string::npos) << log;
    ExpectCleanAfterRecovery(kept);
  }
  std::string File(const char* name) const { return (dir_ / name).string(); }

  static fs::path root_;
  static uint64_t wal_bytes_at_7000_;
  fs::path dir_;
  ManualClock clock_{1700000000000};
};

fs::path StorageDamageTest::root_;
uint64_t StorageDamageTest::wal_bytes_at_7000_ = 0;

TEST_F(StorageDamageTest, KilledProcessFilesOpenWithoutAlarm) {
  LogCapture log;
  auto store = Open(/*recover=*/false);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(DenseCount(**store), 10000);
  EXPECT_EQ(log.text().find("warn"), std::string::npos) << log.text();
}

TEST_F(StorageDamageTest, TruncatedWalIsRefusedNamingTheMissingRange) {
  fs::resize_file(dir_ / "touchpoint.db-wal", wal_bytes_at_7000_);
  const std::string problem = File("touchpoint.db-wal") +
                              ": damaged or truncated: the log ends at seq 7000 but seq 10000 "
                              "was committed (3000 acknowledged events missing)";
  EXPECT_EQ(Refusal(), problem + "; start with --recover to accept the loss");
  // The refusal left the WAL as it was (SQLite deletes a WAL when its last connection closes).
  EXPECT_EQ(fs::file_size(dir_ / "touchpoint.db-wal"), wal_bytes_at_7000_);
  ExpectRefusedThenRecovered(
      problem + "; start with --recover to accept the loss", 7000,
      "--recover: accepting the loss of seq 7001..10000 (3000 acknowledged events): " + problem);
}

TEST_F(StorageDamageTest, TruncationInsideAFrameLosesFromThatCommitOn) {
  fs::resize_file(dir_ / "touchpoint.db-wal", wal_bytes_at_7000_ + 1000);
  EXPECT_NE(Refusal().find("the log ends at seq 7000 but seq 10000 was committed (3000 "
                           "acknowledged events missing)"),
            std::string::npos);
}

TEST_F(StorageDamageTest, FlippedBytesInTheWalAreRefusedNamingTheMissingRange) {
  // Inside the page of the first frame written after event 7000 (24-byte frame header).
  FlipByte(dir_ / "touchpoint.db-wal", wal_bytes_at_7000_ + 24 + 5000);
  ExpectRefusedThenRecovered(File("touchpoint.db-wal") +
                                 ": damaged or truncated: the log ends at seq 7000 but seq 10000 "
                                 "was committed (3000 acknowledged events missing); start with "
                                 "--recover to accept the loss",
                             7000,
                             "accepting the loss of seq 7001..10000 (3000 acknowledged events)");
}

TEST_F(StorageDamageTest, DeletedWalIsRefusedNamingTheMissingRange) {
  fs::remove(dir_ / "touchpoint.db-wal");
  ExpectRefusedThenRecovered(File("touchpoint.db-wal") +
                                 ": missing: the database holds events up to seq 4000 but seq "
                                 "10000 was committed (6000 acknowledged events missing); start "
                                 "with --recover to accept the loss",
                             4000,
                             "accepting the loss of seq 4001..10000 (6000 acknowledged events): " +
                                 File("touchpoint.db-wal") + ": missing");
}

TEST_F(StorageDamageTest, DeletedDatabaseIsRefusedWithoutCreatingOne) {
  fs::remove(dir_ / "touchpoint.db");
  const std::string refusal = File("touchpoint.db") +
                              ": missing, but seq 10000 was committed (10000 acknowledged events "
                              "missing); start with --recover to accept the loss";
  EXPECT_EQ(Refusal(), refusal);
  EXPECT_FALSE(fs::exists(dir_ / "touchpoint.db"));
  ExpectRefusedThenRecovered(refusal, 0,
                             "accepting the loss of seq 1..10000 (10000 acknowledged events): " +
                                 File("touchpoint.db") + ": missing");
  // The WAL left without its database was moved aside, not applied to the new one.
  EXPECT_TRUE(fs::exists(dir_ / "touchpoint.db-wal.orphaned"));
}

TEST_F(StorageDamageTest, DatabaseReplacedByAnOlderCopyIsBlamedNotTheWal) {
  // A database that had seq 1-4000 checkpointed into it, replaced by an empty one (e.g. a
  // restore of an old backup), its WAL removed as the backup instructions say.
  fs::remove(dir_ / "touchpoint.db");
  fs::remove(dir_ / "touchpoint.db-wal");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "touchpoint.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "CREATE TABLE events(seq INTEGER PRIMARY KEY); CREATE TABLE meta(key)",
                     nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  EXPECT_EQ(Refusal(), File("touchpoint.db") +
                           ": damaged or replaced: it holds events up to seq 0 but seq 4000 had "
                           "been checkpointed into it and seq 10000 was committed (10000 "
                           "acknowledged events missing); start with --recover to accept the "
                           "loss");
}

TEST_F(StorageDamageTest, DamagedMarkerIsRefused) {
  FlipByte(dir_ / "touchpoint.db-marker", 20);
  FlipByte(dir_ / "touchpoint.db-marker", CommitMarker::kSlotStride + 20);
  ExpectRefusedThenRecovered(
      File("touchpoint.db-marker") +
          ": damaged (neither copy has a valid checksum): cannot tell whether acknowledged events "
          "are missing; the database holds events up to seq 10000; start with --recover to "
          "accept the loss",
      10000, "--recover: accepting the database as it is, events up to seq 10000");
}

TEST_F(StorageDamageTest, OneDamagedMarkerCopyFallsBackToTheOther) {
  // A write torn by a power loss damages one copy; the other still holds a valid (older) record.
  auto before = CommitMarker::Read(File("touchpoint.db-marker"));
  ASSERT_TRUE(before.ok());
  ASSERT_EQ(before->state, CommitMarker::State::kValid);
  FlipByte(dir_ / "touchpoint.db-marker", 20);
  auto after = CommitMarker::Read(File("touchpoint.db-marker"));
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->state, CommitMarker::State::kValid);
  auto store = Open(/*recover=*/false);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(DenseCount(**store), 10000);
}

TEST_F(StorageDamageTest, DeletedMarkerIsRefused) {
  fs::remove(dir_ / "touchpoint.db-marker");
  ExpectRefusedThenRecovered(
      File("touchpoint.db-marker") +
          ": missing, but this database was written with one: cannot tell whether acknowledged "
          "events are missing; the database holds events up to seq 10000; start with --recover "
          "to accept the loss",
      10000, "--recover: accepting the database as it is, events up to seq 10000");
}

TEST_F(StorageDamageTest, DatabaseFromBeforeMarkersOpensAndStartsOne) {
  fs::remove(dir_ / "touchpoint.db-marker");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "touchpoint.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(
        sqlite3_exec(db, "DELETE FROM meta WHERE key = 'commit_marker'", nullptr, nullptr, nullptr),
        SQLITE_OK);
    sqlite3_close(db);
  }
  {
    auto store = Open(/*recover=*/false);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ(DenseCount(**store), 10000);
  }
  auto marker = CommitMarker::Read(File("touchpoint.db-marker"));
  ASSERT_TRUE(marker.ok());
  ASSERT_EQ(marker->state, CommitMarker::State::kValid);
  EXPECT_EQ(marker->record, (MarkerRecord{.committed_seq = 10000, .checkpointed_seq = 10000}));
  // From now on a lost WAL is noticed.
  fs::remove(dir_ / "touchpoint.db-marker");
  EXPECT_NE(Refusal().find("touchpoint.db-marker: missing"), std::string::npos);
}

TEST_F(StorageDamageTest, CleanStopLeavesNoWalAndAnExactMarker) {
  {
    auto store = Open(/*recover=*/false);
    ASSERT_TRUE(store.ok()) << store.status().message();
    WriteEvents(**store, 10001, 10500);
  }
  EXPECT_FALSE(fs::exists(dir_ / "touchpoint.db-wal"));
  auto marker = CommitMarker::Read(File("touchpoint.db-marker"));
  ASSERT_TRUE(marker.ok());
  EXPECT_EQ(marker->record, (MarkerRecord{.committed_seq = 10500, .checkpointed_seq = 10500}));
  auto store = Open(/*recover=*/false);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(DenseCount(**store), 10500);
}

// --no-fsync: the marker follows every commit (what an acknowledgement means there).
TEST_F(StorageDamageTest, NoFsyncModeOpensCleanlyAndStillNoticesALostWal) {
  fs::remove_all(dir_);
  const fs::path live = dir_.string() + "_live", no_wal = dir_.string() + "_no_wal";
  const StoreOptions options = Options(live, /*synchronous_full=*/false);
  {
    auto store = EventStore::Open(options, &clock_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    WriteEvents(**store, 1, 1000);
  }
  {
    auto store = EventStore::Open(options, &clock_);
    ASSERT_TRUE(store.ok()) << store.status().message();
    WriteEvents(**store, 1001, 2500);
    CopyStoreFiles(live, dir_);  // as a kill would leave them
    CopyStoreFiles(live, no_wal);
  }
  {
    LogCapture log;
    auto after_clean_stop = EventStore::Open(options, &clock_);
    ASSERT_TRUE(after_clean_stop.ok()) << after_clean_stop.status().message();
    EXPECT_EQ(DenseCount(**after_clean_stop), 2500);
    auto after_kill = Open(/*recover=*/false, /*synchronous_full=*/false);
    ASSERT_TRUE(after_kill.ok()) << after_kill.status().message();
    EXPECT_EQ(DenseCount(**after_kill), 2500);
    EXPECT_EQ(log.text().find("warn"), std::string::npos) << log.text();
  }
  fs::remove(no_wal / "touchpoint.db-wal");
  auto store = EventStore::Open(Options(no_wal, /*synchronous_full=*/false), &clock_);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            (no_wal / "touchpoint.db-wal").string() +
                ": missing: the database holds events up to seq 1000 but seq 2500 was committed "
                "(1500 acknowledged events missing); the server ran with --no-fsync, which loses "
                "the last commits in a power loss; start with --recover to accept the loss");
  fs::remove_all(live);
  fs::remove_all(no_wal);
}

// Segments: a directory whose events 1-8000 are sealed in two segments (seq 1-4000 and
// 4001-8000, their rows gone from the log) and 8001-10000 are in the log's tail, its WAL only.
// Each segment file kind of damage refuses the start naming the file and the seq range; recover
// opens without that range, logs it, and the next start is clean.
class SegmentDamageTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    root_ = fs::temp_directory_path() / ("tp_seg_damage_" + std::to_string(std::random_device{}()));
    const fs::path live = root_ / "live";
    ManualClock clock(1700000000000);
    StoreOptions options = Options(live);
    options.seal_events = 4000;
    {
      auto store = EventStore::Open(options, &clock);
      ASSERT_TRUE(store.ok()) << store.status().message();
      WriteEvents(**store, 1, 8000);
      clock.Advance(kMergeWindowMs + 1);  // past the merge window: sealable
    }                                     // Close seals the two complete runs
    auto store = EventStore::Open(options, &clock);
    ASSERT_TRUE(store.ok()) << store.status().message();
    ASSERT_EQ((*store)->Stats().sealed_seq, 8000u);
    WriteEvents(**store, 8001, 10000);
    fs::copy(live, root_ / "killed", fs::copy_options::recursive);  // as a kill leaves it
    fs::remove(root_ / "killed" / "touchpoint.db-shm");
  }
  static void TearDownTestSuite() { fs::remove_all(root_); }

  void SetUp() override {
    dir_ = root_ / ::testing::UnitTest::GetInstance()->current_test_info()->name();
    fs::remove_all(dir_);
    fs::copy(root_ / "killed", dir_, fs::copy_options::recursive);
  }
  StatusOr<std::unique_ptr<EventStore>> Open(bool recover) {
    StoreOptions options = Options(dir_, /*synchronous_full=*/true, recover);
    options.seal_events = 4000;
    return EventStore::Open(options, &clock_);
  }
  std::string File(const char* name) const { return (dir_ / name).string(); }
  std::string Segment(uint64_t first, uint64_t last) const {
    return (dir_ / "segments" / SegmentFileName(first, last)).string();
  }
  // The seqs of the stored events.
  static std::vector<uint64_t> Seqs(const EventStore& store) {
    std::vector<uint64_t> seqs;
    Status st =
        store.ScanAll([&](uint64_t seq, int64_t, const StoredEvent&) { seqs.push_back(seq); });
    EXPECT_TRUE(st.ok()) << st.message();
    return seqs;
  }
  static std::vector<uint64_t> Range(uint64_t first, uint64_t last) {
    std::vector<uint64_t> v;
    for (uint64_t s = first; s <= last; ++s) v.push_back(s);
    return v;
  }
  // Refused twice with `refusal`; recover keeps `kept` and logs `logged`; then clean, and new
  // events continue after the highest seq ever given.
  void ExpectRefusedThenRecovered(const std::string& refusal, const std::vector<uint64_t>& kept,
                                  const std::string& logged) {
    for (int i = 0; i < 2; ++i) {
      auto store = Open(/*recover=*/false);
      ASSERT_FALSE(store.ok()) << "opened a damaged directory without complaint";
      EXPECT_EQ(store.status().message(), refusal);
    }
    {
      LogCapture log;
      auto store = Open(/*recover=*/true);
      ASSERT_TRUE(store.ok()) << store.status().message();
      EXPECT_EQ(Seqs(**store), kept);
      EXPECT_NE(log.text().find(logged), std::string::npos) << log.text();
    }
    LogCapture log;
    auto store = Open(/*recover=*/false);
    ASSERT_TRUE(store.ok()) << store.status().message();
    EXPECT_EQ(Seqs(**store), kept);
    WriteResult r = (*store)->Write({Purchase(20000)});
    ASSERT_TRUE(r.status.ok());
    EXPECT_EQ(r.seqs[0], 10001u);
    EXPECT_EQ(log.text().find("warn"), std::string::npos) << log.text();
  }

  static fs::path root_;
  fs::path dir_;
  ManualClock clock_{1700000000000};
};

fs::path SegmentDamageTest::root_;

TEST_F(SegmentDamageTest, KilledProcessWithSegmentsOpensWithoutAlarm) {
  LogCapture log;
  auto store = Open(/*recover=*/false);
  ASSERT_TRUE(store.ok()) << store.status().message();
  EXPECT_EQ(Seqs(**store), Range(1, 10000));
  EXPECT_EQ(log.text().find("warn"), std::string::npos) << log.text();
}

TEST_F(SegmentDamageTest, FlippedByteInASegmentIsRefusedNamingTheFileAndRange) {
  FlipByte(Segment(4001, 8000), fs::file_size(Segment(4001, 8000)) / 2);
  std::vector<uint64_t> kept = Range(1, 4000);
  for (uint64_t s = 8001; s <= 10000; ++s) kept.push_back(s);
  const std::string problem_start = Segment(4001, 8000) + ": damaged: checksum mismatch";
  auto store = Open(/*recover=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message().rfind(problem_start, 0), 0u) << store.status().message();
  EXPECT_NE(store.status().message().find(
                "(seq 4001..8000 unreadable); start with --recover to accept the loss"),
            std::string::npos)
      << store.status().message();
  ExpectRefusedThenRecovered(store.status().message(), kept,
                             "--recover: accepting the loss of seq 4001..8000 (4000 "
                             "acknowledged events): " +
                                 problem_start);
  EXPECT_TRUE(fs::exists(Segment(4001, 8000) + ".damaged"));  // kept aside for inspection
}

TEST_F(SegmentDamageTest, TruncatedSegmentIsRefusedNamingTheFileAndRange) {
  const auto size = fs::file_size(Segment(1, 4000));
  fs::resize_file(Segment(1, 4000), size - 100);
  ExpectRefusedThenRecovered(Segment(1, 4000) + ": truncated: " + std::to_string(size - 100) +
                                 " of " + std::to_string(size) +
                                 " bytes (seq 1..4000 unreadable); start with --recover to "
                                 "accept the loss",
                             Range(4001, 10000),
                             "--recover: accepting the loss of seq 1..4000 (4000 acknowledged "
                             "events)");
}

TEST_F(SegmentDamageTest, DeletedSegmentIsRefusedNamingTheFileAndRange) {
  fs::remove(Segment(4001, 8000));
  std::vector<uint64_t> kept = Range(1, 4000);
  for (uint64_t s = 8001; s <= 10000; ++s) kept.push_back(s);
  ExpectRefusedThenRecovered(Segment(4001, 8000) +
                                 ": missing (seq 4001..8000); start with --recover to accept "
                                 "the loss",
                             kept,
                             "--recover: accepting the loss of seq 4001..8000 (4000 acknowledged "
                             "events): " +
                                 Segment(4001, 8000) + ": missing");
}

TEST_F(SegmentDamageTest, SegmentsWithoutTheirManifestStillShowAGap) {
  // The database replaced by one that knows no segments (and its WAL gone): the first segment
  // deleted too. The gap below the second segment is named.
  fs::remove(Segment(1, 4000));
  fs::remove(dir_ / "touchpoint.db-wal");
  {
    sqlite3* db = nullptr;
    ASSERT_EQ(sqlite3_open((dir_ / "touchpoint.db").c_str(), &db), SQLITE_OK);
    ASSERT_EQ(sqlite3_exec(db, "DELETE FROM segments", nullptr, nullptr, nullptr), SQLITE_OK);
    sqlite3_close(db);
  }
  auto store = Open(/*recover=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(), (dir_ / "segments").string() +
                                          ": no segment holds seq 1..4000; start with --recover "
                                          "to accept the loss");
}

TEST_F(SegmentDamageTest, TruncatedLogAfterTheSegmentsIsRefusedNamingTheMissingRange) {
  // The tail (8001-10000) lives only in the WAL: without it the log is shorter than the marker.
  fs::remove(dir_ / "touchpoint.db-wal");
  auto store = Open(/*recover=*/false);
  ASSERT_FALSE(store.ok());
  EXPECT_EQ(store.status().message(),
            File("touchpoint.db-wal") +
                ": missing: the database holds events up to seq 8000 but seq 10000 was committed "
                "(2000 acknowledged events missing); start with --recover to accept the loss");
}

// The real binary: `touchpoint serve` refuses to start (exit status 1, the message in its log);
// with --recover it starts and logs the loss.
pid_t SpawnServe(const fs::path& data, bool recover, const fs::path& log) {
  const char* binary = std::getenv("TP_BINARY");
  std::vector<std::string> args = {binary ? binary : "touchpoint",
                                   "serve",
                                   "--data",
                                   data.string(),
                                   "--listen",
                                   "127.0.0.1:0",
                                   "--port-file",
                                   (data / "port").string(),
                                   "--admin-token",
                                   "t"};
  if (recover) args.push_back("--recover");
  std::vector<char*> argv;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
  posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  pid_t pid = -1;
  int rc = posix_spawn(&pid, argv[0], &fa, nullptr, argv.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  return rc == 0 ? pid : -1;
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

TEST_F(StorageDamageTest, ServeRefusesADamagedWalAndStartsWithRecover) {
  fs::resize_file(dir_ / "touchpoint.db-wal", wal_bytes_at_7000_);
  const fs::path log = dir_.string() + ".log";
  pid_t pid = SpawnServe(dir_, /*recover=*/false, log);
  ASSERT_GT(pid, 0);
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);  // it exits by itself
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 1) << status;
  EXPECT_NE(ReadFile(log).find("cannot open the data directory: " + File("touchpoint.db-wal") +
                               ": damaged or truncated: the log ends at seq 7000 but seq 10000 "
                               "was committed (3000 acknowledged events missing); start with "
                               "--recover to accept the loss"),
            std::string::npos)
      << ReadFile(log);

  pid = SpawnServe(dir_, /*recover=*/true, log);
  ASSERT_GT(pid, 0);
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(60);
  while (!fs::exists(dir_ / "port") && std::chrono::steady_clock::now() < deadline &&
         ::waitpid(pid, &status, WNOHANG) == 0)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  ASSERT_TRUE(fs::exists(dir_ / "port")) << ReadFile(log);
  ::kill(pid, SIGTERM);
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0) << status;
  EXPECT_NE(ReadFile(log).find("--recover: accepting the loss of seq 7001..10000 (3000 "
                               "acknowledged events)"),
            std::string::npos)
      << ReadFile(log);
  ExpectCleanAfterRecovery(7000);
}

}  // namespace
}  // namespace touchpoint::store
