#include "store/segment.h"

#include <xxhash.h>
#include <zstd.h>

#include <algorithm>
#include <cstdio>
#include <cstring>
#include <map>
#include <unordered_map>

#include "store/dedup_index.h"

namespace touchpoint::store {

namespace {

// File layout (little-endian): a 64-byte header, blocks, a 16-byte footer.
//   header: magic "TPSEGMNT", u32 version, u32 block count, u64 first seq, u64 last seq, u64 rows,
//           i64 min received_ms, i64 max received_ms, u64 file bytes
//   block:  u32 column id, u32 stored bytes, u32 raw bytes, u32 codec (0 raw, 1 zstd),
//           u64 XXH64 of the stored bytes, the stored bytes
//   footer: u64 XXH64 of every byte before the footer, magic "TPSEGEND"
constexpr char kMagic[8] = {'T', 'P', 'S', 'E', 'G', 'M', 'N', 'T'};
constexpr char kEndMagic[8] = {'T', 'P', 'S', 'E', 'G', 'E', 'N', 'D'};
constexpr size_t kHeaderBytes = 64;
constexpr size_t kBlockHeaderBytes = 24;
constexpr size_t kFooterBytes = 16;
constexpr uint32_t kCodecRaw = 0;
constexpr uint32_t kCodecZstd = 1;

// Column ids: never renumbered; new fields get new ids.
enum Column : uint32_t {
  kSeq = 1,
  kReceived = 2,
  kKind = 3,  // 0 site, 1 ad
  kEventTime = 4,
  kPixel = 10,
  kSource = 11,
  kEvent = 12,
  kEventId = 13,
  kTestCode = 14,
  kTtclid = 15,
  kTtp = 16,
  kEmail = 17,
  kPhone = 18,
  kExternalId = 19,
  kIp = 20,
  kUserAgent = 21,
  kLocale = 22,
  kValue = 23,
  kCurrency = 24,
  kOrderId = 25,
  kContentType = 26,
  kQuery = 27,
  kDescription = 28,
  kPageUrl = 29,
  kPageReferrer = 30,
  kContentCount = 31,  // per site row; the item columns below have one entry per item
  kItemId = 32,
  kItemName = 33,
  kItemCategory = 34,
  kItemType = 35,
  kItemBrand = 36,
  kItemPrice = 37,
  kItemQuantity = 38,
  kAdType = 50,
  kAdEventId = 51,
  kAdId = 52,
  kUserKey = 53,
  kClickId = 54,
  kWatchMs = 55,  // video plays only
  kVideoMs = 56,  // video plays only
  kAdEmail = 57,
  kAdPhone = 58,
  kAge = 59,
  kGender = 60,
  kCountry = 61,
  kRegion = 62,
  kPlacement = 63,
  kOs = 64,
  kDevice = 65,
  kStudyId = 70,
  kCell = 71,
  kGhost = 72,  // "1" for a ghost impression
  // Added in format version 2 (Events API 2.0 fields), site rows; after kDedup so that 70-89
  // stay free for ad-event columns.
  kUserFirstName = 101,
  kUserLastName = 102,
  kUserZipCode = 103,
  kUserCity = 104,
  kUserState = 105,
  kUserCountry = 106,
  kShopId = 107,
  kNumItems = 108,      // optional ints
  kPredictedLtv = 109,  // optional doubles
  kPartnerName = 110,
  kLeadId = 111,
  kLeadEventSource = 112,
  kAppId = 113,
  kAppName = 114,
  kAppVersion = 115,
  kDevicePlatform = 116,
  kDeviceModel = 117,
  kDeviceMobile = 118,    // optional ints: 0 or 1
  kLimitedDataUse = 119,  // optional ints: 1 when set, absent otherwise
  kDedup = 90,
};

void Put32(std::string& out, uint32_t v) {
  for (int i = 0; i < 4; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void Put64(std::string& out, uint64_t v) {
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>(v >> (8 * i)));
}
void Set64(std::string& out, size_t at, uint64_t v) {
  for (int i = 0; i < 8; ++i) out[at + i] = static_cast<char>(v >> (8 * i));
}
uint64_t Get(const char* p, int bytes) {
  uint64_t v = 0;
  for (int i = bytes - 1; i >= 0; --i) v = (v << 8) | static_cast<unsigned char>(p[i]);
  return v;
}
void PutVarint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>(v | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}
uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
int64_t UnZigZag(uint64_t v) { return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1); }

// Sequential reads from a decoded column; any overrun sets failed() and reads zeros.
class Reader {
 public:
  explicit Reader(std::string_view data) : data_(data) {}
  uint64_t Varint() {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (pos_ >= data_.size()) return Fail();
      const auto b = static_cast<unsigned char>(data_[pos_++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if (b < 0x80) return v;
    }
    return Fail();
  }
  std::string_view Bytes(size_t n) {
    if (data_.size() - pos_ < n) {
      failed_ = true;
      pos_ = data_.size();
      return {};
    }
    std::string_view s = data_.substr(pos_, n);
    pos_ += n;
    return s;
  }
  uint64_t Fixed(int bytes) {
    std::string_view s = Bytes(static_cast<size_t>(bytes));
    return s.empty() ? 0 : Get(s.data(), bytes);
  }
  bool failed() const { return failed_; }
  std::string_view Rest() const { return data_.substr(pos_); }

 private:
  uint64_t Fail() {
    failed_ = true;
    pos_ = data_.size();
    return 0;
  }
  std::string_view data_;
  size_t pos_ = 0;
  bool failed_ = false;
};

// Lowercase hex of at least 16 digits and even length: stored as raw bytes (SHA-256 digests,
// 64 digits, become 32 bytes).
bool PackableHex(std::string_view s) {
  if (s.size() < 16 || s.size() % 2 != 0) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}
int HexValue(char c) { return c <= '9' ? c - '0' : c - 'a' + 10; }

// A list of strings: each entry's tag (length << 1 | packed) as varints, then their bytes.
void EncodeEntries(const std::vector<std::string_view>& entries, std::string& out) {
  std::string bytes;
  for (std::string_view s : entries) {
    if (PackableHex(s)) {
      PutVarint(out, (s.size() / 2) << 1 | 1);
      for (size_t i = 0; i < s.size(); i += 2)
        bytes.push_back(static_cast<char>(HexValue(s[i]) << 4 | HexValue(s[i + 1])));
    } else {
      PutVarint(out, s.size() << 1);
      bytes.append(s);
    }
  }
  out += bytes;
}

void DecodeEntries(Reader& in, size_t n, std::vector<std::string>& out) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::vector<uint64_t> tags(n);
  for (auto& t : tags) t = in.Varint();
  out.resize(n);
  for (size_t i = 0; i < n && !in.failed(); ++i) {
    std::string_view raw = in.Bytes(tags[i] >> 1);
    if (tags[i] & 1) {
      out[i].resize(raw.size() * 2);
      for (size_t k = 0; k < raw.size(); ++k) {
        const auto b = static_cast<unsigned char>(raw[k]);
        out[i][2 * k] = kHex[b >> 4];
        out[i][2 * k + 1] = kHex[b & 0xf];
      }
    } else {
      out[i].assign(raw);
    }
  }
}

// A string column: mode 0, a dictionary (distinct values in order of first use, then each row's
// index as byte planes of the narrowest width); mode 1, the values themselves (when most are
// distinct, an index would only add bytes).
std::string EncodeStrings(const std::vector<std::string_view>& values) {
  std::string out;
  std::unordered_map<std::string_view, uint32_t> ids;
  std::vector<std::string_view> dict;
  std::vector<uint32_t> index(values.size());
  for (size_t i = 0; i < values.size(); ++i) {
    auto [it, inserted] = ids.emplace(values[i], static_cast<uint32_t>(dict.size()));
    if (inserted) dict.push_back(values[i]);
    index[i] = it->second;
  }
  if (dict.size() * 4 > values.size() * 3 && values.size() > 16) {
    out.push_back(1);
    EncodeEntries(values, out);
    return out;
  }
  out.push_back(0);
  PutVarint(out, dict.size());
  EncodeEntries(dict, out);
  const int width = dict.size() <= 0x100       ? 1
                    : dict.size() <= 0x10000   ? 2
                    : dict.size() <= 0x1000000 ? 3
                                               : 4;
  out.push_back(static_cast<char>(width));
  if (dict.size() == 1) return out;  // every row holds the one value
  for (int plane = 0; plane < width; ++plane)
    for (uint32_t v : index) out.push_back(static_cast<char>(v >> (8 * plane)));
  return out;
}

Status Corrupt(const std::string& path, std::string_view what) {
  return Internal(path + ": damaged: " + std::string(what));
}

bool DecodeStrings(std::string_view data, size_t n, std::vector<std::string>& out) {
  out.clear();
  if (data.empty()) {  // a column absent from the file: every row empty
    out.resize(n);
    return true;
  }
  Reader in(data);
  const uint64_t mode = in.Fixed(1);
  if (mode == 1) {
    DecodeEntries(in, n, out);
    return !in.failed();
  }
  const uint64_t n_dict = in.Varint();
  if (in.failed() || n_dict > data.size() || (n_dict == 0 && n > 0)) return false;
  std::vector<std::string> dict;
  DecodeEntries(in, n_dict, dict);
  const int width = static_cast<int>(in.Fixed(1));
  if (in.failed() || width < 1 || width > 4) return false;
  out.resize(n);
  if (n_dict == 1) {
    for (auto& s : out) s = dict[0];
    return true;
  }
  std::vector<uint32_t> index(n, 0);
  for (int plane = 0; plane < width; ++plane) {
    std::string_view bytes = in.Bytes(n);
    if (in.failed()) return false;
    for (size_t i = 0; i < n; ++i)
      index[i] |= static_cast<uint32_t>(static_cast<unsigned char>(bytes[i])) << (8 * plane);
  }
  for (size_t i = 0; i < n; ++i) {
    if (index[i] >= n_dict) return false;
    out[i] = dict[index[i]];
  }
  return true;
}

// A list column (email hashes, ...): each row's count, then the flattened values as strings.
std::string EncodeLists(const std::vector<const std::vector<std::string>*>& lists) {
  std::string out;
  std::vector<std::string_view> flat;
  for (const auto* l : lists) {
    PutVarint(out, l->size());
    for (const auto& s : *l) flat.push_back(s);
  }
  if (flat.empty()) return "";
  out += EncodeStrings(flat);
  return out;
}

bool DecodeLists(std::string_view data, size_t n, std::vector<std::vector<std::string>>& out) {
  out.assign(n, {});
  if (data.empty()) return true;
  Reader in(data);
  std::vector<uint64_t> counts(n);
  uint64_t total = 0;
  for (auto& c : counts) {
    c = in.Varint();
    total += c;
  }
  if (in.failed() || total > data.size() * 8) return false;
  std::vector<std::string> flat;
  if (!DecodeStrings(in.Rest(), total, flat)) return false;
  size_t k = 0;
  for (size_t i = 0; i < n; ++i)
    for (uint64_t j = 0; j < counts[i]; ++j) out[i].push_back(std::move(flat[k++]));
  return true;
}

}  // namespace

namespace {

std::string EncodeInts(const std::vector<int64_t>& values, bool delta) {
  std::string out;
  int64_t prev = 0;
  for (int64_t v : values) {
    PutVarint(out, ZigZag(delta ? static_cast<int64_t>(static_cast<uint64_t>(v) -
                                                       static_cast<uint64_t>(prev))
                                : v));
    prev = v;
  }
  return out;
}

bool DecodeInts(std::string_view data, size_t n, bool delta, std::vector<int64_t>& out) {
  out.assign(n, 0);
  if (data.empty()) return true;
  Reader in(data);
  int64_t prev = 0;
  for (auto& v : out) {
    const int64_t d = UnZigZag(in.Varint());
    v = delta ? static_cast<int64_t>(static_cast<uint64_t>(prev) + static_cast<uint64_t>(d)) : d;
    prev = v;
  }
  return !in.failed();
}

// Optional doubles: a presence byte per row, then the present values' 8 bytes as byte planes.
std::string EncodeOptionalDoubles(const std::vector<std::optional<double>>& values) {
  std::string out;
  std::vector<uint64_t> bits;
  bool any = false;
  for (const auto& v : values) {
    out.push_back(v ? 1 : 0);
    if (v) {
      uint64_t b;
      std::memcpy(&b, &*v, 8);
      bits.push_back(b);
      any = true;
    }
  }
  if (!any) return "";
  for (int plane = 0; plane < 8; ++plane)
    for (uint64_t b : bits) out.push_back(static_cast<char>(b >> (8 * plane)));
  return out;
}

bool DecodeOptionalDoubles(std::string_view data, size_t n,
                           std::vector<std::optional<double>>& out) {
  out.assign(n, std::nullopt);
  if (data.empty()) return true;
  Reader in(data);
  std::string_view flags = in.Bytes(n);
  if (in.failed()) return false;
  const size_t present = static_cast<size_t>(std::count(flags.begin(), flags.end(), 1));
  std::vector<uint64_t> bits(present, 0);
  for (int plane = 0; plane < 8; ++plane) {
    std::string_view bytes = in.Bytes(present);
    if (in.failed()) return false;
    for (size_t i = 0; i < present; ++i)
      bits[i] |= static_cast<uint64_t>(static_cast<unsigned char>(bytes[i])) << (8 * plane);
  }
  for (size_t i = 0, k = 0; i < n; ++i) {
    if (flags[i] == 0) continue;
    if (flags[i] != 1) return false;
    double d;
    std::memcpy(&d, &bits[k++], 8);
    out[i] = d;
  }
  return true;
}

// Optional integers: a presence byte per row, then the present values as zigzag varints.
std::string EncodeOptionalInts(const std::vector<std::optional<int64_t>>& values) {
  std::string flags, ints;
  for (const auto& v : values) {
    flags.push_back(v ? 1 : 0);
    if (v) PutVarint(ints, ZigZag(*v));
  }
  return ints.empty() ? "" : flags + ints;
}

bool DecodeOptionalInts(std::string_view data, size_t n, std::vector<std::optional<int64_t>>& out) {
  out.assign(n, std::nullopt);
  if (data.empty()) return true;
  Reader in(data);
  std::string_view flags = in.Bytes(n);
  for (size_t i = 0; i < n && !in.failed(); ++i)
    if (flags[i]) out[i] = UnZigZag(in.Varint());
  return !in.failed();
}

// The blocks of a file, by column id, after its checks.
struct Blocks {
  SegmentInfo info;
  std::map<uint32_t, std::string_view> stored;
  std::map<uint32_t, std::pair<uint32_t, uint32_t>> codec_and_raw;
};

StatusOr<Blocks> ReadBlocks(std::string_view bytes, const std::string& path) {
  Blocks b;
  if (bytes.size() < 8 || std::memcmp(bytes.data(), kMagic, 8) != 0)
    return Internal(path + ": not a segment file (bad magic)");
  if (bytes.size() < kHeaderBytes + kFooterBytes)
    return Internal(path + ": truncated: " + std::to_string(bytes.size()) + " bytes");
  const char* h = bytes.data();
  const uint32_t version = static_cast<uint32_t>(Get(h + 8, 4));
  const uint32_t n_blocks = static_cast<uint32_t>(Get(h + 12, 4));
  b.info.first_seq = Get(h + 16, 8);
  b.info.last_seq = Get(h + 24, 8);
  b.info.rows = Get(h + 32, 8);
  b.info.min_received_ms = static_cast<int64_t>(Get(h + 40, 8));
  b.info.max_received_ms = static_cast<int64_t>(Get(h + 48, 8));
  b.info.file_bytes = Get(h + 56, 8);
  if (b.info.file_bytes != bytes.size())
    return Internal(path + ": truncated: " + std::to_string(bytes.size()) + " of " +
                    std::to_string(b.info.file_bytes) + " bytes");
  const size_t body = bytes.size() - kFooterBytes;
  if (std::memcmp(bytes.data() + body + 8, kEndMagic, 8) != 0) return Corrupt(path, "bad footer");
  b.info.checksum = Get(bytes.data() + body, 8);
  if (XXH64(bytes.data(), body, 0) != b.info.checksum) return Corrupt(path, "checksum mismatch");
  // The file checksum covers the header too, so what follows can trust it.
  if (version == 0 || version > kSegmentFormatVersion)
    return Internal(path + ": format version " + std::to_string(version) +
                    " is newer than this build reads (" + std::to_string(kSegmentFormatVersion) +
                    ")");
  size_t pos = kHeaderBytes;
  for (uint32_t i = 0; i < n_blocks; ++i) {
    if (body - pos < kBlockHeaderBytes) return Corrupt(path, "block directory overruns the file");
    const char* p = bytes.data() + pos;
    const auto id = static_cast<uint32_t>(Get(p, 4));
    const auto stored = static_cast<uint32_t>(Get(p + 4, 4));
    const auto raw = static_cast<uint32_t>(Get(p + 8, 4));
    const auto codec = static_cast<uint32_t>(Get(p + 12, 4));
    const uint64_t hash = Get(p + 16, 8);
    pos += kBlockHeaderBytes;
    if (body - pos < stored) return Corrupt(path, "block overruns the file");
    std::string_view data = bytes.substr(pos, stored);
    if (XXH64(data.data(), data.size(), 0) != hash)
      return Corrupt(path, "checksum mismatch in column block " + std::to_string(id));
    b.stored[id] = data;
    b.codec_and_raw[id] = {codec, raw};
    pos += stored;
  }
  if (pos != body) return Corrupt(path, "bytes after the last block");
  return b;
}

StatusOr<std::map<uint32_t, std::string>> Decompress(const Blocks& b, const std::string& path) {
  std::map<uint32_t, std::string> out;
  for (const auto& [id, data] : b.stored) {
    const auto [codec, raw] = b.codec_and_raw.at(id);
    std::string& col = out[id];
    if (codec == kCodecRaw) {
      col.assign(data);
    } else if (codec == kCodecZstd) {
      col.resize(raw);
      const size_t n = ZSTD_decompress(col.data(), col.size(), data.data(), data.size());
      if (ZSTD_isError(n) || n != raw)
        return Corrupt(path, "column block " + std::to_string(id) + " does not decompress");
    } else {
      return Corrupt(path, "unknown codec " + std::to_string(codec));
    }
  }
  return out;
}

std::string_view Col(const std::map<uint32_t, std::string>& cols, uint32_t id) {
  auto it = cols.find(id);
  return it == cols.end() ? std::string_view() : std::string_view(it->second);
}

std::string KeyOf(const std::variant<SiteEvent, AdEvent>& ev) {
  if (const auto* s = std::get_if<SiteEvent>(&ev)) return SiteDedupKey(*s);
  return AdDedupKey(std::get<AdEvent>(ev));
}

}  // namespace

uint32_t DedupKeyHash32(std::string_view key) {
  return static_cast<uint32_t>(XXH3_64bits(key.data(), key.size()));
}

std::string EncodeSegment(std::span<const SegmentRow> rows, int zstd_level) {
  std::map<uint32_t, std::string> cols;
  std::vector<int64_t> seqs, received, times, ad_types, watch, video, kinds, content_counts;
  std::vector<const SiteEvent*> sites;
  std::vector<const AdEvent*> ads;
  for (const auto& r : rows) {
    seqs.push_back(static_cast<int64_t>(r.seq));
    received.push_back(r.received_ms);
    if (const auto* s = std::get_if<SiteEvent>(&r.event)) {
      kinds.push_back(0);
      times.push_back(s->event_time_ms);
      sites.push_back(s);
    } else {
      const auto& a = std::get<AdEvent>(r.event);
      kinds.push_back(1);
      times.push_back(a.event_time_ms);
      ads.push_back(&a);
    }
  }
  cols[kSeq] = EncodeInts(seqs, true);
  cols[kReceived] = EncodeInts(received, true);
  cols[kEventTime] = EncodeInts(times, true);
  if (!ads.empty()) {
    std::string k;
    for (int64_t v : kinds) k.push_back(static_cast<char>(v));
    cols[kKind] = std::move(k);
  }
  // String columns, one entry per site (ad) row.
  auto strings = [&](uint32_t id, auto&& field, const auto& events) {
    std::vector<std::string_view> v;
    v.reserve(events.size());
    bool any = false;
    for (const auto* e : events) {
      v.push_back(field(*e));
      any |= !v.back().empty();
    }
    if (any) cols[id] = EncodeStrings(v);
  };
  auto lists = [&](uint32_t id, auto&& field, const auto& events) {
    std::vector<const std::vector<std::string>*> v;
    for (const auto* e : events) v.push_back(&field(*e));
    std::string c = EncodeLists(v);
    if (!c.empty()) cols[id] = std::move(c);
  };
  using S = SiteEvent;
  strings(
      kPixel, [](const S& e) -> std::string_view { return e.pixel_id; }, sites);
  strings(
      kSource, [](const S& e) -> std::string_view { return e.source; }, sites);
  strings(
      kEvent, [](const S& e) -> std::string_view { return e.event; }, sites);
  strings(
      kEventId, [](const S& e) -> std::string_view { return e.event_id; }, sites);
  strings(
      kTestCode, [](const S& e) -> std::string_view { return e.test_event_code; }, sites);
  strings(
      kTtclid, [](const S& e) -> std::string_view { return e.user.ttclid; }, sites);
  strings(
      kTtp, [](const S& e) -> std::string_view { return e.user.ttp; }, sites);
  lists(
      kEmail, [](const S& e) -> const auto& { return e.user.email_sha256; }, sites);
  lists(
      kPhone, [](const S& e) -> const auto& { return e.user.phone_sha256; }, sites);
  lists(
      kExternalId, [](const S& e) -> const auto& { return e.user.external_id_sha256; }, sites);
  strings(
      kIp, [](const S& e) -> std::string_view { return e.user.ip; }, sites);
  strings(
      kUserAgent, [](const S& e) -> std::string_view { return e.user.user_agent; }, sites);
  strings(
      kLocale, [](const S& e) -> std::string_view { return e.user.locale; }, sites);
  strings(
      kCurrency, [](const S& e) -> std::string_view { return e.currency; }, sites);
  strings(
      kOrderId, [](const S& e) -> std::string_view { return e.order_id; }, sites);
  strings(
      kContentType, [](const S& e) -> std::string_view { return e.content_type; }, sites);
  strings(
      kQuery, [](const S& e) -> std::string_view { return e.query; }, sites);
  strings(
      kDescription, [](const S& e) -> std::string_view { return e.description; }, sites);
  strings(
      kPageUrl, [](const S& e) -> std::string_view { return e.page_url; }, sites);
  strings(
      kPageReferrer, [](const S& e) -> std::string_view { return e.page_referrer; }, sites);
  strings(
      kUserFirstName, [](const S& e) -> std::string_view { return e.user.first_name_sha256; },
      sites);
  strings(
      kUserLastName, [](const S& e) -> std::string_view { return e.user.last_name_sha256; }, sites);
  strings(
      kUserZipCode, [](const S& e) -> std::string_view { return e.user.zip_code_sha256; }, sites);
  strings(
      kUserCity, [](const S& e) -> std::string_view { return e.user.city_sha256; }, sites);
  strings(
      kUserState, [](const S& e) -> std::string_view { return e.user.state_sha256; }, sites);
  strings(
      kUserCountry, [](const S& e) -> std::string_view { return e.user.country_sha256; }, sites);
  strings(
      kShopId, [](const S& e) -> std::string_view { return e.shop_id; }, sites);
  strings(
      kPartnerName, [](const S& e) -> std::string_view { return e.partner_name; }, sites);
  strings(
      kLeadId, [](const S& e) -> std::string_view { return e.lead_id; }, sites);
  strings(
      kLeadEventSource, [](const S& e) -> std::string_view { return e.lead_event_source; }, sites);
  strings(
      kAppId, [](const S& e) -> std::string_view { return e.app_id; }, sites);
  strings(
      kAppName, [](const S& e) -> std::string_view { return e.app_name; }, sites);
  strings(
      kAppVersion, [](const S& e) -> std::string_view { return e.app_version; }, sites);
  strings(
      kDevicePlatform, [](const S& e) -> std::string_view { return e.device_platform; }, sites);
  strings(
      kDeviceModel, [](const S& e) -> std::string_view { return e.device_model; }, sites);
  {
    std::vector<std::optional<int64_t>> num_items, mobile, limited;
    std::vector<std::optional<double>> ltv;
    for (const auto* e : sites) {
      num_items.push_back(e->num_items);
      ltv.push_back(e->predicted_ltv);
      mobile.push_back(e->device_mobile ? std::optional<int64_t>(*e->device_mobile) : std::nullopt);
      limited.push_back(e->limited_data_use ? std::optional<int64_t>(1) : std::nullopt);
    }
    if (auto c = EncodeOptionalInts(num_items); !c.empty()) cols[kNumItems] = std::move(c);
    if (auto c = EncodeOptionalDoubles(ltv); !c.empty()) cols[kPredictedLtv] = std::move(c);
    if (auto c = EncodeOptionalInts(mobile); !c.empty()) cols[kDeviceMobile] = std::move(c);
    if (auto c = EncodeOptionalInts(limited); !c.empty()) cols[kLimitedDataUse] = std::move(c);
  }
  {
    std::vector<std::optional<double>> values;
    std::vector<const ContentItem*> items;
    bool any_items = false;
    for (const auto* s : sites) {
      values.push_back(s->value);
      content_counts.push_back(static_cast<int64_t>(s->contents.size()));
      for (const auto& c : s->contents) items.push_back(&c);
      any_items |= !s->contents.empty();
    }
    std::string v = EncodeOptionalDoubles(values);
    if (!v.empty()) cols[kValue] = std::move(v);
    if (any_items) {
      cols[kContentCount] = EncodeInts(content_counts, false);
      using C = ContentItem;
      strings(
          kItemId, [](const C& c) -> std::string_view { return c.content_id; }, items);
      strings(
          kItemName, [](const C& c) -> std::string_view { return c.content_name; }, items);
      strings(
          kItemCategory, [](const C& c) -> std::string_view { return c.content_category; }, items);
      strings(
          kItemType, [](const C& c) -> std::string_view { return c.content_type; }, items);
      strings(
          kItemBrand, [](const C& c) -> std::string_view { return c.brand; }, items);
      std::vector<std::optional<double>> prices;
      std::vector<std::optional<int64_t>> quantities;
      for (const auto* c : items) {
        prices.push_back(c->price);
        quantities.push_back(c->quantity);
      }
      if (auto p = EncodeOptionalDoubles(prices); !p.empty()) cols[kItemPrice] = std::move(p);
      if (auto q = EncodeOptionalInts(quantities); !q.empty()) cols[kItemQuantity] = std::move(q);
    }
  }
  using A = AdEvent;
  if (!ads.empty()) {
    std::string types;
    for (const auto* a : ads) {
      types.push_back(static_cast<char>(a->type));
      if (a->type == AdEventType::kVideoPlay) {
        watch.push_back(a->watch_ms);
        video.push_back(a->video_ms);
      }
    }
    cols[kAdType] = std::move(types);
    if (!watch.empty()) {
      cols[kWatchMs] = EncodeInts(watch, false);
      cols[kVideoMs] = EncodeInts(video, false);
    }
  }
  strings(
      kAdEventId, [](const A& e) -> std::string_view { return e.event_id; }, ads);
  strings(
      kAdId, [](const A& e) -> std::string_view { return e.ad_id; }, ads);
  strings(
      kUserKey, [](const A& e) -> std::string_view { return e.user_key; }, ads);
  strings(
      kClickId, [](const A& e) -> std::string_view { return e.click_id; }, ads);
  lists(
      kAdEmail, [](const A& e) -> const auto& { return e.email_sha256; }, ads);
  lists(
      kAdPhone, [](const A& e) -> const auto& { return e.phone_sha256; }, ads);
  strings(
      kAge, [](const A& e) -> std::string_view { return e.age; }, ads);
  strings(
      kGender, [](const A& e) -> std::string_view { return e.gender; }, ads);
  strings(
      kCountry, [](const A& e) -> std::string_view { return e.country; }, ads);
  strings(
      kRegion, [](const A& e) -> std::string_view { return e.region; }, ads);
  strings(
      kPlacement, [](const A& e) -> std::string_view { return e.placement; }, ads);
  strings(
      kOs, [](const A& e) -> std::string_view { return e.os; }, ads);
  strings(
      kDevice, [](const A& e) -> std::string_view { return e.device; }, ads);
  strings(
      kStudyId, [](const A& e) -> std::string_view { return e.study_id; }, ads);
  strings(
      kCell, [](const A& e) -> std::string_view { return e.cell; }, ads);
  strings(
      kGhost, [](const A& e) -> std::string_view { return e.ghost ? "1" : ""; }, ads);
  // The dedup table: (hash, row) sorted by hash; hashes as deltas, rows as varints.
  {
    std::vector<std::pair<uint32_t, uint32_t>> keyed;
    for (size_t i = 0; i < rows.size(); ++i) {
      const std::string key = KeyOf(rows[i].event);
      if (!key.empty()) keyed.emplace_back(DedupKeyHash32(key), static_cast<uint32_t>(i));
    }
    if (!keyed.empty()) {
      std::sort(keyed.begin(), keyed.end());
      std::string d;
      PutVarint(d, keyed.size());
      uint32_t prev = 0;
      for (const auto& [h, row] : keyed) {
        PutVarint(d, h - prev);
        prev = h;
      }
      for (const auto& [h, row] : keyed) PutVarint(d, row);
      cols[kDedup] = std::move(d);
    }
  }

  std::string out(kHeaderBytes, '\0');
  std::memcpy(out.data(), kMagic, 8);
  int64_t min_received = rows.front().received_ms, max_received = min_received;
  for (const auto& r : rows) {
    min_received = std::min(min_received, r.received_ms);
    max_received = std::max(max_received, r.received_ms);
  }
  std::string header;
  Put32(header, kSegmentFormatVersion);
  Put32(header, static_cast<uint32_t>(cols.size()));
  Put64(header, rows.front().seq);
  Put64(header, rows.back().seq);
  Put64(header, rows.size());
  Put64(header, static_cast<uint64_t>(min_received));
  Put64(header, static_cast<uint64_t>(max_received));
  std::memcpy(out.data() + 8, header.data(), header.size());
  std::string packed;
  for (const auto& [id, raw] : cols) {
    packed.resize(ZSTD_compressBound(raw.size()));
    size_t n = ZSTD_compress(packed.data(), packed.size(), raw.data(), raw.size(), zstd_level);
    uint32_t codec = kCodecZstd;
    std::string_view stored(packed.data(), ZSTD_isError(n) ? 0 : n);
    if (ZSTD_isError(n) || n >= raw.size()) {
      codec = kCodecRaw;
      stored = raw;
    }
    Put32(out, id);
    Put32(out, static_cast<uint32_t>(stored.size()));
    Put32(out, static_cast<uint32_t>(raw.size()));
    Put32(out, codec);
    Put64(out, XXH64(stored.data(), stored.size(), 0));
    out.append(stored);
  }
  Set64(out, 56, out.size() + kFooterBytes);
  const uint64_t checksum = XXH64(out.data(), out.size(), 0);
  Put64(out, checksum);
  out.append(kEndMagic, 8);
  return out;
}

StatusOr<SegmentInfo> VerifySegment(std::string_view bytes, const std::string& path) {
  auto b = ReadBlocks(bytes, path);
  if (!b.ok()) return b.status();
  return b->info;
}

namespace {

// The columns every reader needs: seqs and received times, checked against the header.
Status DecodeSpine(const std::map<uint32_t, std::string>& cols, const SegmentInfo& info,
                   const std::string& path, std::vector<int64_t>& seqs,
                   std::vector<int64_t>& received) {
  const size_t n = info.rows;
  if (n == 0 || n > (uint64_t{1} << 32)) return Corrupt(path, "bad row count");
  if (!DecodeInts(Col(cols, kSeq), n, true, seqs) ||
      !DecodeInts(Col(cols, kReceived), n, true, received))
    return Corrupt(path, "bad seq or time column");
  if (static_cast<uint64_t>(seqs.front()) != info.first_seq ||
      static_cast<uint64_t>(seqs.back()) != info.last_seq)
    return Corrupt(path, "seqs disagree with the header");
  return OkStatus();
}

}  // namespace

StatusOr<std::vector<SegmentRow>> DecodeSegment(std::string_view bytes, const std::string& path) {
  auto blocks = ReadBlocks(bytes, path);
  if (!blocks.ok()) return blocks.status();
  auto decompressed = Decompress(*blocks, path);
  if (!decompressed.ok()) return decompressed.status();
  const auto& cols = *decompressed;
  const SegmentInfo& info = blocks->info;
  const size_t n = info.rows;
  std::vector<int64_t> seqs, received, times;
  TP_RETURN_IF_ERROR(DecodeSpine(cols, info, path, seqs, received));
  if (!DecodeInts(Col(cols, kEventTime), n, true, times)) return Corrupt(path, "bad time column");
  std::string_view kinds = Col(cols, kKind);
  if (!kinds.empty() && kinds.size() != n) return Corrupt(path, "bad kind column");
  size_t n_ad = 0;
  for (char k : kinds) n_ad += k == 1;
  const size_t n_site = n - n_ad;
  bool ok = true;
  auto strings = [&](uint32_t id, size_t count) {
    std::vector<std::string> v;
    ok &= DecodeStrings(Col(cols, id), count, v);
    return v;
  };
  auto lists = [&](uint32_t id, size_t count) {
    std::vector<std::vector<std::string>> v;
    ok &= DecodeLists(Col(cols, id), count, v);
    return v;
  };
  std::vector<SegmentRow> out(n);
  std::vector<SiteEvent> sites(n_site);
  {
    auto pixel = strings(kPixel, n_site), source = strings(kSource, n_site),
         event = strings(kEvent, n_site), event_id = strings(kEventId, n_site),
         test_code = strings(kTestCode, n_site), ttclid = strings(kTtclid, n_site),
         ttp = strings(kTtp, n_site), ip = strings(kIp, n_site),
         user_agent = strings(kUserAgent, n_site), locale = strings(kLocale, n_site),
         currency = strings(kCurrency, n_site), order_id = strings(kOrderId, n_site),
         content_type = strings(kContentType, n_site), query = strings(kQuery, n_site),
         description = strings(kDescription, n_site), page_url = strings(kPageUrl, n_site),
         page_referrer = strings(kPageReferrer, n_site);
    auto first_name = strings(kUserFirstName, n_site), last_name = strings(kUserLastName, n_site),
         zip_code = strings(kUserZipCode, n_site), city = strings(kUserCity, n_site),
         state = strings(kUserState, n_site), country = strings(kUserCountry, n_site),
         shop_id = strings(kShopId, n_site), partner_name = strings(kPartnerName, n_site),
         lead_id = strings(kLeadId, n_site), lead_source = strings(kLeadEventSource, n_site),
         app_id = strings(kAppId, n_site), app_name = strings(kAppName, n_site),
         app_version = strings(kAppVersion, n_site),
         device_platform = strings(kDevicePlatform, n_site),
         device_model = strings(kDeviceModel, n_site);
    std::vector<std::optional<int64_t>> num_items, mobile, limited;
    std::vector<std::optional<double>> ltv;
    ok &= DecodeOptionalInts(Col(cols, kNumItems), n_site, num_items);
    ok &= DecodeOptionalDoubles(Col(cols, kPredictedLtv), n_site, ltv);
    ok &= DecodeOptionalInts(Col(cols, kDeviceMobile), n_site, mobile);
    ok &= DecodeOptionalInts(Col(cols, kLimitedDataUse), n_site, limited);
    auto email = lists(kEmail, n_site), phone = lists(kPhone, n_site),
         external_id = lists(kExternalId, n_site);
    std::vector<std::optional<double>> values;
    ok &= DecodeOptionalDoubles(Col(cols, kValue), n_site, values);
    std::vector<int64_t> counts;
    ok &= DecodeInts(Col(cols, kContentCount), n_site, false, counts);
    uint64_t n_items = 0;
    for (int64_t c : counts) {
      ok &= c >= 0 && c < (int64_t{1} << 32);
      n_items += static_cast<uint64_t>(c);
    }
    if (!ok || n_items > bytes.size() * 8) return Corrupt(path, "bad site columns");
    auto item_id = strings(kItemId, n_items), item_name = strings(kItemName, n_items),
         item_category = strings(kItemCategory, n_items), item_type = strings(kItemType, n_items),
         item_brand = strings(kItemBrand, n_items);
    std::vector<std::optional<double>> prices;
    std::vector<std::optional<int64_t>> quantities;
    ok &= DecodeOptionalDoubles(Col(cols, kItemPrice), n_items, prices);
    ok &= DecodeOptionalInts(Col(cols, kItemQuantity), n_items, quantities);
    if (!ok) return Corrupt(path, "bad site columns");
    size_t item = 0;
    for (size_t i = 0; i < n_site; ++i) {
      SiteEvent& e = sites[i];
      e.pixel_id = std::move(pixel[i]);
      e.source = std::move(source[i]);
      e.event = std::move(event[i]);
      e.event_id = std::move(event_id[i]);
      e.test_event_code = std::move(test_code[i]);
      e.user.ttclid = std::move(ttclid[i]);
      e.user.ttp = std::move(ttp[i]);
      e.user.email_sha256 = std::move(email[i]);
      e.user.phone_sha256 = std::move(phone[i]);
      e.user.external_id_sha256 = std::move(external_id[i]);
      e.user.ip = std::move(ip[i]);
      e.user.user_agent = std::move(user_agent[i]);
      e.user.locale = std::move(locale[i]);
      e.value = values[i];
      e.currency = std::move(currency[i]);
      e.order_id = std::move(order_id[i]);
      e.content_type = std::move(content_type[i]);
      e.query = std::move(query[i]);
      e.description = std::move(description[i]);
      e.page_url = std::move(page_url[i]);
      e.page_referrer = std::move(page_referrer[i]);
      e.user.first_name_sha256 = std::move(first_name[i]);
      e.user.last_name_sha256 = std::move(last_name[i]);
      e.user.zip_code_sha256 = std::move(zip_code[i]);
      e.user.city_sha256 = std::move(city[i]);
      e.user.state_sha256 = std::move(state[i]);
      e.user.country_sha256 = std::move(country[i]);
      e.shop_id = std::move(shop_id[i]);
      e.num_items = num_items[i];
      e.predicted_ltv = ltv[i];
      e.partner_name = std::move(partner_name[i]);
      e.lead_id = std::move(lead_id[i]);
      e.lead_event_source = std::move(lead_source[i]);
      e.app_id = std::move(app_id[i]);
      e.app_name = std::move(app_name[i]);
      e.app_version = std::move(app_version[i]);
      e.device_platform = std::move(device_platform[i]);
      e.device_model = std::move(device_model[i]);
      if (mobile[i]) e.device_mobile = *mobile[i] != 0;
      e.limited_data_use = limited[i].has_value();
      for (int64_t k = 0; k < counts[i]; ++k, ++item)
        e.contents.push_back(ContentItem{std::move(item_id[item]), std::move(item_name[item]),
                                         std::move(item_category[item]), std::move(item_type[item]),
                                         std::move(item_brand[item]), prices[item],
                                         quantities[item]});
    }
  }
  std::vector<AdEvent> ads(n_ad);
  if (n_ad > 0) {
    std::string_view types = Col(cols, kAdType);
    if (types.size() != n_ad) return Corrupt(path, "bad ad type column");
    size_t n_plays = 0;
    for (char t : types) {
      if (static_cast<unsigned char>(t) > 2) return Corrupt(path, "bad ad type");
      n_plays += t == static_cast<char>(AdEventType::kVideoPlay);
    }
    std::vector<int64_t> watch, video;
    ok &= DecodeInts(Col(cols, kWatchMs), n_plays, false, watch);
    ok &= DecodeInts(Col(cols, kVideoMs), n_plays, false, video);
    auto event_id = strings(kAdEventId, n_ad), ad_id = strings(kAdId, n_ad),
         user_key = strings(kUserKey, n_ad), click_id = strings(kClickId, n_ad),
         age = strings(kAge, n_ad), gender = strings(kGender, n_ad),
         country = strings(kCountry, n_ad), region = strings(kRegion, n_ad),
         placement = strings(kPlacement, n_ad), os = strings(kOs, n_ad),
         device = strings(kDevice, n_ad), study_id = strings(kStudyId, n_ad),
         cell = strings(kCell, n_ad), ghost = strings(kGhost, n_ad);
    auto email = lists(kAdEmail, n_ad), phone = lists(kAdPhone, n_ad);
    if (!ok) return Corrupt(path, "bad ad columns");
    for (size_t i = 0, play = 0; i < n_ad; ++i) {
      AdEvent& e = ads[i];
      e.type = static_cast<AdEventType>(types[i]);
      if (e.type == AdEventType::kVideoPlay) {
        e.watch_ms = watch[play];
        e.video_ms = video[play];
        ++play;
      }
      e.event_id = std::move(event_id[i]);
      e.ad_id = std::move(ad_id[i]);
      e.user_key = std::move(user_key[i]);
      e.click_id = std::move(click_id[i]);
      e.email_sha256 = std::move(email[i]);
      e.phone_sha256 = std::move(phone[i]);
      e.age = std::move(age[i]);
      e.gender = std::move(gender[i]);
      e.country = std::move(country[i]);
      e.region = std::move(region[i]);
      e.placement = std::move(placement[i]);
      e.os = std::move(os[i]);
      e.device = std::move(device[i]);
      e.study_id = std::move(study_id[i]);
      e.cell = std::move(cell[i]);
      e.ghost = ghost[i] == "1";
    }
  }
  for (size_t i = 0, s = 0, a = 0; i < n; ++i) {
    out[i].seq = static_cast<uint64_t>(seqs[i]);
    out[i].received_ms = received[i];
    if (!kinds.empty() && kinds[i] == 1) {
      ads[a].event_time_ms = times[i];
      out[i].event = std::move(ads[a++]);
    } else {
      sites[s].event_time_ms = times[i];
      out[i].event = std::move(sites[s++]);
    }
  }
  return out;
}

StatusOr<SegmentDedupTable> DecodeSegmentDedup(std::string_view bytes, const std::string& path) {
  auto blocks = ReadBlocks(bytes, path);
  if (!blocks.ok()) return blocks.status();
  // Only the three columns needed.
  Blocks few;
  few.info = blocks->info;
  for (uint32_t id : {uint32_t{kSeq}, uint32_t{kReceived}, uint32_t{kDedup}}) {
    if (auto it = blocks->stored.find(id); it != blocks->stored.end()) {
      few.stored[id] = it->second;
      few.codec_and_raw[id] = blocks->codec_and_raw[id];
    }
  }
  auto cols = Decompress(few, path);
  if (!cols.ok()) return cols.status();
  SegmentDedupTable t;
  std::vector<int64_t> seqs;
  TP_RETURN_IF_ERROR(DecodeSpine(*cols, few.info, path, seqs, t.received_ms));
  std::string_view d = Col(*cols, kDedup);
  if (d.empty()) return t;
  Reader in(d);
  const uint64_t n = in.Varint();
  if (n > few.info.rows) return Corrupt(path, "bad dedup table");
  t.hashes.resize(n);
  t.rows.resize(n);
  uint32_t prev = 0;
  for (auto& h : t.hashes) {
    prev += static_cast<uint32_t>(in.Varint());
    h = prev;
  }
  for (auto& r : t.rows) {
    r = static_cast<uint32_t>(in.Varint());
    if (r >= few.info.rows) return Corrupt(path, "bad dedup table");
  }
  if (in.failed()) return Corrupt(path, "bad dedup table");
  return t;
}

std::string SegmentFileName(uint64_t first_seq, uint64_t last_seq) {
  char buf[64];
  std::snprintf(buf, sizeof buf, "seg-%020llu-%020llu.tps",
                static_cast<unsigned long long>(first_seq),
                static_cast<unsigned long long>(last_seq));
  return buf;
}

bool ParseSegmentFileName(std::string_view name, uint64_t& first_seq, uint64_t& last_seq) {
  if (name.size() != 4 + 20 + 1 + 20 + 4 || name.substr(0, 4) != "seg-" || name[24] != '-' ||
      name.substr(45) != ".tps")
    return false;
  auto parse = [](std::string_view digits, uint64_t& v) {
    v = 0;
    for (char c : digits) {
      if (c < '0' || c > '9') return false;
      v = v * 10 + static_cast<uint64_t>(c - '0');
    }
    return true;
  };
  return parse(name.substr(4, 20), first_seq) && parse(name.substr(25, 20), last_seq);
}

}  // namespace touchpoint::store
