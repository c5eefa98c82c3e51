#pragma once
// The de-duplication index: which (pixel, event, event_id) keys were stored in the last 48 h,
// with the seq of the first copy and when it arrived. Single-threaded: the store's writer owns it.

#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <unordered_map>

#include "core/event.h"
#include "core/time.h"

namespace touchpoint::store {

inline constexpr int64_t kDedupWindowMs = 48 * kHourMs;
inline constexpr int64_t kMergeWindowMs = 5 * kMinuteMs;

// The dedup key of a site event, or "" when it has none: (pixel, event, event_id), or for a
// purchase without event_id, (pixel, event, order_id). A test event's key also holds its
// test_event_code, so test events never meet real ones (nor other test codes') in the index.
std::string SiteDedupKey(const SiteEvent& ev);
// Ad events de-duplicate only when the sender gave an event_id.
std::string AdDedupKey(const AdEvent& ev);

class DedupIndex {
 public:
  struct Entry {
    uint64_t seq;
    int64_t first_received_ms;
    bool browser_copy;  // the stored copy came from the pixel (a server copy may replace it)
  };

  // The entry for `key` if its first copy arrived within the window before now_ms.
  std::optional<Entry> Find(const std::string& key, int64_t now_ms) const;
  void Insert(const std::string& key, uint64_t seq, int64_t received_ms, bool browser_copy);
  // The stored copy of `key` is now a server copy (replaced), or (undo) a browser copy again.
  void MarkServerCopy(const std::string& key);
  void MarkBrowserCopy(const std::string& key);
  void Erase(const std::string& key);
  // Drops entries older than the window.
  void Expire(int64_t now_ms);
  size_t size() const { return map_.size(); }

 private:
  std::unordered_map<std::string, Entry> map_;
  std::deque<std::pair<int64_t, std::string>> by_time_;  // arrival order, for expiry
};

}  // namespace touchpoint::store
