#include "store/commit_marker.h"

#include <fcntl.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

namespace touchpoint::store {

namespace {

// Slot layout, little-endian: magic[8] generation u64, committed_seq u64, checkpointed_seq u64,
// flags u32, zeros to byte 60, CRC-32 (IEEE) of bytes 0-59 at 60.
constexpr char kMagic[8] = {'T', 'P', 'M', 'A', 'R', 'K', '0', '1'};
constexpr size_t kCrcOffset = CommitMarker::kSlotBytes - 4;
constexpr uint32_t kFlagNoFsync = 1;

constexpr std::array<uint32_t, 256> MakeCrcTable() {
  std::array<uint32_t, 256> t{};
  for (uint32_t i = 0; i < 256; ++i) {
    uint32_t c = i;
    for (int k = 0; k < 8; ++k) c = (c & 1) ? 0xEDB88320u ^ (c >> 1) : c >> 1;
    t[i] = c;
  }
  return t;
}
constexpr std::array<uint32_t, 256> kCrcTable = MakeCrcTable();

uint32_t Crc32(const unsigned char* p, size_t n) {
  uint32_t c = 0xFFFFFFFFu;
  for (size_t i = 0; i < n; ++i) c = kCrcTable[(c ^ p[i]) & 0xFF] ^ (c >> 8);
  return c ^ 0xFFFFFFFFu;
}

void Put64(unsigned char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
void Put32(unsigned char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<unsigned char>(v >> (8 * i));
}
uint64_t Get64(const unsigned char* p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}
uint32_t Get32(const unsigned char* p) {
  uint32_t v = 0;
  for (int i = 3; i >= 0; --i) v = (v << 8) | p[i];
  return v;
}

struct Slot {
  bool valid = false;
  uint64_t generation = 0;
  MarkerRecord record;
};

Slot Decode(const unsigned char* p, size_t n) {
  Slot s;
  if (n < CommitMarker::kSlotBytes || std::memcmp(p, kMagic, sizeof kMagic) != 0 ||
      Get32(p + kCrcOffset) != Crc32(p, kCrcOffset))
    return s;
  s.valid = true;
  s.generation = Get64(p + 8);
  s.record.committed_seq = Get64(p + 16);
  s.record.checkpointed_seq = Get64(p + 24);
  s.record.no_fsync = (Get32(p + 32) & kFlagNoFsync) != 0;
  return s;
}

// Both slots of the file open at `fd`; the newest valid one, or none.
StatusOr<Slot> ReadNewest(int fd, const std::string& path) {
  Slot best;
  for (size_t i = 0; i < 2; ++i) {
    unsigned char buf[CommitMarker::kSlotBytes];
    ssize_t n = ::pread(fd, buf, sizeof buf, static_cast<off_t>(i * CommitMarker::kSlotStride));
    if (n < 0) return Internal(path + ": cannot read: " + std::strerror(errno));
    Slot s = Decode(buf, static_cast<size_t>(n));
    if (s.valid && (!best.valid || s.generation > best.generation)) best = s;
  }
  return best;
}

}  // namespace

void CommitMarker::Encode(const MarkerRecord& record, uint64_t generation, unsigned char* slot) {
  std::memset(slot, 0, kSlotBytes);
  std::memcpy(slot, kMagic, sizeof kMagic);
  Put64(slot + 8, generation);
  Put64(slot + 16, record.committed_seq);
  Put64(slot + 24, record.checkpointed_seq);
  Put32(slot + 32, record.no_fsync ? kFlagNoFsync : 0);
  Put32(slot + kCrcOffset, Crc32(slot, kCrcOffset));
}

StatusOr<CommitMarker::ReadResult> CommitMarker::Read(const std::string& path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) {
    if (errno == ENOENT) return ReadResult{State::kMissing, {}};
    return Internal(path + ": cannot open: " + std::strerror(errno));
  }
  auto newest = ReadNewest(fd, path);
  ::close(fd);
  if (!newest.ok()) return newest.status();
  if (!newest->valid) return ReadResult{State::kDamaged, {}};
  return ReadResult{State::kValid, newest->record};
}

StatusOr<CommitMarker> CommitMarker::Open(const std::string& path) {
  CommitMarker m;
  m.path_ = path;
  m.fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_CLOEXEC, 0600);
  if (m.fd_ < 0) return Internal(path + ": cannot open for writing: " + std::strerror(errno));
  auto newest = ReadNewest(m.fd_, path);
  if (!newest.ok()) return newest.status();
  m.generation_ = newest->valid ? newest->generation : 0;
  return m;
}

CommitMarker::CommitMarker(CommitMarker&& o) noexcept
    : path_(std::move(o.path_)), fd_(o.fd_), generation_(o.generation_) {
  o.fd_ = -1;
}

CommitMarker& CommitMarker::operator=(CommitMarker&& o) noexcept {
  std::swap(path_, o.path_);
  std::swap(fd_, o.fd_);
  std::swap(generation_, o.generation_);
  return *this;
}

CommitMarker::~CommitMarker() {
  if (fd_ >= 0) ::close(fd_);
}

Status CommitMarker::Write(const MarkerRecord& record) {
  unsigned char slot[kSlotBytes];
  const uint64_t generation = generation_ + 1;
  Encode(record, generation, slot);
  // Generation g goes to slot g % 2: the other slot keeps the previous record whole.
  const off_t offset = static_cast<off_t>((generation % 2) * kSlotStride);
  if (::pwrite(fd_, slot, sizeof slot, offset) != static_cast<ssize_t>(sizeof slot))
    return Internal(path_ + ": cannot write: " + std::strerror(errno));
  generation_ = generation;
  return OkStatus();
}

Status CommitMarker::Sync() {
  if (::fdatasync(fd_) != 0) return Internal(path_ + ": fdatasync: " + std::strerror(errno));
  return OkStatus();
}

}  // namespace touchpoint::store
