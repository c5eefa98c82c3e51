#pragma once
// Sealed segments: immutable, compressed, column-oriented files holding a run of committed
// events, DATA/segments/seg-<first_seq>-<last_seq>.tps (docs/formats.md#segments).
//
// A segment holds every field of SiteEvent and AdEvent (core/event.h), each as its own column
// block compressed with zstd: per-segment dictionaries for repeated strings, hex digests packed
// as raw bytes, times and seqs as zigzag deltas. Each block carries an XXH64 of its compressed
// bytes and the file an XXH64 of everything before its footer, so a flipped bit or a truncated
// file is found, never read as events. Blocks are numbered by column id: a later version adds
// columns without renumbering, and a reader treats a column missing from an older file as empty.
//
// A segment also carries its dedup keys (store/dedup_index.h) as a table sorted by a 32-bit hash
// of the key with each key's row, so that a start can find the first copy of a late duplicate
// without reading every event: a hit is checked against the real key of the row.
//
// Everything here is a pure function of its arguments (no threads, no shared state).

#include <cstdint>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/event.h"
#include "core/status.h"

namespace touchpoint::store {

// Version 2 added the Events API 2.0 columns (101-119): a version-1 reader would drop them
// silently, so it refuses version-2 files instead; this build reads both.
inline constexpr uint32_t kSegmentFormatVersion = 2;

// One event as a segment holds it.
struct SegmentRow {
  uint64_t seq = 0;
  int64_t received_ms = 0;
  std::variant<SiteEvent, AdEvent> event;
};

// What a segment's header says, checked against its file (size, checksums).
struct SegmentInfo {
  uint64_t first_seq = 0;
  uint64_t last_seq = 0;
  uint64_t rows = 0;
  int64_t min_received_ms = 0;
  int64_t max_received_ms = 0;
  uint64_t file_bytes = 0;
  uint64_t checksum = 0;  // XXH64 of the file up to its footer
};

// The dedup table of a segment: `hashes` sorted, `rows[i]` the row whose key hashes to
// hashes[i]; `received_ms` per row of the segment (for the 48 h window).
struct SegmentDedupTable {
  std::vector<uint32_t> hashes;
  std::vector<uint32_t> rows;
  std::vector<int64_t> received_ms;
};

uint32_t DedupKeyHash32(std::string_view key);

// Encodes rows (in seq order, at least one) as a segment file's bytes. `zstd_level` trades
// sealing time for size (docs/benchmarks.md).
std::string EncodeSegment(std::span<const SegmentRow> rows, int zstd_level = 9);

// Checks a whole segment file (header, every block's checksum, the file checksum, its size);
// `path` names the file in errors. the error names the file and what is wrong.
StatusOr<SegmentInfo> VerifySegment(std::string_view bytes, const std::string& path);

// Decodes every row; verifies as VerifySegment does first.
StatusOr<std::vector<SegmentRow>> DecodeSegment(std::string_view bytes, const std::string& path);

// Only the dedup table (verifies the file first).
StatusOr<SegmentDedupTable> DecodeSegmentDedup(std::string_view bytes, const std::string& path);

// The file name of a segment: seg-<first>-<last>.tps (seqs zero-padded to 20 digits so that
// names sort by seq). ParseSegmentFileName returns false for anything else.
std::string SegmentFileName(uint64_t first_seq, uint64_t last_seq);
bool ParseSegmentFileName(std::string_view name, uint64_t& first_seq, uint64_t& last_seq);

}  // namespace touchpoint::store
