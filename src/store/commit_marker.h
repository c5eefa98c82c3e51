#pragma once
// The commit marker, DATA/touchpoint.db-marker: a small checksummed file outside SQLite that
// records the highest event seq known to be acknowledged and the highest known to be
// checkpointed into the database file, so that a start can tell a damaged, truncated or missing
// WAL or database file from a clean one (SQLite itself stops reading a WAL at its first bad
// frame and silently drops the rest). Format and reasoning: docs/formats.md#commit-marker.
//
// The file holds two copies (slots) of the record at offsets 0 and kSlotStride. Each write goes
// to the slot the previous write did not use, with a generation one higher, so a write torn by
// a power loss damages at most one copy; Read() takes the valid copy with the highest
// generation. Writes are pwrite()s without a sync (Sync() is separate): the callers write only
// values that are already durable elsewhere, so a marker left stale by a power loss can only
// under-report.

#include <cstdint>
#include <string>

#include "core/status.h"

namespace touchpoint::store {

struct MarkerRecord {
  // Highest seq acknowledged: committed and its WAL fdatasynced (with --no-fsync: committed).
  uint64_t committed_seq = 0;
  // Highest seq known to be in the database file itself (a complete checkpoint synced it).
  uint64_t checkpointed_seq = 0;
  // The store ran with synchronous_full=false (--no-fsync) when this was written.
  bool no_fsync = false;

  bool operator==(const MarkerRecord&) const = default;
};

class CommitMarker {
 public:
  static constexpr size_t kSlotBytes = 64;
  static constexpr size_t kSlotStride = 4096;  // one copy per disk sector / page

  enum class State : uint8_t {
    kMissing,  // no such file
    kDamaged,  // the file exists but neither copy has a valid magic and checksum
    kValid,
  };
  struct ReadResult {
    State state = State::kMissing;
    MarkerRecord record;  // kValid only
  };
  // Reads the marker at `path`. An I/O error other than "no such file" is an error.
  static StatusOr<ReadResult> Read(const std::string& path);

  // Opens (creating if needed) the marker at `path` for writing; the first Write() goes to the
  // slot not holding the newest valid copy.
  static StatusOr<CommitMarker> Open(const std::string& path);

  CommitMarker() = default;
  CommitMarker(CommitMarker&& o) noexcept;
  CommitMarker& operator=(CommitMarker&& o) noexcept;
  CommitMarker(const CommitMarker&) = delete;
  CommitMarker& operator=(const CommitMarker&) = delete;
  ~CommitMarker();

  // Writes `record` into the next slot (pwrite, no sync). Not thread-safe.
  Status Write(const MarkerRecord& record);
  // fdatasync of the marker file.
  Status Sync();
  bool is_open() const { return fd_ >= 0; }

  // The slot encoding, exposed for tests that damage a marker on purpose.
  static void Encode(const MarkerRecord& record, uint64_t generation, unsigned char* slot);

 private:
  std::string path_;
  int fd_ = -1;
  uint64_t generation_ = 0;  // of the last write
};

}  // namespace touchpoint::store
