#include "query/column_store.h"

namespace touchpoint::query {

uint32_t Dictionary::Intern(std::string_view s) {
  auto it = index_.find(s);
  if (it != index_.end()) return it->second;
  uint32_t code = static_cast<uint32_t>(strings_.size());
  // Keep views valid across growth: index_ keys point into heap strings, which std::string's
  // move keeps in place for non-SSO strings; re-key everything when the vector reallocates.
  bool realloc = strings_.size() == strings_.capacity();
  strings_.emplace_back(s);
  if (realloc) {
    index_.clear();
    for (uint32_t i = 0; i < strings_.size(); ++i) index_.emplace(strings_[i], i);
  } else {
    index_.emplace(strings_.back(), code);
  }
  return code;
}

uint32_t Dictionary::Find(std::string_view s) const {
  auto it = index_.find(s);
  return it == index_.end() ? UINT32_MAX : it->second;
}

size_t Dictionary::MemoryBytes() const {
  size_t n = strings_.capacity() * sizeof(std::string) + index_.size() * 48;
  for (const auto& s : strings_) n += s.capacity() > 15 ? s.capacity() : 0;
  return n;
}

uint8_t AgeCode(std::string_view age) {
  for (uint8_t i = 1; i < 7; ++i)
    if (kAgeNames[i] == age) return i;
  return 0;
}

uint8_t GenderCode(std::string_view gender) {
  for (uint8_t i = 1; i < 4; ++i)
    if (kGenderNames[i] == gender) return i;
  return 0;
}

void AdColumns::Reserve(size_t n) {
  type.reserve(n);
  age.reserve(n);
  gender.reserve(n);
  placement.reserve(n);
  ad.reserve(n);
  time_ms.reserve(n);
  node.reserve(n);
  watch_ms.reserve(n);
  video_ms.reserve(n);
  country.reserve(n);
  region.reserve(n);
  os.reserve(n);
  device.reserve(n);
}

namespace {
template <typename T>
void PermuteColumn(std::vector<T>& col, const std::vector<uint32_t>& order) {
  std::vector<T> out(order.size());
  for (size_t i = 0; i < order.size(); ++i) out[i] = col[order[i]];
  col.swap(out);
}
template <typename T>
size_t Bytes(const std::vector<T>& v) {
  return v.capacity() * sizeof(T);
}
}  // namespace

void AdColumns::Permute(const std::vector<uint32_t>& order) {
  PermuteColumn(type, order);
  PermuteColumn(age, order);
  PermuteColumn(gender, order);
  PermuteColumn(placement, order);
  PermuteColumn(ad, order);
  PermuteColumn(time_ms, order);
  PermuteColumn(node, order);
  PermuteColumn(watch_ms, order);
  PermuteColumn(video_ms, order);
  PermuteColumn(country, order);
  PermuteColumn(region, order);
  PermuteColumn(os, order);
  PermuteColumn(device, order);
}

size_t AdColumns::MemoryBytes() const {
  return Bytes(type) + Bytes(age) + Bytes(gender) + Bytes(placement) + Bytes(ad) + Bytes(time_ms) +
         Bytes(node) + Bytes(watch_ms) + Bytes(video_ms) + Bytes(country) + Bytes(region) +
         Bytes(os) + Bytes(device);
}

void SiteColumns::Reserve(size_t n) {
  seq.reserve(n);
  pixel.reserve(n);
  event.reserve(n);
  currency.reserve(n);
  time_ms.reserve(n);
  node.reserve(n);
  value.reserve(n);
}

size_t SiteColumns::MemoryBytes() const {
  return Bytes(seq) + Bytes(pixel) + Bytes(event) + Bytes(currency) + Bytes(time_ms) + Bytes(node) +
         Bytes(value);
}

}  // namespace touchpoint::query
