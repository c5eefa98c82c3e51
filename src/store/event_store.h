#pragma once
// The embedded store: an SQLite database (WAL) in the data directory holding the durable event
// log, pixels, the catalog and spend.
//
// Writes of events go through one writer thread that group-commits: every batch queued while a
// commit runs shares the next one. A batch's callback runs only after its commit succeeded, so
// an acknowledgement sent from the callback means the events are durable. For a big group, the
// fsync that makes the commit durable runs on another thread (the syncer) and the callbacks on a
// third (the acker), while the writer goes on with the next group; a small group with nothing
// ahead of it is synced and answered by the writer itself (kInlineAckEvents). Callbacks run in
// commit order either way. The queue is bounded (in events); Submit() refuses with
// kResourceExhausted when it is full.
//
// De-duplication happens in the writer, in commit order, so concurrent copies of one event can
// never both be stored.
//
// Committed events do not stay in the log: once StoreOptions::seal_events durable events are in
// it past the last segment, the sealer thread (tp-seal) writes them as one sealed segment
// (store/segment.h, DATA/segments/) and deletes them from the log, so the log holds only the
// unsealed tail. A late duplicate merging into a sealed event writes the merged event to the
// `amendments` table, which overrides the sealed copy on every read. Reads (Export, ScanAll)
// see segments, amendments and tail as one consistent sequence in seq order.

#include <array>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

#include "core/catalog.h"
#include "core/event.h"
#include "core/status.h"
#include "core/time.h"
#include "store/commit_marker.h"
#include "store/dedup_index.h"
#include "store/segment.h"
#include "store/sqlite_db.h"
#include "store/tokens.h"

namespace touchpoint::store {

struct StoreOptions {
  std::string data_dir;
  bool synchronous_full = true;       // fsync at every commit (survives power loss)
  size_t max_queued_events = 100000;  // beyond this, Submit() answers "retry later"
  // Tests only: runs on the writer thread before each group is written (to hold the writer).
  std::function<void()> before_group_for_testing;
  // After each checkpoint pass, the database file's pages but its newest this many bytes are
  // dropped from the page cache (the tail holds the rows a late duplicate may merge into).
  size_t cached_tail_bytes = size_t{256} << 20;
  // A request whose events waited longer than this for the store (queue, commit, sync) is logged
  // as a warning with the group's commit and sync times, at most once a second.
  double slow_write_warn_ms = 500;
  // Open() compares the events in the database (and its WAL) with the commit marker
  // (touchpoint.db-marker, store/commit_marker.h) and refuses when acknowledged events are
  // missing, the database file is missing while the marker says events were committed, or the
  // marker is damaged or missing on a database written with one; the message names the file and
  // the missing seq range. With `recover`, it opens anyway, logs the seq range and count of the
  // events lost (as a warning), and records the database as it is, so that the next open is
  // clean.
  bool recover = false;
  // Sealing (docs/formats.md#segments): the sealer seals runs of exactly this many durable
  // events, as soon as the log holds one past the last segment whose newest event arrived more
  // than 5 minutes ago (kMergeWindowMs); Close() seals the complete runs left that are as old.
  // A tail shorter than this stays in the log (so segments stay big enough to compress).
  size_t seal_events = 262144;
  int seal_zstd_level = 9;
  // Open() checks every segment file (checksums, sizes) and the seq ranges they cover against
  // the manifest in the database; damage refuses the start like a damaged log does.
};

struct Pixel {
  std::string pixel_id;
  std::string name;
  int64_t created_ms = 0;
  std::vector<std::string> allowed_origins;  // empty: any origin
};

// A pixel just created, with its first access token: the only time the token is seen in clear
// (the store keeps its digest, store/tokens.h).
struct CreatedPixel {
  Pixel pixel;
  std::string access_token;
};

// What UseAdminToken did with the admin token `serve` was given.
enum class AdminTokenUse : uint8_t {
  kKnown,     // a valid admin token already
  kAdded,     // the first admin token of this database
  kReplaced,  // new: the database's other admin tokens stopped working
};

enum class WriteOutcome : uint8_t {
  kAccepted = 0,   // stored
  kDuplicate = 1,  // a copy was already stored within 48 h; this one was dropped
  kMerged = 2,     // a duplicate within 5 min: its extra match keys were merged into the first
  // A server copy (sent with the pixel's access token) of an event whose stored copy came from
  // the browser (pixel): the server copy's fields replaced the stored copy's, keeping the
  // browser's match keys (MergeCopies in event_store.cc). Still one event, at the first seq.
  kReplaced = 3,
};
const char* WriteOutcomeName(WriteOutcome o);

using StoredEvent = std::variant<SiteEvent, AdEvent>;

// What the commit listener sees: each submitted batch of a commit, its events moved out of the
// write whole (one vector per batch, not one move per event), with each event's outcome and seq
// (for a duplicate, merged or not, the seq of the stored first copy).
struct CommittedBatch {
  std::vector<StoredEvent> events;
  std::vector<uint64_t> seqs;          // one per event
  std::vector<WriteOutcome> outcomes;  // one per event
};
using CommitListener = std::function<void(std::vector<CommittedBatch>)>;

struct WriteResult {
  Status status;                       // not OK: nothing of the batch was stored
  std::vector<WriteOutcome> outcomes;  // one per event, in order
  std::vector<uint64_t> seqs;          // seq of the stored copy (the first copy for duplicates)
  // Each event's JSON as submitted (docs/formats.md, the form export returns), stored or not (a
  // failed write too); moved out of the write so that nobody copies an event to show it (the
  // event debugger).
  std::vector<std::string> bodies;
};
using WriteCallback = std::function<void(WriteResult)>;

// Read-side filters for Export().
struct ExportQuery {
  std::string pixel_id;         // site events of this pixel; empty + ads=false: all site events
  bool ads = false;             // ad events instead of site events
  int64_t from_ms = INT64_MIN;  // event time, inclusive
  int64_t to_ms = INT64_MAX;    // event time, exclusive
};

// Durations counted into fixed buckets, for a Prometheus histogram (GET /metrics). counts[i]
// holds the observations in (kBoundsMs[i-1], kBoundsMs[i]], the last slot those above every
// bound; not cumulative (the renderer sums them up).
struct LatencyHistogram {
  static constexpr std::array<double, 15> kBoundsMs = {0.05, 0.1, 0.25, 0.5, 1,   2.5,  5,   10,
                                                       25,   50,  100,  250, 500, 1000, 2500};
  std::array<uint64_t, kBoundsMs.size() + 1> counts{};
  uint64_t count = 0;
  double sum_ms = 0;
  double max_ms = 0;  // the longest since the store opened

  void Observe(double ms);
};

struct StoreStats {
  uint64_t commits = 0;
  uint64_t committed_events = 0;
  double last_commit_ms = 0;
  double last_sync_ms = 0;
  LatencyHistogram commit_latency;  // a group's inserts and COMMIT (not the fsync)
  LatencyHistogram sync_latency;    // each fdatasync of the WAL (durable mode)
  // Each batch from Submit() until its answer is handed to its callback: queueing, the commit
  // and (durable mode) the sync it waited for. What a client's request waits for in the store.
  LatencyHistogram write_latency;
  size_t queued_events = 0;
  size_t dedup_keys = 0;
  uint64_t groups_answered_by_writer = 0;  // small groups synced and answered without hand-off
  uint64_t checkpoint_passes = 0;          // WAL checkpoint passes run by the checkpointer
  uint64_t checkpoint_restarts = 0;        // passes that held commits off to start the WAL over
  double checkpoint_restart_ms_sum = 0;    // how long those held commits off
  uint64_t wal_full_waits = 0;             // commits after which the writer waited for a restart
  uint64_t segments = 0;                   // sealed segment files
  uint64_t sealed_seq = 0;                 // every event up to this seq is in a segment
  uint64_t segment_bytes = 0;              // their size on disk
  uint64_t amendments = 0;                 // merges into sealed events since the store opened
};

class EventStore {
 public:
  static StatusOr<std::unique_ptr<EventStore>> Open(const StoreOptions& options,
                                                    const Clock* clock);
  ~EventStore();  // drains the queue, commits, stops the writer

  EventStore(const EventStore&) = delete;
  EventStore& operator=(const EventStore&) = delete;

  // Queues events for the writer. `done` runs on the acker thread (or, for a small group, on the
  // writer) after the commit and its fsync. When Submit refuses (the queue is full, the store is
  // closing: the returned status), `done` is neither called nor moved from.
  Status Submit(std::vector<StoredEvent> events, WriteCallback&& done);
  // Submits and waits (for the CLI, tests and bulk loads).
  WriteResult Write(std::vector<StoredEvent> events);
  // Stops accepting, commits everything queued, and joins the writer.
  void Close();
  // Called on the writer thread after each successful commit, before the batches' callbacks.
  void SetCommitListener(CommitListener listener);

  // Pixels.
  // `pixel_id` and `access_token` keep an existing pixel's ids (a TikTok pixel code and its
  // Events API token, so that a site's code and servers work unchanged); empty: new ones are
  // made. The caller validates their form; a taken id or token is refused naming the field.
  StatusOr<CreatedPixel> CreatePixel(std::string_view name,
                                     std::vector<std::string> allowed_origins,
                                     std::string_view pixel_id = {},
                                     std::string_view access_token = {});
  std::vector<Pixel> ListPixels() const;
  // nullptr when unknown. Pixels are immutable once created, so the answer can be kept.
  std::shared_ptr<const Pixel> FindPixel(std::string_view pixel_id) const;
  // The pixel owning this Events API access token, when the token is valid now.
  std::shared_ptr<const Pixel> FindPixelByToken(std::string_view token) const;
  // A new access token for the pixel; its other tokens stop after options.grace_ms unless
  // options.keep_existing (store/tokens.h). NotFound for an unknown pixel.
  StatusOr<IssuedToken> IssuePixelToken(std::string_view pixel_id, const IssueOptions& options);
  // The pixel's tokens (prefixes and expiry; never the tokens), oldest first.
  std::vector<TokenInfo> ListPixelTokens(std::string_view pixel_id) const;

  // Admin tokens, kept as digests like the pixels'. `serve` hands over the token it was given
  // (flag, environment or the data directory's admin_token file): a valid one is used as is; an
  // unknown one becomes the admin token and the others stop working at once (the operator
  // changed it); one that was rotated away and has expired is refused (PermissionDenied), so a
  // stale token in a start script is noticed rather than silently revived.
  StatusOr<AdminTokenUse> UseAdminToken(std::string_view token);
  bool IsAdminToken(std::string_view token) const;
  // A new admin token; the others stop after options.grace_ms.
  StatusOr<IssuedToken> RotateAdminToken(const IssueOptions& options);

  // Catalog and spend (replace-all for the catalog; upsert by (day, ad) for spend).
  Status PutCatalog(const Catalog& catalog);
  std::shared_ptr<const Catalog> GetCatalog() const;
  // `stats`, the ad platform's own rows (upsert by day, ad, age, gender), are written in the same
  // transaction as the spend they were summed into.
  Status PutSpend(const std::vector<SpendRow>& rows,
                  const std::vector<PlatformStatRow>& stats = {});
  StatusOr<std::vector<SpendRow>> GetSpend() const;
  // By day, ad, age, gender.
  StatusOr<std::vector<PlatformStatRow>> GetPlatformStats() const;

  // Calls `line` with each stored event's JSON (docs/formats.md), in commit order. Stops early
  // when `line` returns false.
  Status Export(const ExportQuery& query, const std::function<bool(std::string_view)>& line) const;
  // Visits every stored event, parsed, in commit order (for rebuilding in-memory state).
  Status ScanAll(const std::function<void(uint64_t seq, int64_t received_ms, const StoredEvent&)>&
                     visit) const;
  // Visits, in seq order, the next stored events with `after_seq` < seq <= `last_seq`: the
  // whole of the next sealed segment (decoded outside any read transaction), else at most
  // `max_events` rows of the log's tail, read in one short read transaction on a connection of
  // its own and parsed after it ended: a load in chunks never holds a snapshot for long (a long
  // one keeps the WAL from starting over, and a checkpoint restart waiting for it holds the
  // writer off). Amendments apply. Returns how far it got: the segment's end, or the last seq
  // visited (`after_seq` when none). Any thread, concurrently with writes.
  StatusOr<uint64_t> ScanChunk(uint64_t after_seq, uint64_t last_seq, size_t max_events,
                               const std::function<void(uint64_t seq, int64_t received_ms,
                                                        const StoredEvent&)>& visit) const;
  // The lowest and highest seq committed (0, 0 when the log is empty), read from the primary key
  // in microseconds whatever the size. Seqs are dense (a failed commit gives its seqs back), so
  // last_seq - first_seq + 1 is the number of stored events.
  struct SeqRange {
    uint64_t first_seq = 0, last_seq = 0;
  };
  StatusOr<SeqRange> CommittedSeqRange() const;

  // A string setting kept in the database (e.g. the admin token).
  std::optional<std::string> GetMeta(std::string_view key) const;
  Status SetMeta(std::string_view key, std::string_view value);

  StoreStats Stats() const;

  // Seals every durable event of the log's tail now, whatever its length (tests, benchmarks,
  // tools); the sealer thread does the same for complete runs of seal_events. Thread-safe.
  Status SealNow();

  // Background WAL checkpoints (16 KiB pages): the checkpointer wakes once the WAL holds
  // kCheckpointPages pages (8 MiB), then each time it has grown by kCheckpointStepPages more, and
  // copies what is there without blocking the writer. Under a steady load those passes never
  // complete (the writer commits while they copy), so once the WAL holds kRestartPages pages the
  // writer is held off while the rest is copied: the WAL starts over from its beginning, stays
  // bounded, and its file, reused, does not grow (which would cost each fdatasync an inode
  // write). Passes of 2 MiB rather than 8 keep that hold short (2-3 ms rather than 3-4 at full
  // speed: what is left to copy is what was committed during the last pass) and spread the
  // database file's flushes, which the WAL's fdatasync otherwise queues behind.
  static constexpr int kPageBytes = 16384;
  static constexpr int kCheckpointPages = 512;
  static constexpr int kCheckpointStepPages = 128;
  static constexpr int kRestartPages = 4 * kCheckpointPages;
  // The WAL's hard bound: past it, the writer waits after its commit (up to kWalFullWaitMs) for
  // the checkpointer to start the WAL over, so that a checkpointer starved of CPU (a busy
  // machine) cannot let the WAL grow without bound.
  static constexpr int kWalHardLimitPages = kRestartPages + kCheckpointPages;
  static constexpr int kWalFullWaitMs = 250;
  // Before a restart, up to kCatchUpPasses more passive passes while more than kRestartRestPages
  // pages are left for the restart to copy with the writer held off.
  static constexpr int kCatchUpPasses = 3;
  static constexpr int kRestartRestPages = 32;
  // Groups of at most this many events, with nothing ahead of them, are synced and answered on
  // the writer thread itself (CommitGroup).
  static constexpr size_t kInlineAckEvents = 64;
  const std::string& data_dir() const { return options_.data_dir; }

 private:
  struct Pending {
    std::vector<StoredEvent> events;
    std::vector<std::string> bodies;  // each event's stored JSON, made by the submitting thread
    WriteCallback done;
    std::chrono::steady_clock::time_point submitted;
  };

  // A committed group on its way to its callbacks.
  struct Committed {
    std::deque<Pending> group;
    std::vector<WriteResult> results;
    size_t events = 0;
  };

  EventStore(StoreOptions options, const Clock* clock);
  Status Init();
  // Before SQLite opens the database for writing: the marker against what the files hold.
  // Refuses, or with options_.recover logs the loss; sets marker_record_ for OpenMarker().
  Status CheckStorage();
  // After the connections are open: makes the WAL durable and records the state found.
  Status OpenMarker();
  // A commit of events up to `last_seq` is durable (synced, or committed with --no-fsync) /
  // in the database file: raises the marker (pwrite, no sync).
  void NoteDurable(uint64_t last_seq);
  void NoteCheckpointed(uint64_t last_seq);
  void WriteMarkerLocked();  // marker_mu_ held
  Status RecoverDedup();
  void WriterLoop();
  void CommitGroup(std::deque<Pending>& group);
  void AckerLoop();
  void AnswerBatches(std::deque<Pending>& batches, std::vector<WriteResult>& results);
  static void FailBatches(std::vector<WriteResult>& results, const Status& st);
  void SyncLoop();
  Status SyncWal();
  void CheckpointLoop();
  static int OnWalCommit(void* self, sqlite3* db, const char* name, int wal_pages);
  // Merges a later copy into the stored event `seq` (rules in MergeCopies): in its log row, or,
  // when it is sealed or being sealed, as an amendment.
  Status MergeInto(uint64_t seq, const SiteEvent& later, WriteOutcome how);
  // The stored copy of `key` within the window: the in-memory index, else the dedup tables of
  // the segments found at open (a hit there is checked against the real event, then indexed).
  std::optional<DedupIndex::Entry> FindDuplicate(const std::string& key, int64_t now);

  // Segments.
  struct SegmentFile {
    uint64_t first_seq = 0;
    uint64_t last_seq = 0;
    int64_t max_received_ms = 0;
    uint64_t file_bytes = 0;
    std::string path;
  };
  // Part of CheckStorage: the segment files against the manifest; raises max_seq to the end of
  // what they cover. Refuses, or with options_.recover moves damaged files aside and records
  // the seq ranges lost.
  using SeqRanges = std::vector<std::pair<uint64_t, uint64_t>>;
  Status CheckSegments(const SeqRanges& manifest, SeqRanges lost, uint64_t& max_seq);
  // After the writer's connection is open: the manifest follows the files, and log rows that a
  // crash left behind after their segment was written are deleted.
  Status ReconcileSegments();
  Status LoadSealedDedup();
  // The decoded rows of the segment holding `seq` (the writer's one-segment cache).
  StatusOr<const SegmentRow*> SealedRow(uint64_t seq);
  void SealLoop();
  // Seals the next run: of seal_events events, or (only_full=false) whatever is durable.
  // False when there was nothing to seal.
  StatusOr<bool> SealOnce(bool only_full);
  Status WriteSegmentFile(const std::string& path, const std::string& bytes);
  Status DeleteSealedRows(Database& db, const SegmentFile& seg);
  // Which segments and amendments a read sees (see Export).
  struct ReadView {
    Database db;
    std::vector<SegmentFile> segments;
    uint64_t sealed_seq = 0;
    std::unordered_map<uint64_t, std::string> amendments;  // seq -> body
    // The amended event stored as `seq`, parsed; nullopt when it has no amendment.
    StatusOr<std::optional<StoredEvent>> Amended(uint64_t seq) const;
  };
  StatusOr<ReadView> BeginRead() const;
  Status LoadPixels();

  StoreOptions options_;
  const Clock* clock_;

  // The writer's own connection and statements.
  Database writer_db_;
  Statement begin_;  // BEGIN IMMEDIATE and COMMIT, prepared once: each group runs both
  Statement commit_;
  Statement insert_;
  Statement select_body_;
  Statement update_body_;
  uint64_t next_seq_ = 1;
  // The last seq of the newest successful commit (stored by the writer after the COMMIT; read
  // by the syncer and the checkpointer before their fdatasync / pass, whose completion makes
  // every commit up to it durable).
  std::atomic<uint64_t> committed_seq_{0};
  DedupIndex dedup_;
  Statement select_amendment_;
  Statement upsert_amendment_;

  // Sealed segments in seq order, and the end of what they cover (lost ranges included).
  mutable std::mutex seg_mu_;
  std::vector<SegmentFile> segments_;                       // guarded by seg_mu_
  std::atomic<uint64_t> sealed_seq_{0};                     // written under seg_mu_
  std::vector<std::pair<uint64_t, uint64_t>> lost_ranges_;  // accepted with --recover
  bool lost_ranges_changed_ = false;
  // The sealer is reading the log up to this seq: a merge into a seq at or below it is written
  // as an amendment, never into the row the sealer may already have read.
  std::atomic<uint64_t> sealing_upto_{0};
  std::atomic<bool> in_group_{false};  // the writer is inside CommitGroup
  std::atomic<uint64_t> groups_done_{0};
  std::mutex seal_run_mu_;  // one seal at a time (the sealer, SealNow)
  std::mutex seal_mu_;
  std::condition_variable seal_cv_;
  bool seal_wanted_ = false;   // guarded by seal_mu_
  bool seal_closing_ = false;  // guarded by seal_mu_
  std::thread sealer_;
  Database seal_db_;  // the sealer's connection, used under seal_run_mu_
  // The dedup tables of segments found at open whose events arrived within the window (writer).
  struct SealedDedup {
    std::string path;
    int64_t max_received_ms = 0;
    SegmentDedupTable table;
  };
  std::vector<SealedDedup> sealed_dedup_;
  std::string cached_segment_path_;  // writer
  std::vector<SegmentRow> cached_rows_;

  // The commit marker and what it last recorded. Written by whoever made commits durable: the
  // syncer or the writer (SyncWal, or every commit with --no-fsync) and the checkpointer.
  std::mutex marker_mu_;
  CommitMarker marker_;               // guarded by marker_mu_
  MarkerRecord marker_record_;        // guarded by marker_mu_
  bool marker_write_failed_ = false;  // guarded by marker_mu_ (logged once)

  // Connection for management and reads, serialized by mu_db_.
  mutable std::mutex mu_db_;
  Database db_;

  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<Pending> queue_;
  size_t queued_events_ = 0;
  bool closing_ = false;
  StoreStats stats_;
  std::chrono::steady_clock::time_point last_slow_warning_;  // guarded by mu_
  std::thread writer_;
  CommitListener listener_;  // guarded by mu_

  // The callbacks of committed groups run on their own thread (the acker), so that the writer
  // starts the next commit while the previous group's answers are being built and sent.
  std::mutex ack_mu_;
  std::condition_variable ack_cv_;       // the acker waits for work
  std::condition_variable ack_room_cv_;  // the writer waits for room
  std::deque<Committed> ack_queue_;      // guarded by ack_mu_
  size_t ack_events_ = 0;                // events committed and not yet answered
  bool ack_closing_ = false;
  std::thread acker_;

  // Durability without holding the writer (synchronous_full): the writer commits with
  // synchronous=NORMAL (no fsync) and hands the group to the syncer (tp-sync), which fdatasyncs
  // the WAL, which makes every commit before it durable, and only then passes the groups on to
  // the acker. So the next group is written while the previous one is being synced.
  std::condition_variable sync_cv_;
  std::deque<Committed> sync_queue_;  // guarded by ack_mu_
  bool sync_closing_ = false;
  std::thread syncer_;
  int wal_fd_ = -1;  // the WAL file, opened by the syncer after the first commit
  int db_fd_ = -1;   // the database file (for posix_fadvise only)

  // WAL checkpoints run on their own thread and connection (tp-checkpoint), not inside one of
  // the writer's commits: the writer's automatic checkpoint is off, and its WAL hook wakes the
  // checkpointer once the WAL holds kCheckpointPages pages.
  Database checkpoint_db_;
  std::mutex ckpt_mu_;
  std::condition_variable ckpt_cv_;
  bool ckpt_wanted_ = false;              // guarded by ckpt_mu_
  std::condition_variable ckpt_done_cv_;  // a restart happened (the writer may wait for one)
  uint64_t ckpt_restarts_ = 0;            // guarded by ckpt_mu_
  int wal_pages_ = 0;                     // the WAL's length after the last commit (writer thread)
  int checkpoint_due_pages_ = kCheckpointPages;  // the next pass is due at this length (writer)
  bool ckpt_closing_ = false;
  std::thread checkpointer_;

  mutable std::mutex mu_cache_;
  // Transparent hashing: looked up by string_view on every collection request, no copy.
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  using PixelMap =
      std::unordered_map<std::string, std::shared_ptr<const Pixel>, StringHash, std::equal_to<>>;
  PixelMap pixels_;  // by id
  TokenTable tokens_;
  std::shared_ptr<const Catalog> catalog_;
};

}  // namespace touchpoint::store
