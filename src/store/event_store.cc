#include "store/event_store.h"

#include <fcntl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <future>
#include <thread>

#include "format/catalog_file.h"
#include "format/event_json.h"
#include "store/segment.h"

namespace touchpoint::store {

const char* WriteOutcomeName(WriteOutcome o) {
  switch (o) {
    case WriteOutcome::kAccepted:
      return "accepted";
    case WriteOutcome::kDuplicate:
      return "duplicate";
    case WriteOutcome::kMerged:
    case WriteOutcome::kReplaced:
      return "duplicate";
  }
  return "accepted";
}

namespace {

constexpr int kKindSite = 0;
constexpr int kKindAd = 1;

constexpr const char* kSchema = R"sql(
CREATE TABLE IF NOT EXISTS events(
  seq INTEGER PRIMARY KEY,
  kind INTEGER NOT NULL,          -- 0 site event, 1 ad event
  pixel_id TEXT,                  -- site events
  name TEXT NOT NULL,             -- event name or ad event type
  dedup_key TEXT,                 -- NULL when the event has none
  event_time_ms INTEGER NOT NULL,
  received_ms INTEGER NOT NULL,
  body TEXT NOT NULL              -- docs/formats.md, without seq and received_at_ms
);
CREATE TABLE IF NOT EXISTS pixels(
  pixel_id TEXT PRIMARY KEY,
  name TEXT NOT NULL,
  created_ms INTEGER NOT NULL,
  allowed_origins TEXT NOT NULL DEFAULT ''
);
CREATE TABLE IF NOT EXISTS catalog(id INTEGER PRIMARY KEY CHECK (id = 1), json TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS spend(
  day_ms INTEGER NOT NULL, ad_id TEXT NOT NULL, spend REAL NOT NULL, currency TEXT NOT NULL,
  PRIMARY KEY (day_ms, ad_id));
-- The ad platforms' own report rows (ingest/platform_reports.h); NULL metrics were not reported.
CREATE TABLE IF NOT EXISTS platform_stats(
  day_ms INTEGER NOT NULL, ad_id TEXT NOT NULL, age TEXT NOT NULL, gender TEXT NOT NULL,
  platform TEXT NOT NULL, spend REAL, impressions INTEGER, clicks INTEGER, video_views INTEGER,
  currency TEXT NOT NULL, PRIMARY KEY (day_ms, ad_id, age, gender));
CREATE TABLE IF NOT EXISTS meta(key TEXT PRIMARY KEY, value TEXT NOT NULL);
-- Merged versions of events already sealed (or being sealed): they override the sealed copy.
CREATE TABLE IF NOT EXISTS amendments(seq INTEGER PRIMARY KEY, body TEXT NOT NULL);
-- The manifest of sealed segments (DATA/segments/seg-<first>-<last>.tps).
CREATE TABLE IF NOT EXISTS segments(
  first_seq INTEGER PRIMARY KEY, last_seq INTEGER NOT NULL, file_bytes INTEGER NOT NULL);
)sql";

// The meta key listing the seq ranges accepted as lost with --recover ("a-b,c-d").
constexpr const char* kLostRangesMetaKey = "lost_seq_ranges";
// Rows deleted from the log per transaction after a seal: the writer waits for each.
constexpr int64_t kDeleteChunk = 8192;

std::string RandomToken(size_t bytes, const char* alphabet, size_t alphabet_size) {
  std::string out;
  std::vector<unsigned char> buf(bytes);
  RAND_bytes(buf.data(), static_cast<int>(buf.size()));
  for (unsigned char b : buf) out += alphabet[b % alphabet_size];
  return out;
}

std::vector<std::string> SplitOrigins(std::string_view s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t sp = s.find(' ', start);
    std::string_view part = s.substr(start, sp == std::string_view::npos ? s.npos : sp - start);
    if (!part.empty()) out.emplace_back(part);
    if (sp == std::string_view::npos) break;
    start = sp + 1;
  }
  return out;
}

void AppendUnique(std::vector<std::string>& into, const std::vector<std::string>& from) {
  for (const auto& v : from) {
    if (into.size() >= 16) return;  // as many as one event may carry
    bool seen = false;
    for (const auto& x : into) seen |= x == v;
    if (!seen) into.push_back(v);
  }
}

void FillIfEmpty(std::string& into, const std::string& from) {
  if (into.empty()) into = from;
}

// Adds the match keys `from` has and `into` lacks.
void MergeMatchKeys(UserKeys& into, const UserKeys& from) {
  FillIfEmpty(into.ttclid, from.ttclid);
  FillIfEmpty(into.ttp, from.ttp);
  FillIfEmpty(into.ip, from.ip);
  FillIfEmpty(into.user_agent, from.user_agent);
  FillIfEmpty(into.locale, from.locale);
  AppendUnique(into.email_sha256, from.email_sha256);
  AppendUnique(into.phone_sha256, from.phone_sha256);
  AppendUnique(into.external_id_sha256, from.external_id_sha256);
  FillIfEmpty(into.first_name_sha256, from.first_name_sha256);
  FillIfEmpty(into.last_name_sha256, from.last_name_sha256);
  FillIfEmpty(into.zip_code_sha256, from.zip_code_sha256);
  FillIfEmpty(into.city_sha256, from.city_sha256);
  FillIfEmpty(into.state_sha256, from.state_sha256);
  FillIfEmpty(into.country_sha256, from.country_sha256);
}

// Copies of one event (same dedup key) meet here. Who sent them decides what the stored event
// becomes: a browser (the pixel, anonymous, source "pixel") can be anyone, the server (the
// Events API, with the pixel's access token) is the advertiser.
// - kMerged, the later copy from the browser: it adds the match keys the stored one lacks,
//   nothing else (a browser copy never overrides or completes a server copy's properties);
// - kMerged, the later copy from the server into a server copy: it also fills the properties
//   and page fields the first lacked;
// - kReplaced, a server copy of a browser copy: the server copy's properties and time replace
//   the stored ones, whenever it comes within the 48 h; the browser's match keys and page are
//   kept where the server copy has none. So an anonymous beacon that guessed a purchase's
//   event_id cannot pre-empt or change the real one.
bool IsBrowserCopy(const SiteEvent& ev) { return ev.source == "pixel"; }

void MergeCopies(SiteEvent& stored, const SiteEvent& later, WriteOutcome how) {
  // One copy under limited data use limits the event, whoever sent it.
  const bool limited = stored.limited_data_use || later.limited_data_use;
  if (how == WriteOutcome::kReplaced) {
    SiteEvent browser = std::move(stored);
    stored = later;
    stored.limited_data_use = limited;
    MergeMatchKeys(stored.user, browser.user);
    FillIfEmpty(stored.page_url, browser.page_url);
    FillIfEmpty(stored.page_referrer, browser.page_referrer);
    return;
  }
  MergeMatchKeys(stored.user, later.user);
  stored.limited_data_use = limited;
  if (IsBrowserCopy(later)) return;
  if (!stored.value) stored.value = later.value;
  FillIfEmpty(stored.currency, later.currency);
  FillIfEmpty(stored.order_id, later.order_id);
  FillIfEmpty(stored.content_type, later.content_type);
  FillIfEmpty(stored.page_url, later.page_url);
  FillIfEmpty(stored.page_referrer, later.page_referrer);
  if (stored.contents.empty()) stored.contents = later.contents;
}

}  // namespace

EventStore::EventStore(StoreOptions options, const Clock* clock)
    : options_(std::move(options)), clock_(clock), catalog_(std::make_shared<Catalog>()) {}

namespace {

// The data directory is the owner's alone: 0700, and our files in it 0600. New files are made
// so (touchpoint.db and the marker by us, SQLite's -wal and -shm take the database's mode, the
// admin token file by serve); what an older version left wider is tightened here, with a log
// line. Only our own files: a data directory given as someone's home is not swept.
bool IsOurFile(const std::string& name) {
  return name.rfind("touchpoint.db", 0) == 0 || name == "admin_token";
}

Status MakePrivate(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  const bool existed = fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec) return Internal("cannot create data directory " + dir + ": " + ec.message());
  // Only an older install's data is reported (a directory made empty for us is just fixed).
  const bool ours = fs::exists(fs::path(dir) / "touchpoint.db", ec);
  int tightened = 0;
  // Returns whether the mode had to change.
  auto tighten = [&](const fs::path& path, mode_t mode) -> StatusOr<bool> {
    struct stat st;
    if (::lstat(path.c_str(), &st) != 0 || S_ISLNK(st.st_mode)) return false;
    if ((st.st_mode & 07777) == mode) return false;
    if (::chmod(path.c_str(), mode) != 0)
      return Internal(path.string() + ": cannot chmod: " + std::strerror(errno));
    return true;
  };
  if (!existed || ours || fs::is_empty(dir, ec)) {
    auto changed = tighten(dir, 0700);
    if (!changed.ok()) return changed.status();
    if (*changed && ours) spdlog::info("{}: the data directory is now owner-only (0700)", dir);
  }
  for (const auto& entry : fs::directory_iterator(dir, ec)) {
    if (!entry.is_regular_file() || !IsOurFile(entry.path().filename().string())) continue;
    auto changed = tighten(entry.path(), 0600);
    if (!changed.ok()) return changed.status();
    tightened += *changed;
  }
  const fs::path segments = fs::path(dir) / "segments";
  if (fs::is_directory(segments, ec)) {
    auto changed = tighten(segments, 0700);
    if (!changed.ok()) return changed.status();
    tightened += *changed;
    for (const auto& entry : fs::directory_iterator(segments, ec)) {
      if (!entry.is_regular_file()) continue;
      auto file = tighten(entry.path(), 0600);
      if (!file.ok()) return file.status();
      tightened += *file;
    }
  }
  if (tightened > 0)
    spdlog::warn("{}: {} of Touchpoint's files were readable by others; now owner-only", dir,
                 tightened);
  return OkStatus();
}

}  // namespace

StatusOr<std::unique_ptr<EventStore>> EventStore::Open(const StoreOptions& options,
                                                       const Clock* clock) {
  TP_RETURN_IF_ERROR(MakePrivate(options.data_dir));
  std::unique_ptr<EventStore> store(new EventStore(options, clock));
  TP_RETURN_IF_ERROR(store->Init());
  store->writer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "tp-writer");  // as top -H and perf show it
    s->WriterLoop();
  });
  store->acker_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "tp-acker");
    s->AckerLoop();
  });
  if (store->options_.synchronous_full)
    store->syncer_ = std::thread([s = store.get()] {
      pthread_setname_np(pthread_self(), "tp-sync");
      s->SyncLoop();
    });
  store->checkpointer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "tp-checkpoint");
    s->CheckpointLoop();
  });
  store->sealer_ = std::thread([s = store.get()] {
    pthread_setname_np(pthread_self(), "tp-seal");
    s->SealLoop();
  });
  {
    // A tail left long enough by the last run is sealed now.
    std::lock_guard lock(store->seal_mu_);
    store->seal_wanted_ = true;
  }
  store->seal_cv_.notify_one();
  return store;
}

namespace {

// The meta key that says this database has been written with a commit marker.
constexpr const char* kMarkerMetaKey = "commit_marker";

std::string LossText(uint64_t first, uint64_t last) {
  return "seq " + std::to_string(first) + ".." + std::to_string(last) + " (" +
         std::to_string(last - first + 1) + " acknowledged events)";
}

bool FileExists(const std::string& path) {
  struct stat st;
  return ::stat(path.c_str(), &st) == 0;
}

std::vector<std::pair<uint64_t, uint64_t>> ParseRanges(std::string_view text) {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    std::string part(text.substr(pos, comma == std::string_view::npos ? text.npos : comma - pos));
    unsigned long long a = 0, b = 0;
    if (std::sscanf(part.c_str(), "%llu-%llu", &a, &b) == 2) out.emplace_back(a, b);
    if (comma == std::string_view::npos) break;
    pos = comma + 1;
  }
  return out;
}

std::string FormatRanges(const std::vector<std::pair<uint64_t, uint64_t>>& ranges) {
  std::string out;
  for (const auto& [a, b] : ranges) {
    if (!out.empty()) out += ',';
    out.append(std::to_string(a)).append("-").append(std::to_string(b));
  }
  return out;
}

StatusOr<std::string> ReadWholeFile(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) return Internal(path + ": cannot open: " + std::strerror(errno));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    ::close(fd);
    return Internal(path + ": cannot stat: " + std::strerror(errno));
  }
  std::string out(static_cast<size_t>(st.st_size), '\0');
  size_t done = 0;
  while (done < out.size()) {
    ssize_t n = ::read(fd, out.data() + done, out.size() - done);
    if (n <= 0) {
      ::close(fd);
      return Internal(path + ": cannot read: " + std::strerror(n < 0 ? errno : EIO));
    }
    done += static_cast<size_t>(n);
  }
  ::close(fd);
  return out;
}

Status SyncDirectory(const std::string& dir) {
  int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return Internal(dir + ": cannot open: " + std::strerror(errno));
  const int rc = ::fsync(fd);
  const int err = errno;
  ::close(fd);
  if (rc != 0) return Internal(dir + ": fsync: " + std::strerror(err));
  return OkStatus();
}

// Between two of the sealer's write transactions: the writer waits for each in SQLite's busy
// handler, which polls with growing sleeps, so back-to-back transactions would starve it
// (measured: 0.6-1.3 s waits for the store during a seal without this pause).
void YieldToWriter() { std::this_thread::sleep_for(std::chrono::milliseconds(15)); }

// A log row's body, parsed.
StatusOr<StoredEvent> ParseStored(uint64_t seq, int64_t kind, std::string_view body) {
  if (kind == kKindSite) {
    auto ev = format::SiteEventFromJson(body);
    if (!ev.ok()) return Internal("event " + std::to_string(seq) + ": " + ev.status().message());
    return StoredEvent(std::move(*ev));
  }
  auto ev = format::AdEventFromJson(body);
  if (!ev.ok()) return Internal("event " + std::to_string(seq) + ": " + ev.status().message());
  return StoredEvent(std::move(*ev));
}

std::string KeyOf(const StoredEvent& ev) {
  if (const auto* s = std::get_if<SiteEvent>(&ev)) return SiteDedupKey(*s);
  return AdDedupKey(std::get<AdEvent>(ev));
}

}  // namespace

Status EventStore::CheckStorage() {
  const std::string db_path = options_.data_dir + "/touchpoint.db";
  const std::string wal_path = db_path + "-wal";
  const std::string marker_path = db_path + "-marker";
  auto read = CommitMarker::Read(marker_path);
  if (!read.ok()) return read.status();
  const MarkerRecord before = read->record;  // zero unless kValid
  const bool db_exists = FileExists(db_path);
  const bool wal_exists = FileExists(wal_path);

  // What the files hold: the highest seq SQLite finds (it reads the WAL up to its first bad
  // frame). Read on a connection of its own that does not checkpoint when it closes: SQLite
  // checkpoints and deletes the WAL at the close of its last connection, which would turn a
  // damaged WAL kept for inspection (or for a repair by hand) into a missing one.
  uint64_t max_seq = 0;
  bool has_marker_flag = false;
  SeqRanges manifest, lost;
  if (db_exists) {
    auto probe = Database::Open(db_path, /*synchronous_full=*/false);
    if (!probe.ok()) return probe.status();
    sqlite3_db_config(probe->raw(), SQLITE_DBCONFIG_NO_CKPT_ON_CLOSE, 1, nullptr);
    auto tables = probe->Prepare(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name IN ('events', 'meta')");
    if (!tables.ok()) return Internal(db_path + ": unreadable: " + tables.status().message());
    Status st;
    if (tables->Step(&st) && tables->Int(0) == 2) {
      auto max = probe->Prepare("SELECT COALESCE(MAX(seq), 0) FROM events");
      if (!max.ok()) return Internal(db_path + ": unreadable: " + max.status().message());
      if (max->Step(&st)) max_seq = static_cast<uint64_t>(max->Int(0));
      auto flag = probe->Prepare("SELECT 1 FROM meta WHERE key = ?");
      if (!flag.ok()) return Internal(db_path + ": unreadable: " + flag.status().message());
      flag->Bind(1, std::string_view(kMarkerMetaKey));
      has_marker_flag = flag->Step(&st);
      auto has_manifest =
          probe->Prepare("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'segments'");
      if (has_manifest.ok() && has_manifest->Step(&st)) {
        auto m = probe->Prepare("SELECT first_seq, last_seq FROM segments ORDER BY first_seq");
        if (!m.ok()) return Internal(db_path + ": unreadable: " + m.status().message());
        while (m->Step(&st))
          manifest.emplace_back(static_cast<uint64_t>(m->Int(0)), static_cast<uint64_t>(m->Int(1)));
      }
      // (A meta table without values, as hand-made damage may leave, records no losses.)
      if (auto l = probe->Prepare("SELECT value FROM meta WHERE key = ?"); l.ok()) {
        l->Bind(1, std::string_view(kLostRangesMetaKey));
        if (l->Step(&st)) lost = ParseRanges(l->Text(0));
      }
    }
    if (!st.ok()) return Internal(db_path + ": unreadable: " + st.message());
    *probe = Database();
    // Reading a WAL database creates an empty WAL when there is none: remove it again, so that
    // a refused start leaves the directory as it found it and the next says "missing" again.
    struct stat wal_st;
    if (!wal_exists && ::stat(wal_path.c_str(), &wal_st) == 0 && wal_st.st_size == 0)
      (void)::unlink(wal_path.c_str());
  }
  // The segments cover the oldest events: what the log lacks below them is sealed, not lost.
  TP_RETURN_IF_ERROR(CheckSegments(manifest, std::move(lost), max_seq));

  // Whatever is wrong, as a sentence naming the file, and the seq range lost when known.
  std::string problem;
  uint64_t lost_first = 0, lost_last = 0;
  switch (read->state) {
    case CommitMarker::State::kValid:
      if (max_seq >= before.committed_seq) break;  // (above it: committed, marker not yet raised)
      lost_first = max_seq + 1;
      lost_last = before.committed_seq;
      if (!db_exists) {
        problem = db_path + ": missing, but seq " + std::to_string(lost_last) + " was committed";
      } else if (max_seq < before.checkpointed_seq) {
        problem = db_path + ": damaged or replaced: it holds events up to seq " +
                  std::to_string(max_seq) + " but seq " + std::to_string(before.checkpointed_seq) +
                  " had been checkpointed into it and seq " + std::to_string(lost_last) +
                  " was committed";
      } else if (!wal_exists) {
        problem = wal_path + ": missing: the database holds events up to seq " +
                  std::to_string(max_seq) + " but seq " + std::to_string(lost_last) +
                  " was committed";
      } else {
        problem = wal_path + ": damaged or truncated: the log ends at seq " +
                  std::to_string(max_seq) + " but seq " + std::to_string(lost_last) +
                  " was committed";
      }
      problem += " (" + std::to_string(lost_last - max_seq) + " acknowledged events missing)";
      if (before.no_fsync)
        problem += "; the server ran with --no-fsync, which loses the last commits in a power loss";
      break;
    case CommitMarker::State::kDamaged:
      problem = marker_path +
                ": damaged (neither copy has a valid checksum): cannot tell whether acknowledged "
                "events are missing; the database holds events up to seq " +
                std::to_string(max_seq);
      break;
    case CommitMarker::State::kMissing:
      // A database with events but without the flag was written before markers existed (or
      // its flag was in the part of the log that is gone): start recording from here.
      if (max_seq > 0 && !has_marker_flag)
        spdlog::info(
            "{}: no commit marker yet (a database from an older version); recording one "
            "at seq {}",
            marker_path, max_seq);
      if (max_seq > 0 && has_marker_flag)
        problem = marker_path +
                  ": missing, but this database was written with one: cannot tell whether "
                  "acknowledged events are missing; the database holds events up to seq " +
                  std::to_string(max_seq);
      break;
  }
  if (!problem.empty() && !options_.recover)
    return Internal(problem + "; start with --recover to accept the loss");
  if (!problem.empty()) {
    if (lost_last > 0)
      spdlog::warn("--recover: accepting the loss of {}: {}", LossText(lost_first, lost_last),
                   problem);
    else
      spdlog::warn("--recover: accepting the database as it is, events up to seq {}: {}", max_seq,
                   problem);
    // Without its database a WAL is frames of pages of a file that is gone, not a database:
    // kept aside for inspection, out of SQLite's way.
    if (!db_exists && wal_exists) {
      const std::string aside = wal_path + ".orphaned";
      if (::rename(wal_path.c_str(), aside.c_str()) != 0)
        return Internal(wal_path + ": cannot move aside: " + std::strerror(errno));
      (void)::unlink((db_path + "-shm").c_str());
      spdlog::warn("{}: moved to {} (its database is gone)", wal_path, aside);
    }
  }
  marker_record_.committed_seq = max_seq;
  marker_record_.checkpointed_seq = std::min(before.checkpointed_seq, max_seq);
  marker_record_.no_fsync = !options_.synchronous_full;
  committed_seq_.store(max_seq, std::memory_order_relaxed);
  return OkStatus();
}

Status EventStore::OpenMarker() {
  const std::string db_path = options_.data_dir + "/touchpoint.db";
  // The marker is about to say that everything up to marker_record_.committed_seq is durable.
  // The WAL may hold commits that a killed process never synced (they are in the page cache,
  // which is what SQLite read): sync them first, or a power loss now would leave the marker
  // above the log.
  const std::string wal_path = db_path + "-wal";
  if (int fd = ::open(wal_path.c_str(), O_RDONLY | O_CLOEXEC); fd >= 0) {
    const int rc = ::fdatasync(fd);
    const int err = errno;
    ::close(fd);
    if (rc != 0) return Internal(wal_path + ": fdatasync: " + std::strerror(err));
  }
  const std::string marker_path = db_path + "-marker";
  const bool created = !FileExists(marker_path);
  std::lock_guard lock(marker_mu_);
  auto marker = CommitMarker::Open(marker_path);
  if (!marker.ok()) return marker.status();
  marker_ = std::move(*marker);
  TP_RETURN_IF_ERROR(marker_.Write(marker_record_));
  // Once per start: a marker recording a loss accepted with --recover must not come back as
  // the old one after a power loss.
  TP_RETURN_IF_ERROR(marker_.Sync());
  if (created) {
    int dir = ::open(options_.data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }
  return OkStatus();
}

void EventStore::NoteDurable(uint64_t last_seq) {
  std::lock_guard lock(marker_mu_);
  if (last_seq <= marker_record_.committed_seq || !marker_.is_open()) return;
  marker_record_.committed_seq = last_seq;
  WriteMarkerLocked();
}

void EventStore::WriteMarkerLocked() {
  // No sync: the values written are durable in the WAL or the database file already, so a
  // marker that a power loss leaves behind its pwrite can only be lower than what the files
  // hold: it under-reports, never alarms.
  Status st = marker_.Write(marker_record_);
  if (!st.ok() && !marker_write_failed_) {
    marker_write_failed_ = true;
    spdlog::error("{} (a damaged WAL at the next start may go unnoticed)", st.message());
  }
}

void EventStore::NoteCheckpointed(uint64_t last_seq) {
  std::lock_guard lock(marker_mu_);
  if (last_seq <= marker_record_.checkpointed_seq || !marker_.is_open()) return;
  marker_record_.checkpointed_seq = last_seq;
  // In the synced database file, so durable too.
  marker_record_.committed_seq = std::max(marker_record_.committed_seq, last_seq);
  WriteMarkerLocked();
}

Status EventStore::Init() {
  std::string path = options_.data_dir + "/touchpoint.db";
  TP_RETURN_IF_ERROR(CheckStorage());
  // Created here, 0600, rather than by SQLite (0644 less the umask); its -wal and -shm files
  // take its mode.
  if (int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600); fd >= 0)
    ::close(fd);
  // The writer never fsyncs in its commits: the syncer does (SyncLoop), or nobody (--no-fsync).
  auto w = Database::Open(path, /*synchronous_full=*/false);
  if (!w.ok()) return w.status();
  writer_db_ = std::move(*w);
  TP_RETURN_IF_ERROR(writer_db_.Exec(kSchema));
  auto r = Database::Open(path, options_.synchronous_full);
  if (!r.ok()) return r.status();
  db_ = std::move(*r);
  auto c = Database::Open(path, options_.synchronous_full);
  if (!c.ok()) return c.status();
  checkpoint_db_ = std::move(*c);
  auto sealer_db = Database::Open(path, /*synchronous_full=*/false);
  if (!sealer_db.ok()) return sealer_db.status();
  seal_db_ = std::move(*sealer_db);
  // For dropping checkpointed pages from the page cache (CheckpointLoop).
  db_fd_ = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (db_fd_ < 0) return Internal("cannot open " + path + ": " + std::strerror(errno));
  TP_RETURN_IF_ERROR(writer_db_.Exec("PRAGMA wal_autocheckpoint=0"));
  sqlite3_wal_hook(writer_db_.raw(), &EventStore::OnWalCommit, this);

  // The writer's statements, prepared once.
  const std::pair<const char*, Statement*> statements[] = {
      {"BEGIN IMMEDIATE", &begin_},
      {"COMMIT", &commit_},
      {"INSERT INTO events(seq, kind, pixel_id, name, dedup_key, event_time_ms, received_ms, body) "
       "VALUES (?,?,?,?,?,?,?,?)",
       &insert_},
      {"SELECT body FROM events WHERE seq = ?", &select_body_},
      {"UPDATE events SET body = ?, event_time_ms = ? WHERE seq = ?", &update_body_},
      {"SELECT body FROM amendments WHERE seq = ?", &select_amendment_},
      {"INSERT OR REPLACE INTO amendments(seq, body) VALUES (?, ?)", &upsert_amendment_},
  };
  for (const auto& [sql, statement] : statements) {
    auto prepared = writer_db_.Prepare(sql);
    if (!prepared.ok()) return prepared.status();
    *statement = std::move(*prepared);
  }

  auto max = writer_db_.Prepare("SELECT COALESCE(MAX(seq), 0) FROM events");
  if (!max.ok()) return max.status();
  if (max->Step()) next_seq_ = static_cast<uint64_t>(max->Int(0)) + 1;
  max = Statement();
  // Seqs in segments, and those lost with them, are never given again.
  next_seq_ = std::max(next_seq_, sealed_seq_.load() + 1);
  TP_RETURN_IF_ERROR(OpenMarker());
  if (!GetMeta(kMarkerMetaKey)) TP_RETURN_IF_ERROR(SetMeta(kMarkerMetaKey, "1"));
  TP_RETURN_IF_ERROR(ReconcileSegments());
  TP_RETURN_IF_ERROR(LoadSealedDedup());

  TP_RETURN_IF_ERROR(RecoverDedup());
  TP_RETURN_IF_ERROR(tokens_.Open(writer_db_));
  TP_RETURN_IF_ERROR(LoadPixels());
  auto cat = db_.Prepare("SELECT json FROM catalog WHERE id = 1");
  if (!cat.ok()) return cat.status();
  if (cat->Step()) {
    auto parsed = format::ParseCatalogJson(cat->Text(0));
    if (!parsed.ok()) return Internal("stored catalog unreadable: " + parsed.status().message());
    catalog_ = std::make_shared<Catalog>(std::move(*parsed));
  }
  return OkStatus();
}

Status EventStore::RecoverDedup() {
  // The dedup window survives restarts: rebuild it from the log's tail (the sealed events'
  // keys are found through their segments' dedup tables, FindDuplicate).
  auto q = writer_db_.Prepare(
      "SELECT seq, dedup_key, received_ms, kind = ? AND json_extract(body, '$.source') = 'pixel' "
      "FROM events WHERE dedup_key IS NOT NULL AND received_ms > ? AND seq > ? ORDER BY seq");
  if (!q.ok()) return q.status();
  q->Bind(1, int64_t{kKindSite}).Bind(2, clock_->NowMs() - kDedupWindowMs);
  q->Bind(3, static_cast<int64_t>(sealed_seq_.load()));
  Status st;
  while (q->Step(&st)) {
    std::string key(q->Text(1));
    if (!dedup_.Find(key, clock_->NowMs()))
      dedup_.Insert(key, static_cast<uint64_t>(q->Int(0)), q->Int(2), q->Int(3) != 0);
  }
  return st;
}

Status EventStore::LoadPixels() {
  auto q = db_.Prepare("SELECT pixel_id, name, created_ms, allowed_origins FROM pixels");
  if (!q.ok()) return q.status();
  std::lock_guard lock(mu_cache_);
  Status st;
  while (q->Step(&st)) {
    Pixel p{std::string(q->Text(0)), std::string(q->Text(1)), q->Int(2), SplitOrigins(q->Text(3))};
    auto shared = std::make_shared<const Pixel>(std::move(p));
    pixels_[shared->pixel_id] = shared;
  }
  return st;
}

EventStore::~EventStore() {
  Close();
  if (db_fd_ >= 0) ::close(db_fd_);
}

void EventStore::Close() {
  {
    std::lock_guard lock(mu_);
    if (closing_ && !writer_.joinable()) return;
    closing_ = true;
  }
  cv_.notify_all();
  if (writer_.joinable()) writer_.join();
  {
    std::lock_guard lock(ack_mu_);
    sync_closing_ = true;
  }
  sync_cv_.notify_all();
  if (syncer_.joinable()) syncer_.join();  // after the writer: every commit is synced
  {
    std::lock_guard lock(ack_mu_);
    ack_closing_ = true;
  }
  ack_cv_.notify_all();
  if (acker_.joinable()) acker_.join();  // after the writer: every committed group is answered
  {
    std::lock_guard lock(seal_mu_);
    seal_closing_ = true;
  }
  seal_cv_.notify_all();
  if (sealer_.joinable()) sealer_.join();  // after the syncer: it seals the complete runs left
  {
    std::lock_guard lock(ckpt_mu_);
    ckpt_closing_ = true;
  }
  ckpt_cv_.notify_all();
  if (checkpointer_.joinable()) checkpointer_.join();
  // The last connection to close checkpoints the WAL and deletes it. Checkpoint here first, so
  // that the marker can say everything is in the database file, and sync the marker: after a
  // clean stop it is exact, even with --no-fsync, and a missing WAL is what it expects.
  bool marker_open;
  {
    std::lock_guard lock(marker_mu_);
    marker_open = marker_.is_open();
  }
  if (marker_open) {
    const uint64_t last = committed_seq_.load(std::memory_order_acquire);
    int log = 0, done = 0;
    if (sqlite3_wal_checkpoint_v2(checkpoint_db_.raw(), nullptr, SQLITE_CHECKPOINT_PASSIVE, &log,
                                  &done) == SQLITE_OK &&
        log == done)
      NoteCheckpointed(last);
    std::lock_guard lock(marker_mu_);
    if (Status st = marker_.Sync(); !st.ok()) spdlog::warn("{}", st.message());
  }
}

// On the writer, after each commit; wal_pages is the WAL's length in pages, which falls when the
// WAL starts over from its beginning (after a checkpoint pass that copied all of it).
int EventStore::OnWalCommit(void* self, sqlite3*, const char*, int wal_pages) {
  auto* store = static_cast<EventStore*>(self);
  if (wal_pages < store->wal_pages_) store->checkpoint_due_pages_ = kCheckpointPages;
  store->wal_pages_ = wal_pages;
  // Then a pass each time the WAL has grown by kCheckpointStepPages pages, not after every commit:
  // under a steady load the passive passes never catch up with the writer, and a pass per commit
  // (each syncing the WAL and the database file) only costs CPU and disk flushes.
  if (wal_pages >= store->checkpoint_due_pages_) {
    store->checkpoint_due_pages_ = wal_pages + kCheckpointStepPages;
    {
      std::lock_guard lock(store->ckpt_mu_);
      store->ckpt_wanted_ = true;
    }
    store->ckpt_cv_.notify_one();
  }
  if (wal_pages >= kWalHardLimitPages) {
    // The checkpointer is behind (starved of CPU, or a restart found readers): give it the time.
    std::unique_lock lock(store->ckpt_mu_);
    const uint64_t seen = store->ckpt_restarts_;
    store->ckpt_wanted_ = true;
    store->ckpt_cv_.notify_one();
    store->ckpt_done_cv_.wait_for(lock, std::chrono::milliseconds(kWalFullWaitMs), [&] {
      return store->ckpt_restarts_ != seen || store->ckpt_closing_;
    });
    lock.unlock();
    std::lock_guard stats_lock(store->mu_);
    store->stats_.wal_full_waits++;
  }
  return SQLITE_OK;
}

void EventStore::CheckpointLoop() {
  int restarted_at_log = -1;  // the WAL's length at the last restart
  for (;;) {
    {
      std::unique_lock lock(ckpt_mu_);
      ckpt_cv_.wait(lock, [&] { return ckpt_wanted_ || ckpt_closing_; });
      if (ckpt_closing_) return;  // the last connection to close checkpoints what is left
      ckpt_wanted_ = false;
    }
    // Copy what is there without blocking the writer. The next commit after a complete pass
    // starts the WAL over from its beginning. Under a steady load the passes never complete (the
    // writer commits while they copy), and once the WAL holds kRestartPages pages the writer is
    // held off while the rest is copied, so that the WAL starts over and stays bounded. Before
    // that, passive passes catch up with what was committed during the previous one, so that the
    // writer is held off only for a small rest (and its latency does not jump).
    int log = 0, done = 0;
    // A pass that copied the whole WAL put every commit made before it into the database file,
    // and SQLite synced that file at the end of the pass.
    auto checkpoint = [&](int mode) {
      const uint64_t before = committed_seq_.load(std::memory_order_acquire);
      int r = sqlite3_wal_checkpoint_v2(checkpoint_db_.raw(), nullptr, mode, &log, &done);
      if (r == SQLITE_OK && log == done) NoteCheckpointed(before);
      return r;
    };
    auto passive = [&] {
      int r = checkpoint(SQLITE_CHECKPOINT_PASSIVE);
      std::lock_guard lock(mu_);
      stats_.checkpoint_passes++;
      return r;
    };
    int rc = passive();
    // (A trigger queued before the last restart finds the WAL as that restart left it: it starts
    // over at the next commit, nothing to do.)
    if (rc == SQLITE_OK && log >= kRestartPages && log != restarted_at_log) {
      for (int i = 0; i < kCatchUpPasses && rc == SQLITE_OK && log - done > kRestartRestPages; ++i)
        rc = passive();
      auto start = std::chrono::steady_clock::now();
      if (rc == SQLITE_OK) rc = checkpoint(SQLITE_CHECKPOINT_RESTART);
      double ms =
          std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
              .count();
      if (rc == SQLITE_OK) {
        restarted_at_log = log;
        {
          std::lock_guard lock(mu_);
          stats_.checkpoint_restarts++;
          stats_.checkpoint_restart_ms_sum += ms;
        }
        {
          std::lock_guard lock(ckpt_mu_);
          ckpt_restarts_++;
        }
        ckpt_done_cv_.notify_all();
      }
      // The normal way the WAL starts over under load (a few times a second at full speed):
      // counted in the metrics; logged only when it held commits off for long.
      if (ms >= 500)
        spdlog::warn("a WAL restart held commits off for {:.0f} ms (the disk is slow to sync)", ms);
    }
    if (rc != SQLITE_OK && rc != SQLITE_BUSY)
      spdlog::warn("WAL checkpoint failed: {}", sqlite3_errmsg(checkpoint_db_.raw()));
    // The pages a pass copied into the database file are synced by then: drop them from the
    // page cache, but for the file's newest options_.cached_tail_bytes, where the rows a late
    // duplicate merges into are (read by the writer: a disk read there would hold it up). The
    // events table is an append-only log that queries read from the in-memory columns, so
    // keeping every page ever written cached only grows memory by the ingest rate (100 MB/s at
    // full speed) - and on a VM whose host backs guest memory lazily, every new page-cache page
    // past the memory it touched recently costs a host fault: measured, 16 KiB writes fall from
    // ~3 GB/s to ~0.4 GB/s past ~2.3 GB of growth, the checkpointer's CPU per event tripled, and
    // Events API ingest fell by 15-25 % after a minute of load. (Dirty pages are left alone.)
    struct stat st;
    if (::fstat(db_fd_, &st) == 0 && static_cast<size_t>(st.st_size) > options_.cached_tail_bytes)
      (void)::posix_fadvise(db_fd_, 0, st.st_size - static_cast<off_t>(options_.cached_tail_bytes),
                            POSIX_FADV_DONTNEED);
  }
}

void EventStore::SetCommitListener(CommitListener listener) {
  std::lock_guard lock(mu_);
  listener_ = std::move(listener);
}

Status EventStore::Submit(std::vector<StoredEvent> events, WriteCallback&& done) {
  // Serialize here, on the caller's (HTTP) thread: the single writer only binds and inserts.
  std::vector<std::string> bodies(events.size());
  for (size_t i = 0; i < events.size(); ++i) {
    bodies[i].reserve(512);  // most events fit: one allocation
    if (const auto* site = std::get_if<SiteEvent>(&events[i]))
      format::AppendSiteEventJson(*site, 0, 0, bodies[i]);
    else
      format::AppendAdEventJson(std::get<AdEvent>(events[i]), 0, 0, bodies[i]);
  }
  {
    std::lock_guard lock(mu_);
    if (closing_) return Unavailable("the server is shutting down");
    if (queued_events_ > 0 && queued_events_ + events.size() > options_.max_queued_events)
      return ResourceExhausted("the commit queue is full; retry later");
    queued_events_ += events.size();
    queue_.push_back(Pending{std::move(events), std::move(bodies), std::move(done),
                             std::chrono::steady_clock::now()});
  }
  cv_.notify_one();
  return OkStatus();
}

WriteResult EventStore::Write(std::vector<StoredEvent> events) {
  std::promise<WriteResult> promise;
  auto future = promise.get_future();
  Status st =
      Submit(std::move(events), [&promise](WriteResult r) { promise.set_value(std::move(r)); });
  if (!st.ok()) return WriteResult{st, {}, {}, {}};
  return future.get();
}

void EventStore::WriterLoop() {
  for (;;) {
    std::deque<Pending> group;
    {
      std::unique_lock lock(mu_);
      cv_.wait(lock, [&] { return !queue_.empty() || closing_; });
      if (queue_.empty() && closing_) return;
      group.swap(queue_);
    }
    CommitGroup(group);
  }
}

void EventStore::CommitGroup(std::deque<Pending>& group) {
  if (options_.before_group_for_testing) options_.before_group_for_testing();
  in_group_.store(true);
  auto start = std::chrono::steady_clock::now();
  const int64_t now = clock_->NowMs();
  dedup_.Expire(now);
  std::erase_if(sealed_dedup_, [&](const SealedDedup& d) {
    return now - d.max_received_ms > kDedupWindowMs + kMergeWindowMs;
  });
  std::vector<WriteResult> results(group.size());
  std::vector<std::string> inserted_keys;  // undo lists if the commit fails
  std::vector<std::string> replaced_keys;
  uint64_t seq_before = next_seq_;
  size_t n_events = 0;
  Status st = begin_.Run();
  for (size_t b = 0; b < group.size() && st.ok(); ++b) {
    auto& res = results[b];
    for (size_t ei = 0; ei < group[b].events.size(); ++ei) {
      auto& item = group[b].events[ei];
      const std::string& body = group[b].bodies[ei];
      ++n_events;
      std::string key;
      int kind;
      std::string_view pixel, name;
      int64_t event_time;
      if (auto* site = std::get_if<SiteEvent>(&item)) {
        key = SiteDedupKey(*site);
        if (!key.empty()) {
          if (auto hit = FindDuplicate(key, now)) {
            WriteOutcome how = WriteOutcome::kDuplicate;
            if (hit->browser_copy && !IsBrowserCopy(*site))
              how = WriteOutcome::kReplaced;
            else if (now - hit->first_received_ms <= kMergeWindowMs)
              how = WriteOutcome::kMerged;
            if (how != WriteOutcome::kDuplicate) st = MergeInto(hit->seq, *site, how);
            if (st.ok() && how == WriteOutcome::kReplaced) {
              dedup_.MarkServerCopy(key);
              replaced_keys.push_back(key);
            }
            res.outcomes.push_back(how);
            res.seqs.push_back(hit->seq);
            if (!st.ok()) break;
            continue;
          }
        }
        kind = kKindSite;
        pixel = site->pixel_id;
        name = site->event;
        event_time = site->event_time_ms;
      } else {
        auto& ad = std::get<AdEvent>(item);
        key = AdDedupKey(ad);
        if (!key.empty()) {
          if (auto hit = FindDuplicate(key, now)) {
            res.outcomes.push_back(WriteOutcome::kDuplicate);
            res.seqs.push_back(hit->seq);
            continue;
          }
        }
        kind = kKindAd;
        name = AdEventTypeName(ad.type);
        event_time = ad.event_time_ms;
      }
      uint64_t seq = next_seq_++;
      insert_.Bind(1, static_cast<int64_t>(seq)).Bind(2, static_cast<int64_t>(kind));
      if (pixel.empty())
        insert_.BindNull(3);
      else
        insert_.Bind(3, pixel);
      insert_.Bind(4, name);
      if (key.empty())
        insert_.BindNull(5);
      else
        insert_.Bind(5, key);
      insert_.Bind(6, event_time).Bind(7, now).BindStatic(8, body);  // body outlives Run()
      st = insert_.Run();
      if (!st.ok()) break;
      if (!key.empty()) {
        const auto* site = std::get_if<SiteEvent>(&item);
        dedup_.Insert(key, seq, now, site && IsBrowserCopy(*site));
        inserted_keys.push_back(std::move(key));
      }
      res.outcomes.push_back(WriteOutcome::kAccepted);
      res.seqs.push_back(seq);
    }
  }
  // Commit before ack: clients retry on timeout, so an ack must mean durable.
  if (st.ok()) st = commit_.Run();
  if (!st.ok()) {
    spdlog::error("commit of {} events failed: {}", n_events, st.message());
    (void)writer_db_.Exec("ROLLBACK");
    for (const auto& k : inserted_keys) dedup_.Erase(k);
    for (const auto& k : replaced_keys) dedup_.MarkBrowserCopy(k);
    next_seq_ = seq_before;
  }
  groups_done_.fetch_add(1);
  in_group_.store(false);
  if (st.ok()) {
    committed_seq_.store(next_seq_ - 1, std::memory_order_release);
    // With --no-fsync a commit is acknowledged as it stands: the marker follows each one.
    if (!options_.synchronous_full) NoteDurable(next_seq_ - 1);
    if (next_seq_ - 1 >= sealed_seq_.load() + options_.seal_events) {
      {
        std::lock_guard lock(seal_mu_);
        seal_wanted_ = true;
      }
      seal_cv_.notify_one();
    }
  }
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  {
    std::lock_guard lock(mu_);
    queued_events_ -= n_events;
    if (st.ok()) {
      stats_.commits++;
      stats_.committed_events += n_events;
      stats_.last_commit_ms = ms;
      stats_.commit_latency.Observe(ms);
    }
    stats_.dedup_keys = dedup_.size();
  }
  CommitListener listener;
  {
    std::lock_guard lock(mu_);
    listener = listener_;
  }
  if (st.ok() && listener) {
    std::vector<CommittedBatch> committed;
    committed.reserve(group.size());
    for (size_t b = 0; b < group.size(); ++b)  // the events are not needed past this point
      committed.push_back(
          CommittedBatch{std::move(group[b].events), results[b].seqs, results[b].outcomes});
    listener(std::move(committed));
  }
  for (size_t b = 0; b < group.size(); ++b) {
    if (!st.ok())
      results[b] = WriteResult{st, {}, {}, std::move(group[b].bodies)};
    else
      results[b].bodies = std::move(group[b].bodies);
  }
  const bool to_sync = options_.synchronous_full && st.ok();
  // A small group with nothing ahead of it (no group being synced or answered) is made durable
  // and answered right here. For a trickle of small requests (the pixel: one event each) the two
  // thread hand-offs to the syncer and the acker cost more than the overlap they buy, and while
  // the writer syncs, the next group grows. Big groups go on to the syncer, so that the next one
  // is written while this one is synced. Either way the answers follow the commit order.
  bool inline_ack = n_events <= kInlineAckEvents;
  if (inline_ack) {
    std::lock_guard lock(ack_mu_);
    inline_ack = ack_events_ == 0;  // (so neither the syncer nor the acker is busy)
  }
  if (inline_ack) {
    {
      // Counted before the answers go out, so that whoever an answer wakes sees it counted.
      std::lock_guard lock(mu_);
      stats_.groups_answered_by_writer++;
    }
    if (to_sync) {
      Status synced = SyncWal();
      if (!synced.ok()) {
        spdlog::error("{}: answering {} batches with an error", synced.message(), group.size());
        FailBatches(results, synced);
      }
    }
    AnswerBatches(group, results);
    return;
  }
  // Hand the callbacks on. Bounded: past max_queued_events waiting for their answers, the
  // writer waits (and Submit() starts refusing once its own queue fills up).
  {
    std::unique_lock lock(ack_mu_);
    ack_room_cv_.wait(lock, [&] {
      return ack_events_ == 0 || ack_events_ + n_events <= options_.max_queued_events;
    });
    ack_events_ += n_events;
    // A failed commit has nothing to make durable: straight to its (error) answers.
    (to_sync ? sync_queue_ : ack_queue_)
        .push_back(Committed{std::move(group), std::move(results), n_events});
  }
  (to_sync ? sync_cv_ : ack_cv_).notify_one();
}

void LatencyHistogram::Observe(double ms) {
  size_t i = 0;
  while (i < kBoundsMs.size() && ms > kBoundsMs[i]) ++i;
  counts[i]++;
  count++;
  sum_ms += ms;
  if (ms > max_ms) max_ms = ms;
}

// Each batch's callback with its result, in order. The batches' latencies are counted first, so
// that whoever an answer wakes sees its write counted.
void EventStore::AnswerBatches(std::deque<Pending>& batches, std::vector<WriteResult>& results) {
  const auto now = std::chrono::steady_clock::now();
  double slowest_ms = 0, commit_ms = 0, sync_ms = 0;
  bool warn = false;
  {
    std::lock_guard lock(mu_);
    for (const auto& p : batches) {
      const double ms = std::chrono::duration<double, std::milli>(now - p.submitted).count();
      stats_.write_latency.Observe(ms);
      slowest_ms = std::max(slowest_ms, ms);
    }
    if (slowest_ms > options_.slow_write_warn_ms &&
        now - last_slow_warning_ >= std::chrono::seconds(1)) {
      warn = true;
      last_slow_warning_ = now;
      commit_ms = stats_.last_commit_ms;
      sync_ms = stats_.last_sync_ms;
    }
  }
  if (warn)
    spdlog::warn(
        "slow write: a request waited {:.0f} ms for the store (answered with {} others; latest "
        "commit {:.1f} ms, latest WAL fdatasync {:.1f} ms; the rest was the wait for the writer)",
        slowest_ms, batches.size() - 1, commit_ms, sync_ms);
  for (size_t b = 0; b < batches.size(); ++b)
    if (batches[b].done) batches[b].done(std::move(results[b]));
}

// The fsync that was to make these batches durable failed: they are answered with its error.
void EventStore::FailBatches(std::vector<WriteResult>& results, const Status& st) {
  for (auto& r : results) r = WriteResult{st, {}, {}, std::move(r.bodies)};
}

Status EventStore::SyncWal() {
  if (wal_fd_ < 0) {
    const std::string wal = options_.data_dir + "/touchpoint.db-wal";
    wal_fd_ = ::open(wal.c_str(), O_RDONLY | O_CLOEXEC);
    if (wal_fd_ < 0) return Internal("cannot open " + wal + ": " + std::strerror(errno));
    // The WAL may have just been created: make its directory entry durable too, once.
    int dir = ::open(options_.data_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (dir >= 0) {
      (void)::fsync(dir);
      ::close(dir);
    }
  }
  // fdatasync flushes the file's dirty pages whichever descriptor it is called on: everything
  // the writer wrote to the WAL before this call, including the commits queued for us.
  // Read before the sync: every commit up to it is in the WAL's page cache, so the sync makes it
  // durable (later ones may be too; the marker then under-reports until the next sync).
  const uint64_t synced_seq = committed_seq_.load(std::memory_order_acquire);
  const auto start = std::chrono::steady_clock::now();
  if (::fdatasync(wal_fd_) != 0)
    return Internal(std::string("fdatasync of the WAL: ") + std::strerror(errno));
  // Before the answers go out, so that after a process crash the marker covers every
  // acknowledged event.
  NoteDurable(synced_seq);
  const double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start).count();
  std::lock_guard lock(mu_);
  stats_.sync_latency.Observe(ms);
  stats_.last_sync_ms = ms;
  return OkStatus();
}

void EventStore::SyncLoop() {
  for (;;) {
    std::deque<Committed> batch;
    {
      std::unique_lock lock(ack_mu_);
      sync_cv_.wait(lock, [&] { return !sync_queue_.empty() || sync_closing_; });
      if (sync_queue_.empty()) break;  // closing, and everything was synced
      batch.swap(sync_queue_);
    }
    Status st = SyncWal();
    if (!st.ok()) {
      spdlog::error("{}: answering {} batches with an error", st.message(), batch.size());
      for (auto& c : batch) FailBatches(c.results, st);
    }
    {
      std::lock_guard lock(ack_mu_);
      for (auto& c : batch) ack_queue_.push_back(std::move(c));
    }
    ack_cv_.notify_one();
  }
  if (wal_fd_ >= 0) ::close(wal_fd_);
  wal_fd_ = -1;
}

void EventStore::AckerLoop() {
  for (;;) {
    std::deque<Committed> batch;
    {
      std::unique_lock lock(ack_mu_);
      ack_cv_.wait(lock, [&] { return !ack_queue_.empty() || ack_closing_; });
      if (ack_queue_.empty()) return;  // closing, and everything was answered
      batch.swap(ack_queue_);
    }
    size_t events = 0;
    for (auto& c : batch) {
      AnswerBatches(c.group, c.results);
      events += c.events;
    }
    batch.clear();  // frees the requests' memory here, not on the writer
    {
      std::lock_guard lock(ack_mu_);
      ack_events_ -= events;
    }
    ack_room_cv_.notify_one();
  }
}

StatusOr<CreatedPixel> EventStore::CreatePixel(std::string_view name,
                                               std::vector<std::string> origins,
                                               std::string_view pixel_id,
                                               std::string_view access_token) {
  static const char kUpper[] = "ABCDEFGHJKLMNPQRSTUVWXYZ23456789";
  if (!pixel_id.empty() && FindPixel(pixel_id))
    return InvalidArgument("pixel_id", ": a pixel with this id exists already");
  if (!access_token.empty() && tokens_.Find(access_token))
    return InvalidArgument("access_token", ": already in use");
  CreatedPixel out;
  Pixel& p = out.pixel;
  p.pixel_id = pixel_id.empty() ? "TP" + RandomToken(18, kUpper, 32) : std::string(pixel_id);
  p.name = std::string(name);
  p.created_ms = clock_->NowMs();
  p.allowed_origins = std::move(origins);
  std::string joined;
  for (const auto& o : p.allowed_origins) joined += (joined.empty() ? "" : " ") + o;
  {
    std::lock_guard lock(mu_db_);
    auto ins = db_.Prepare(
        "INSERT INTO pixels(pixel_id, name, created_ms, allowed_origins) VALUES (?,?,?,?)");
    if (!ins.ok()) return ins.status();
    ins->Bind(1, p.pixel_id).Bind(2, p.name).Bind(3, p.created_ms).Bind(4, joined);
    TP_RETURN_IF_ERROR(ins->Run());
    auto issued = tokens_.Issue(
        db_, TokenKind::kPixel, p.pixel_id,
        access_token.empty() ? TokenTable::NewToken(TokenKind::kPixel) : std::string(access_token),
        {}, p.created_ms);
    if (!issued.ok()) return issued.status();
    out.access_token = std::move(issued->token);
  }
  std::lock_guard lock(mu_cache_);
  pixels_[p.pixel_id] = std::make_shared<const Pixel>(p);
  return out;
}

std::vector<Pixel> EventStore::ListPixels() const {
  std::lock_guard lock(mu_cache_);
  std::vector<Pixel> out;
  for (const auto& [id, p] : pixels_) out.push_back(*p);
  std::sort(out.begin(), out.end(), [](const Pixel& a, const Pixel& b) {
    return a.created_ms < b.created_ms || (a.created_ms == b.created_ms && a.pixel_id < b.pixel_id);
  });
  return out;
}

std::shared_ptr<const Pixel> EventStore::FindPixel(std::string_view pixel_id) const {
  std::lock_guard lock(mu_cache_);
  auto it = pixels_.find(pixel_id);
  return it == pixels_.end() ? nullptr : it->second;
}

std::shared_ptr<const Pixel> EventStore::FindPixelByToken(std::string_view token) const {
  auto owner = tokens_.Check(token, TokenKind::kPixel, clock_->NowMs());
  return owner ? FindPixel(*owner) : nullptr;
}

StatusOr<IssuedToken> EventStore::IssuePixelToken(std::string_view pixel_id,
                                                  const IssueOptions& options) {
  if (!FindPixel(pixel_id)) return NotFound("pixel_id: unknown pixel " + std::string(pixel_id));
  std::lock_guard lock(mu_db_);
  return tokens_.Issue(db_, TokenKind::kPixel, pixel_id, TokenTable::NewToken(TokenKind::kPixel),
                       options, clock_->NowMs());
}

std::vector<TokenInfo> EventStore::ListPixelTokens(std::string_view pixel_id) const {
  return tokens_.List(TokenKind::kPixel, pixel_id);
}

StatusOr<AdminTokenUse> EventStore::UseAdminToken(std::string_view token) {
  if (token.empty()) return InvalidArgument("admin token", ": empty");
  const int64_t now = clock_->NowMs();
  if (auto found = tokens_.Find(token)) {
    if (found->kind != TokenKind::kAdmin)
      return InvalidArgument("admin token", ": is a pixel's access token");
    if (found->info.ValidAt(now)) return AdminTokenUse::kKnown;
    return PermissionDenied("the admin token given (" + found->info.prefix +
                            "...) was rotated and stopped working at " +
                            FormatIso8601Ms(found->info.expires_ms) +
                            "; start with the current admin token");
  }
  const bool first = !tokens_.HasAny(TokenKind::kAdmin);
  IssueOptions replace;
  replace.grace_ms = 0;  // the operator changed the token: the old ones stop now
  std::lock_guard lock(mu_db_);
  auto issued = tokens_.Issue(db_, TokenKind::kAdmin, "", std::string(token), replace, now);
  if (!issued.ok()) return issued.status();
  return first ? AdminTokenUse::kAdded : AdminTokenUse::kReplaced;
}

bool EventStore::IsAdminToken(std::string_view token) const {
  return tokens_.Check(token, TokenKind::kAdmin, clock_->NowMs()).has_value();
}

StatusOr<IssuedToken> EventStore::RotateAdminToken(const IssueOptions& options) {
  std::lock_guard lock(mu_db_);
  return tokens_.Issue(db_, TokenKind::kAdmin, "", TokenTable::NewToken(TokenKind::kAdmin), options,
                       clock_->NowMs());
}

Status EventStore::PutCatalog(const Catalog& catalog) {
  TP_RETURN_IF_ERROR(format::ValidateCatalog(catalog));
  std::string json = format::CatalogToJson(catalog);
  {
    std::lock_guard lock(mu_db_);
    auto q = db_.Prepare("INSERT OR REPLACE INTO catalog(id, json) VALUES (1, ?)");
    if (!q.ok()) return q.status();
    q->Bind(1, std::string_view(json));
    TP_RETURN_IF_ERROR(q->Run());
  }
  std::lock_guard lock(mu_cache_);
  catalog_ = std::make_shared<Catalog>(catalog);
  return OkStatus();
}

std::shared_ptr<const Catalog> EventStore::GetCatalog() const {
  std::lock_guard lock(mu_cache_);
  return catalog_;
}

Status EventStore::PutSpend(const std::vector<SpendRow>& rows,
                            const std::vector<PlatformStatRow>& stats) {
  std::lock_guard lock(mu_db_);
  TP_RETURN_IF_ERROR(db_.Exec("BEGIN IMMEDIATE"));
  auto fail = [&](Status st) {
    (void)db_.Exec("ROLLBACK");
    return st;
  };
  auto q =
      db_.Prepare("INSERT OR REPLACE INTO spend(day_ms, ad_id, spend, currency) VALUES (?,?,?,?)");
  if (!q.ok()) return fail(q.status());
  for (const auto& r : rows) {
    q->Bind(1, r.day_ms).Bind(2, r.ad_id).Bind(3, r.spend).Bind(4, r.currency);
    if (Status st = q->Run(); !st.ok()) return fail(st);
  }
  if (!stats.empty()) {
    auto s = db_.Prepare(
        "INSERT OR REPLACE INTO platform_stats(day_ms, ad_id, age, gender, platform, spend, "
        "impressions, clicks, video_views, currency) VALUES (?,?,?,?,?,?,?,?,?,?)");
    if (!s.ok()) return fail(s.status());
    for (const auto& r : stats) {
      s->Bind(1, r.day_ms).Bind(2, r.ad_id).Bind(3, r.age).Bind(4, r.gender).Bind(5, r.platform);
      r.spend ? s->Bind(6, *r.spend) : s->BindNull(6);
      int col = 7;
      for (const auto& n : {r.impressions, r.clicks, r.video_views}) {
        n ? s->Bind(col, *n) : s->BindNull(col);
        ++col;
      }
      s->Bind(10, r.currency);
      if (Status st = s->Run(); !st.ok()) return fail(st);
    }
  }
  return db_.Exec("COMMIT");
}

StatusOr<std::vector<PlatformStatRow>> EventStore::GetPlatformStats() const {
  std::lock_guard lock(mu_db_);
  auto q = db_.Prepare(
      "SELECT day_ms, ad_id, age, gender, platform, spend, impressions, clicks, video_views, "
      "currency FROM platform_stats ORDER BY day_ms, ad_id, age, gender");
  if (!q.ok()) return q.status();
  std::vector<PlatformStatRow> out;
  Status st;
  auto count = [&](int col) {
    return q->IsNull(col) ? std::nullopt : std::optional<int64_t>(q->Int(col));
  };
  while (q->Step(&st)) {
    PlatformStatRow& r = out.emplace_back();
    r.day_ms = q->Int(0);
    r.ad_id = q->Text(1);
    r.age = q->Text(2);
    r.gender = q->Text(3);
    r.platform = q->Text(4);
    if (!q->IsNull(5)) r.spend = q->Double(5);
    r.impressions = count(6);
    r.clicks = count(7);
    r.video_views = count(8);
    r.currency = q->Text(9);
  }
  if (!st.ok()) return st;
  return out;
}

StatusOr<std::vector<SpendRow>> EventStore::GetSpend() const {
  std::lock_guard lock(mu_db_);
  auto q = db_.Prepare("SELECT day_ms, ad_id, spend, currency FROM spend ORDER BY day_ms, ad_id");
  if (!q.ok()) return q.status();
  std::vector<SpendRow> out;
  Status st;
  while (q->Step(&st))
    out.push_back(
        SpendRow{q->Int(0), std::string(q->Text(1)), q->Double(2), std::string(q->Text(3))});
  if (!st.ok()) return st;
  return out;
}

namespace {

// A sealed segment's rows, decoded (the file's bytes are freed before returning).
StatusOr<std::vector<SegmentRow>> ReadSegmentRows(const std::string& path) {
  auto bytes = ReadWholeFile(path);
  if (!bytes.ok()) return bytes.status();
  return DecodeSegment(*bytes, path);
}

}  // namespace

StatusOr<std::optional<StoredEvent>> EventStore::ReadView::Amended(uint64_t seq) const {
  auto a = amendments.find(seq);
  if (a == amendments.end()) return std::optional<StoredEvent>();
  auto ev = format::SiteEventFromJson(a->second);
  if (!ev.ok()) return Internal("amendment " + std::to_string(seq) + ": " + ev.status().message());
  return std::optional<StoredEvent>(std::move(*ev));
}

StatusOr<uint64_t> EventStore::ScanChunk(
    uint64_t after_seq, uint64_t last_seq, size_t max_events,
    const std::function<void(uint64_t, int64_t, const StoredEvent&)>& visit) const {
  auto view = BeginRead();
  if (!view.ok()) return view.status();
  // The next segment after `after_seq`, whole (a chunk is then one segment, whatever
  // max_events): it is decoded outside any read transaction, its file being immutable.
  for (const auto& seg : view->segments) {
    if (seg.last_seq <= after_seq) continue;
    if (seg.first_seq > last_seq) break;
    TP_RETURN_IF_ERROR(view->db.Exec("COMMIT"));  // the amendments are read: end the snapshot
    auto rows = ReadSegmentRows(seg.path);
    if (!rows.ok()) return rows.status();
    for (auto& r : *rows) {
      if (r.seq <= after_seq || r.seq > last_seq) continue;
      auto a = view->Amended(r.seq);
      if (!a.ok()) return a.status();
      if (*a) r.event = std::move(**a);
      visit(r.seq, r.received_ms, r.event);
    }
    return std::min(seg.last_seq, last_seq);
  }
  // Then the log's tail, up to max_events rows, read in a short transaction and parsed after it.
  struct Row {
    uint64_t seq;
    int64_t received_ms, kind;
    std::string body;
  };
  std::vector<Row> rows;
  {
    auto q = view->db.Prepare(
        "SELECT seq, received_ms, kind, body FROM events WHERE seq > ? AND seq <= ? ORDER BY seq "
        "LIMIT ?");
    if (!q.ok()) return q.status();
    q->Bind(1, static_cast<int64_t>(std::max(after_seq, view->sealed_seq)))
        .Bind(2, static_cast<int64_t>(std::min<uint64_t>(last_seq, INT64_MAX)))
        .Bind(3, static_cast<int64_t>(std::min<size_t>(max_events, INT64_MAX)));
    rows.reserve(std::min<size_t>(max_events, 1 << 16));
    Status st;
    while (q->Step(&st))
      rows.push_back(
          Row{static_cast<uint64_t>(q->Int(0)), q->Int(1), q->Int(2), std::string(q->Text(3))});
    if (!st.ok()) return st;
  }
  TP_RETURN_IF_ERROR(view->db.Exec("COMMIT"));  // the parsing below holds no snapshot
  for (const Row& row : rows) {
    auto a = view->Amended(row.seq);
    if (!a.ok()) return a.status();
    if (*a) {
      visit(row.seq, row.received_ms, **a);
      continue;
    }
    auto ev = ParseStored(row.seq, row.kind, row.body);
    if (!ev.ok()) return ev.status();
    visit(row.seq, row.received_ms, *ev);
  }
  return rows.empty() ? after_seq : rows.back().seq;
}

StatusOr<EventStore::SeqRange> EventStore::CommittedSeqRange() const {
  SeqRange range;
  {
    std::lock_guard lock(mu_db_);
    // Two queries: SQLite reads min() or max() alone from the end of the primary key, but both
    // in one query with a scan of the whole table.
    for (auto [sql, out] : {std::pair{"SELECT min(seq) FROM events", &range.first_seq},
                            std::pair{"SELECT max(seq) FROM events", &range.last_seq}}) {
      auto q = db_.Prepare(sql);
      if (!q.ok()) return q.status();
      Status st;
      if (q->Step(&st)) *out = static_cast<uint64_t>(q->Int(0));  // NULL (empty) reads as 0
      if (!st.ok()) return st;
    }
  }
  // Sealed events are below the log's tail.
  std::lock_guard lock(seg_mu_);
  if (!segments_.empty()) {
    range.first_seq = segments_.front().first_seq;
    range.last_seq = std::max(range.last_seq, segments_.back().last_seq);
  }
  return range;
}

std::optional<std::string> EventStore::GetMeta(std::string_view key) const {
  std::lock_guard lock(mu_db_);
  auto q = db_.Prepare("SELECT value FROM meta WHERE key = ?");
  if (!q.ok()) return std::nullopt;
  q->Bind(1, key);
  if (!q->Step()) return std::nullopt;
  return std::string(q->Text(0));
}

Status EventStore::SetMeta(std::string_view key, std::string_view value) {
  std::lock_guard lock(mu_db_);
  auto q = db_.Prepare("INSERT OR REPLACE INTO meta(key, value) VALUES (?, ?)");
  if (!q.ok()) return q.status();
  q->Bind(1, key).Bind(2, value);
  return q->Run();
}

StoreStats EventStore::Stats() const {
  std::lock_guard lock(mu_);
  StoreStats s = stats_;
  s.queued_events = queued_events_;
  std::lock_guard seg_lock(seg_mu_);
  s.segments = segments_.size();
  s.sealed_seq = sealed_seq_.load();
  for (const auto& f : segments_) s.segment_bytes += f.file_bytes;
  return s;
}

// --- Segments ------------------------------------------------------------------------------

Status EventStore::CheckSegments(const SeqRanges& manifest, SeqRanges lost, uint64_t& max_seq) {
  const std::string dir = options_.data_dir + "/segments";
  struct Found {
    uint64_t first, last;
    SegmentFile file;
    bool good;
  };
  std::vector<Found> files;
  std::error_code ec, exists_ec;
  if (std::filesystem::is_directory(dir, exists_ec)) {
    for (const auto& entry : std::filesystem::directory_iterator(dir, ec)) {
      const std::string name = entry.path().filename().string();
      const std::string path = entry.path().string();
      // A seal that stopped before its rename: its events are still in the log.
      if (name.size() > 4 && name.ends_with(".tmp")) {
        (void)::unlink(path.c_str());
        continue;
      }
      uint64_t first = 0, last = 0;
      if (!ParseSegmentFileName(name, first, last)) continue;  // e.g. *.damaged, kept aside
      Found f{first, last, SegmentFile{first, last, 0, 0, path}, false};
      auto bytes = ReadWholeFile(path);
      if (!bytes.ok()) return bytes.status();
      auto info = VerifySegment(*bytes, path);
      if (info.ok() && (info->first_seq != first || info->last_seq != last))
        info = Internal(path + ": damaged: it holds seq " + std::to_string(info->first_seq) + ".." +
                        std::to_string(info->last_seq) + ", not what its name says");
      if (info.ok()) {
        f.good = true;
        f.file.max_received_ms = info->max_received_ms;
        f.file.file_bytes = info->file_bytes;
      } else {
        f.file.path = info.status().message();  // the problem, for the report below
      }
      files.push_back(std::move(f));
    }
  }
  if (ec) return Internal(dir + ": cannot list: " + ec.message());
  std::sort(files.begin(), files.end(),
            [](const Found& a, const Found& b) { return a.first < b.first; });

  // Each problem with the seq range it loses.
  struct Problem {
    std::string text;
    uint64_t first, last;
    std::string move_aside;  // a damaged file's path
  };
  std::vector<Problem> problems;
  std::vector<std::pair<uint64_t, uint64_t>> covered;  // good files and accepted losses
  for (const auto& f : files) {
    if (f.good) {
      covered.emplace_back(f.first, f.last);
      continue;
    }
    problems.push_back(Problem{f.file.path + " (seq " + std::to_string(f.first) + ".." +
                                   std::to_string(f.last) + " unreadable)",
                               f.first, f.last, dir + "/" + SegmentFileName(f.first, f.last)});
  }
  for (const auto& [first, last] : manifest) {
    bool present = false;
    for (const auto& f : files) present |= f.first == first && f.last == last;
    if (!present)
      problems.push_back(Problem{dir + "/" + SegmentFileName(first, last) + ": missing (seq " +
                                     std::to_string(first) + ".." + std::to_string(last) + ")",
                                 first, last, ""});
  }
  for (const auto& r : lost) covered.push_back(r);
  for (const auto& p : problems) covered.emplace_back(p.first, p.last);
  std::sort(covered.begin(), covered.end());
  // The segments and accepted losses must cover seq 1.. without a gap.
  uint64_t expected = 1;
  for (const auto& [first, last] : covered) {
    if (first > expected)
      problems.push_back(Problem{dir + ": no segment holds seq " + std::to_string(expected) + ".." +
                                     std::to_string(first - 1),
                                 expected, first - 1, ""});
    expected = std::max(expected, last + 1);
  }
  std::sort(problems.begin(), problems.end(),
            [](const Problem& a, const Problem& b) { return a.first < b.first; });
  if (!problems.empty() && !options_.recover)
    return Internal(problems.front().text + "; start with --recover to accept the loss");
  for (const auto& p : problems) {
    spdlog::warn("--recover: accepting the loss of {}: {}", LossText(p.first, p.last), p.text);
    if (!p.move_aside.empty()) {
      const std::string aside = p.move_aside + ".damaged";
      if (::rename(p.move_aside.c_str(), aside.c_str()) != 0)
        return Internal(p.move_aside + ": cannot move aside: " + std::strerror(errno));
      spdlog::warn("{}: moved to {}", p.move_aside, aside);
    }
    lost.emplace_back(p.first, p.last);
    lost_ranges_changed_ = true;
  }
  std::sort(lost.begin(), lost.end());
  lost_ranges_ = std::move(lost);
  {
    std::lock_guard lock(seg_mu_);
    segments_.clear();
    for (auto& f : files)
      if (f.good) segments_.push_back(std::move(f.file));
    sealed_seq_.store(expected - 1);
  }
  max_seq = std::max(max_seq, expected - 1);
  return OkStatus();
}

Status EventStore::ReconcileSegments() {
  if (lost_ranges_changed_)
    TP_RETURN_IF_ERROR(SetMeta(kLostRangesMetaKey, FormatRanges(lost_ranges_)));
  std::vector<SegmentFile> segments;
  {
    std::lock_guard lock(seg_mu_);
    segments = segments_;
  }
  const uint64_t sealed = sealed_seq_.load();
  TP_RETURN_IF_ERROR(writer_db_.Exec("BEGIN IMMEDIATE"));
  Status st = writer_db_.Exec("DELETE FROM segments");
  auto ins =
      writer_db_.Prepare("INSERT INTO segments(first_seq, last_seq, file_bytes) VALUES (?, ?, ?)");
  if (st.ok() && !ins.ok()) st = ins.status();
  for (size_t i = 0; st.ok() && i < segments.size(); ++i) {
    ins->Bind(1, static_cast<int64_t>(segments[i].first_seq))
        .Bind(2, static_cast<int64_t>(segments[i].last_seq))
        .Bind(3, static_cast<int64_t>(segments[i].file_bytes));
    st = ins->Run();
  }
  // Rows a crash left in the log after their segment was renamed into place.
  if (st.ok() && sealed > 0) {
    auto del = writer_db_.Prepare("DELETE FROM events WHERE seq <= ?");
    if (!del.ok()) st = del.status();
    if (st.ok()) {
      del->Bind(1, static_cast<int64_t>(sealed));
      st = del->Run();
    }
  }
  if (st.ok()) return writer_db_.Exec("COMMIT");
  (void)writer_db_.Exec("ROLLBACK");
  return st;
}

Status EventStore::LoadSealedDedup() {
  // Only segments holding an event that arrived within the window (plus the merge window, as a
  // margin for the clock): older ones cannot hold the first copy of anything arriving now.
  const int64_t since = clock_->NowMs() - kDedupWindowMs - kMergeWindowMs;
  std::vector<SegmentFile> segments;
  {
    std::lock_guard lock(seg_mu_);
    segments = segments_;
  }
  for (auto it = segments.rbegin(); it != segments.rend(); ++it) {
    if (it->max_received_ms < since) break;
    auto bytes = ReadWholeFile(it->path);
    if (!bytes.ok()) return bytes.status();
    auto table = DecodeSegmentDedup(*bytes, it->path);
    if (!table.ok()) return table.status();
    if (!table->hashes.empty())
      sealed_dedup_.push_back(SealedDedup{it->path, it->max_received_ms, std::move(*table)});
  }
  return OkStatus();
}

StatusOr<const SegmentRow*> EventStore::SealedRow(uint64_t seq) {
  std::string path;
  {
    std::lock_guard lock(seg_mu_);
    auto it = std::upper_bound(segments_.begin(), segments_.end(), seq,
                               [](uint64_t s, const SegmentFile& f) { return s < f.first_seq; });
    if (it == segments_.begin() || (--it)->last_seq < seq)
      return Internal("stored event " + std::to_string(seq) + " is in no segment");
    path = it->path;
  }
  if (path != cached_segment_path_) {
    cached_segment_path_.clear();
    cached_rows_.clear();
    auto bytes = ReadWholeFile(path);
    if (!bytes.ok()) return bytes.status();
    auto rows = DecodeSegment(*bytes, path);
    if (!rows.ok()) return rows.status();
    cached_rows_ = std::move(*rows);
    cached_segment_path_ = path;
  }
  auto it = std::lower_bound(cached_rows_.begin(), cached_rows_.end(), seq,
                             [](const SegmentRow& r, uint64_t s) { return r.seq < s; });
  if (it == cached_rows_.end() || it->seq != seq)
    return Internal("stored event " + std::to_string(seq) + " not found in " + path);
  return &*it;
}

std::optional<DedupIndex::Entry> EventStore::FindDuplicate(const std::string& key, int64_t now) {
  if (auto hit = dedup_.Find(key, now)) return hit;
  if (sealed_dedup_.empty()) return std::nullopt;
  const uint32_t hash = DedupKeyHash32(key);
  for (const auto& sealed : sealed_dedup_) {
    const auto& t = sealed.table;
    auto [lo, hi] = std::equal_range(t.hashes.begin(), t.hashes.end(), hash);
    for (auto h = lo; h != hi; ++h) {
      const uint32_t row = t.rows[static_cast<size_t>(h - t.hashes.begin())];
      const int64_t received = t.received_ms[row];
      if (now - received > kDedupWindowMs) continue;
      uint64_t first_seq;
      {
        std::lock_guard lock(seg_mu_);
        auto f = std::find_if(segments_.begin(), segments_.end(),
                              [&](const SegmentFile& s) { return s.path == sealed.path; });
        if (f == segments_.end()) continue;
        first_seq = f->first_seq;
      }
      (void)first_seq;
      // The row's seq: decode the segment (cached) and check the real key (hashes collide).
      if (cached_segment_path_ != sealed.path) {
        auto bytes = ReadWholeFile(sealed.path);
        if (!bytes.ok()) continue;
        auto rows = DecodeSegment(*bytes, sealed.path);
        if (!rows.ok()) {
          spdlog::error("{}", rows.status().message());
          continue;
        }
        cached_rows_ = std::move(*rows);
        cached_segment_path_ = sealed.path;
      }
      if (row >= cached_rows_.size()) continue;
      const SegmentRow& r = cached_rows_[row];
      if (KeyOf(r.event) != key) continue;
      bool browser = false;
      if (const auto* site = std::get_if<SiteEvent>(&r.event)) {
        browser = IsBrowserCopy(*site);
        select_amendment_.Bind(1, static_cast<int64_t>(r.seq));
        if (select_amendment_.Step()) {
          auto amended = format::SiteEventFromJson(select_amendment_.Text(0));
          if (amended.ok()) browser = IsBrowserCopy(*amended);
        }
        select_amendment_.Reset();
      }
      dedup_.Insert(key, r.seq, received, browser);
      return DedupIndex::Entry{r.seq, received, browser};
    }
  }
  return std::nullopt;
}

Status EventStore::MergeInto(uint64_t seq, const SiteEvent& later, WriteOutcome how) {
  // The newest version of the event: its amendment, its log row, or its sealed copy.
  StatusOr<SiteEvent> first = Internal("merge: stored event " + std::to_string(seq) + " not found");
  Status st;
  select_amendment_.Bind(1, static_cast<int64_t>(seq));
  const bool amended = select_amendment_.Step(&st);
  if (amended) first = format::SiteEventFromJson(select_amendment_.Text(0));
  select_amendment_.Reset();
  TP_RETURN_IF_ERROR(st);
  bool in_log = false;
  if (!amended && seq > sealed_seq_.load()) {
    select_body_.Bind(1, static_cast<int64_t>(seq));
    in_log = select_body_.Step(&st);
    if (in_log) first = format::SiteEventFromJson(select_body_.Text(0));
    select_body_.Reset();
    TP_RETURN_IF_ERROR(st);
  }
  if (!amended && !in_log) {
    auto row = SealedRow(seq);
    if (!row.ok()) return row.status();
    const auto* site = std::get_if<SiteEvent>(&(*row)->event);
    if (!site) return Internal("merge: stored event " + std::to_string(seq) + " is an ad event");
    first = *site;
  }
  if (!first.ok()) return first.status();
  SiteEvent merged = *first;
  MergeCopies(merged, later, how);
  if (merged == *first) return OkStatus();
  std::string body;
  format::AppendSiteEventJson(merged, 0, 0, body);
  // A row the sealer may have read already must not change: the amendment overrides it.
  if (in_log && seq > sealing_upto_.load()) {
    update_body_.Bind(1, std::string_view(body))
        .Bind(2, merged.event_time_ms)
        .Bind(3, static_cast<int64_t>(seq));
    return update_body_.Run();
  }
  upsert_amendment_.Bind(1, static_cast<int64_t>(seq)).Bind(2, std::string_view(body));
  TP_RETURN_IF_ERROR(upsert_amendment_.Run());
  std::lock_guard lock(mu_);
  stats_.amendments++;
  return OkStatus();
}

Status EventStore::WriteSegmentFile(const std::string& path, const std::string& bytes) {
  const std::string tmp = path + ".tmp";
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return Internal(tmp + ": cannot create: " + std::strerror(errno));
  size_t done = 0;
  while (done < bytes.size()) {
    ssize_t n = ::write(fd, bytes.data() + done, bytes.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) {
      const int err = errno;
      ::close(fd);
      (void)::unlink(tmp.c_str());
      return Internal(tmp + ": cannot write: " + std::strerror(err));
    }
    done += static_cast<size_t>(n);
  }
  // Durable before it has its name: a segment that exists is whole.
  if (::fdatasync(fd) != 0) {
    const int err = errno;
    ::close(fd);
    (void)::unlink(tmp.c_str());
    return Internal(tmp + ": fdatasync: " + std::strerror(err));
  }
  ::close(fd);
  if (::rename(tmp.c_str(), path.c_str()) != 0)
    return Internal(tmp + ": cannot rename: " + std::strerror(errno));
  return SyncDirectory(options_.data_dir + "/segments");
}

Status EventStore::DeleteSealedRows(Database& db, const SegmentFile& seg) {
  // The manifest first, then the rows in chunks: each transaction holds the writer off, so
  // short ones. A crash in between leaves rows that the next open deletes (ReconcileSegments),
  // and readers never read log rows at or below the sealed seq.
  TP_RETURN_IF_ERROR(db.Exec("BEGIN IMMEDIATE"));
  auto ins = db.Prepare(
      "INSERT OR REPLACE INTO segments(first_seq, last_seq, file_bytes) "
      "VALUES (?, ?, ?)");
  Status st = ins.ok() ? OkStatus() : ins.status();
  if (st.ok()) {
    ins->Bind(1, static_cast<int64_t>(seg.first_seq))
        .Bind(2, static_cast<int64_t>(seg.last_seq))
        .Bind(3, static_cast<int64_t>(seg.file_bytes));
    st = ins->Run();
  }
  if (st.ok()) st = db.Exec("COMMIT");
  if (!st.ok()) {
    (void)db.Exec("ROLLBACK");
    return st;
  }
  auto del = db.Prepare("DELETE FROM events WHERE seq >= ? AND seq < ?");
  if (!del.ok()) return del.status();
  for (uint64_t from = seg.first_seq; from <= seg.last_seq; from += kDeleteChunk) {
    const uint64_t to = std::min<uint64_t>(from + kDeleteChunk, seg.last_seq + 1);
    del->Bind(1, static_cast<int64_t>(from)).Bind(2, static_cast<int64_t>(to));
    TP_RETURN_IF_ERROR(del->Run());
    YieldToWriter();
  }
  // Give the freed pages back to the file system, 256 pages (4 MiB) a transaction: each holds
  // the writer off (measured: 2048 pages took up to 190 ms, 256 about 25 ms).
  auto mode = db.Prepare("PRAGMA auto_vacuum");
  if (!mode.ok()) return mode.status();
  const int64_t auto_vacuum = mode->Step() ? mode->Int(0) : 0;
  mode = Statement();
  if (auto_vacuum == 0) {
    // A database created before segments: switched once, by a VACUUM, now that the log holds
    // only its tail (it holds the writer off while it copies that).
    spdlog::info("{}/touchpoint.db: switching to incremental auto-vacuum (one VACUUM)",
                 options_.data_dir);
    TP_RETURN_IF_ERROR(db.Exec("PRAGMA auto_vacuum=INCREMENTAL"));
    return db.Exec("VACUUM");
  }
  for (;;) {
    auto free = db.Prepare("PRAGMA freelist_count");
    if (!free.ok() || !free->Step() || free->Int(0) == 0) break;
    free = Statement();
    TP_RETURN_IF_ERROR(db.Exec("PRAGMA incremental_vacuum(256)"));
    YieldToWriter();
  }
  return OkStatus();
}

StatusOr<bool> EventStore::SealOnce(bool only_full) {
  std::lock_guard run(seal_run_mu_);
  uint64_t durable;
  {
    std::lock_guard lock(marker_mu_);
    durable = marker_record_.committed_seq;
  }
  // (Without a marker, as in tests that open no marker: what is committed.)
  durable =
      std::max(durable, options_.synchronous_full ? uint64_t{0}
                                                  : committed_seq_.load(std::memory_order_acquire));
  const uint64_t from = sealed_seq_.load() + 1;
  if (durable < from) return false;
  uint64_t upto = durable;
  const uint64_t run_events = std::max<size_t>(options_.seal_events, 1);
  if (upto - from + 1 >= run_events)
    upto = from + run_events - 1;
  else if (only_full)
    return false;
  if (only_full) {
    // Not before the run's newest event is past the 5-minute merge window: the copies that merge
    // (kMerged) then find their first copy in the log, not in a segment the writer would have to
    // decode. (Seqs follow arrival, so the run's last row is its newest.)
    auto newest = seal_db_.Prepare("SELECT received_ms FROM events WHERE seq = ?");
    if (!newest.ok()) return newest.status();
    newest->Bind(1, static_cast<int64_t>(upto));
    if (newest->Step() && clock_->NowMs() - newest->Int(0) <= kMergeWindowMs) return false;
  }
  // From here on merges into seqs up to `upto` go to amendments. A group that was already being
  // written may have decided otherwise: wait for it to end before reading the rows.
  sealing_upto_.store(upto);
  const uint64_t groups = groups_done_.load();
  if (in_group_.load())
    while (groups_done_.load() == groups)
      std::this_thread::sleep_for(std::chrono::microseconds(200));

  // The rows, in short read transactions of kDeleteChunk rows: a long one would hold off the
  // checkpointer's WAL restarts, and with them the writer. (Past the barrier above, nothing
  // changes these rows: merges into them go to amendments.)
  std::vector<SegmentRow> rows;
  {
    auto q = seal_db_.Prepare(
        "SELECT seq, kind, received_ms, body FROM events WHERE seq >= ? AND seq <= ? ORDER BY "
        "seq LIMIT ?");
    if (!q.ok()) return q.status();
    struct Raw {
      uint64_t seq;
      int64_t kind, received_ms;
      std::string body;
    };
    std::vector<Raw> chunk;
    for (uint64_t next = from; next <= upto;) {
      chunk.clear();
      q->Bind(1, static_cast<int64_t>(next))
          .Bind(2, static_cast<int64_t>(upto))
          .Bind(3, kDeleteChunk);
      Status st;
      while (q->Step(&st))
        chunk.push_back(
            Raw{static_cast<uint64_t>(q->Int(0)), q->Int(1), q->Int(2), std::string(q->Text(3))});
      q->Reset();  // ends the read transaction
      TP_RETURN_IF_ERROR(st);
      if (chunk.empty()) break;
      for (auto& raw : chunk) {
        auto ev = ParseStored(raw.seq, raw.kind, raw.body);
        if (!ev.ok()) return ev.status();
        rows.push_back(SegmentRow{raw.seq, raw.received_ms, std::move(*ev)});
      }
      next = chunk.back().seq + 1;
    }
  }
  if (rows.empty()) return false;
  const std::string dir = options_.data_dir + "/segments";
  if (!std::filesystem::is_directory(dir)) {
    std::error_code ec;
    std::filesystem::create_directories(dir, ec);
    if (ec) return Internal(dir + ": cannot create: " + ec.message());
    if (::chmod(dir.c_str(), 0700) != 0)  // the owner's alone, like the data directory
      return Internal(dir + ": cannot chmod: " + std::strerror(errno));
    TP_RETURN_IF_ERROR(SyncDirectory(options_.data_dir));
  }
  SegmentFile seg;
  seg.first_seq = rows.front().seq;
  seg.last_seq = rows.back().seq;
  seg.path = dir + "/" + SegmentFileName(seg.first_seq, seg.last_seq);
  for (const auto& r : rows) seg.max_received_ms = std::max(seg.max_received_ms, r.received_ms);
  const std::string bytes = EncodeSegment(rows, options_.seal_zstd_level);
  seg.file_bytes = bytes.size();
  rows.clear();
  TP_RETURN_IF_ERROR(WriteSegmentFile(seg.path, bytes));
  {
    std::lock_guard lock(seg_mu_);
    segments_.push_back(seg);
    sealed_seq_.store(seg.last_seq);
  }
  TP_RETURN_IF_ERROR(DeleteSealedRows(seal_db_, seg));
  return true;
}

Status EventStore::SealNow() {
  for (;;) {
    auto sealed = SealOnce(/*only_full=*/false);
    if (!sealed.ok()) return sealed.status();
    if (!*sealed) return OkStatus();
  }
}

void EventStore::SealLoop() {
  for (;;) {
    bool closing;
    {
      std::unique_lock lock(seal_mu_);
      seal_cv_.wait(lock, [&] { return seal_wanted_ || seal_closing_; });
      seal_wanted_ = false;
      closing = seal_closing_;
    }
    for (;;) {
      auto sealed = SealOnce(/*only_full=*/true);
      if (!sealed.ok()) {
        // The events stay in the log, and the next run tries again.
        spdlog::error("sealing a segment failed: {}", sealed.status().message());
        break;
      }
      if (!*sealed) break;
    }
    if (closing) return;
  }
}

StatusOr<EventStore::ReadView> EventStore::BeginRead() const {
  ReadView view;
  auto db = Database::Open(options_.data_dir + "/touchpoint.db", options_.synchronous_full);
  if (!db.ok()) return db.status();
  view.db = std::move(*db);
  // One read transaction for the log and the amendments, its snapshot taken (by the first
  // read) before the segment list is: a segment published after it still has its rows in the
  // snapshot, one published before is in the list, and log rows at or below the list's sealed
  // seq are skipped. So no event is read twice or missed.
  TP_RETURN_IF_ERROR(view.db.Exec("BEGIN"));
  auto q = view.db.Prepare("SELECT seq, body FROM amendments");
  if (!q.ok()) return q.status();
  Status st;
  while (q->Step(&st)) view.amendments.emplace(static_cast<uint64_t>(q->Int(0)), q->Text(1));
  TP_RETURN_IF_ERROR(st);
  std::lock_guard lock(seg_mu_);
  view.segments = segments_;
  view.sealed_seq = sealed_seq_.load();
  return view;
}

Status EventStore::Export(const ExportQuery& query,
                          const std::function<bool(std::string_view)>& line) const {
  // A connection of its own: exports may be long and must not block management calls.
  auto view = BeginRead();
  if (!view.ok()) return view.status();
  const bool by_pixel = !query.ads && !query.pixel_id.empty();  // ad events have no pixel
  std::string out;
  auto emit = [&](uint64_t seq, int64_t received_ms, std::string_view body) {
    out.clear();
    out += "{\"seq\":";
    out += std::to_string(seq);
    out += ",\"received_at_ms\":";
    out += std::to_string(received_ms);
    out += ',';
    out.append(body.substr(1));
    return line(out);
  };
  std::string body;
  for (const auto& seg : view->segments) {
    auto rows = ReadSegmentRows(seg.path);
    if (!rows.ok()) return rows.status();
    for (const auto& r : *rows) {
      const auto* site = std::get_if<SiteEvent>(&r.event);
      if ((site != nullptr) == query.ads) continue;
      body.clear();
      int64_t time;
      std::string_view pixel;
      std::optional<SiteEvent> amended;
      if (auto a = view->amendments.find(r.seq); site && a != view->amendments.end()) {
        auto parsed = format::SiteEventFromJson(a->second);
        if (!parsed.ok())
          return Internal("amendment " + std::to_string(r.seq) + ": " + parsed.status().message());
        amended = std::move(*parsed);
        site = &*amended;
        body = a->second;
      }
      if (site) {
        time = site->event_time_ms;
        pixel = site->pixel_id;
        if (body.empty()) format::AppendSiteEventJson(*site, 0, 0, body);
      } else {
        const auto& ad = std::get<AdEvent>(r.event);
        time = ad.event_time_ms;
        format::AppendAdEventJson(ad, 0, 0, body);
      }
      if (time < query.from_ms || time >= query.to_ms) continue;
      if (by_pixel && pixel != query.pixel_id) continue;
      if (!emit(r.seq, r.received_ms, body)) return OkStatus();
    }
  }
  std::string sql =
      "SELECT seq, received_ms, body FROM events WHERE seq > ? AND kind = ? AND event_time_ms >= "
      "? AND event_time_ms < ?";
  if (by_pixel) sql += " AND pixel_id = ?";
  sql += " ORDER BY seq";
  auto q = view->db.Prepare(sql);
  if (!q.ok()) return q.status();
  q->Bind(1, static_cast<int64_t>(view->sealed_seq));
  q->Bind(2, static_cast<int64_t>(query.ads ? kKindAd : kKindSite));
  q->Bind(3, query.from_ms).Bind(4, query.to_ms);
  if (by_pixel) q->Bind(5, query.pixel_id);
  Status st;
  while (q->Step(&st)) {
    const auto seq = static_cast<uint64_t>(q->Int(0));
    auto a = view->amendments.find(seq);
    if (!emit(seq, q->Int(1), a != view->amendments.end() ? a->second : q->Text(2))) break;
  }
  return st;
}

Status EventStore::ScanAll(
    const std::function<void(uint64_t, int64_t, const StoredEvent&)>& visit) const {
  auto view = BeginRead();
  if (!view.ok()) return view.status();
  for (const auto& seg : view->segments) {
    auto rows = ReadSegmentRows(seg.path);
    if (!rows.ok()) return rows.status();
    for (auto& r : *rows) {
      if (!view->amendments.empty()) {
        auto a = view->Amended(r.seq);
        if (!a.ok()) return a.status();
        if (*a) r.event = std::move(**a);
      }
      visit(r.seq, r.received_ms, r.event);
    }
  }
  auto q = view->db.Prepare(
      "SELECT seq, received_ms, kind, body FROM events WHERE seq > ? ORDER BY seq");
  if (!q.ok()) return q.status();
  q->Bind(1, static_cast<int64_t>(view->sealed_seq));
  Status st;
  while (q->Step(&st)) {
    const auto seq = static_cast<uint64_t>(q->Int(0));
    auto a = view->Amended(seq);
    if (!a.ok()) return a.status();
    if (*a) {
      visit(seq, q->Int(1), **a);
    } else {
      auto ev = ParseStored(seq, q->Int(2), q->Text(3));
      if (!ev.ok()) return ev.status();
      visit(seq, q->Int(1), *ev);
    }
  }
  return st;
}

}  // namespace touchpoint::store
