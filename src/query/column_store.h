#pragma once
// In-memory columns of the stored events, for queries. Strings are dictionary-encoded (code 0 is
// always "", i.e. unknown); times are Unix ms; audience attributes are compact codes.
// These are plain containers: the query::Dataset owns them and decides the row order.

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "core/event.h"

namespace touchpoint::query {

class Dictionary {
 public:
  Dictionary() { Intern(""); }
  uint32_t Intern(std::string_view s);
  // UINT32_MAX when absent.
  uint32_t Find(std::string_view s) const;
  std::string_view Get(uint32_t code) const { return strings_[code]; }
  uint32_t size() const { return static_cast<uint32_t>(strings_.size()); }
  size_t MemoryBytes() const;

 private:
  std::vector<std::string> strings_;
  std::unordered_map<std::string_view, uint32_t>
      index_;  // views into strings_ (stable: deque-like growth avoided by reserve)
};

// Age buckets and genders as codes; 0 = unknown.
inline constexpr std::string_view kAgeNames[] = {"",      "13-17", "18-24", "25-34",
                                                 "35-44", "45-54", "55+"};
inline constexpr std::string_view kGenderNames[] = {"", "female", "male", "unknown"};
uint8_t AgeCode(std::string_view age);
uint8_t GenderCode(std::string_view gender);

inline constexpr uint32_t kNoNode = UINT32_MAX;

// Ad events (touchpoints). 36 bytes per row.
struct AdColumns {
  std::vector<uint8_t> type;       // AdEventType
  std::vector<uint8_t> age;        // AgeCode
  std::vector<uint8_t> gender;     // GenderCode
  std::vector<uint8_t> placement;  // placement dictionary code (few values)
  std::vector<uint32_t> ad;        // ad dictionary code
  std::vector<int64_t> time_ms;
  std::vector<uint32_t> node;      // identity node, kNoNode when the event has no identifier
  std::vector<uint32_t> watch_ms;  // video plays
  std::vector<uint32_t> video_ms;  // video plays
  std::vector<uint16_t> country, region, os, device;

  size_t size() const { return time_ms.size(); }
  void Reserve(size_t n);
  // Reorders every column: row i becomes old row order[i].
  void Permute(const std::vector<uint32_t>& order);
  size_t MemoryBytes() const;
};

// Site events (conversions and page views). 36 bytes per row.
struct SiteColumns {
  std::vector<uint64_t> seq;    // store sequence number (ascending)
  std::vector<uint16_t> pixel;  // pixel dictionary code
  std::vector<uint16_t> event;  // event-name dictionary code
  std::vector<uint16_t> currency;
  std::vector<int64_t> time_ms;
  std::vector<uint32_t> node;
  std::vector<double> value;  // NaN when absent

  size_t size() const { return time_ms.size(); }
  void Reserve(size_t n);
  size_t MemoryBytes() const;
};

}  // namespace touchpoint::query
