#include "store/dedup_index.h"

namespace touchpoint::store {

std::string SiteDedupKey(const SiteEvent& ev) {
  std::string key;
  if (!ev.test_event_code.empty()) key.append("t\x1f").append(ev.test_event_code).append("\x1f");
  if (!ev.event_id.empty()) {
    key.reserve(ev.pixel_id.size() + ev.event.size() + ev.event_id.size() + 4);
    key.append("s\x1f").append(ev.pixel_id).append("\x1f").append(ev.event).append("\x1f");
    key.append(ev.event_id);
  } else if (!ev.order_id.empty() && IsPurchaseEvent(ev.event)) {
    key.append("o\x1f").append(ev.pixel_id).append("\x1f").append(ev.event).append("\x1f");
    key.append(ev.order_id);
  } else {
    return "";
  }
  return key;
}

std::string AdDedupKey(const AdEvent& ev) {
  if (ev.event_id.empty()) return "";
  std::string key("a\x1f");
  key.append(AdEventTypeName(ev.type)).append("\x1f").append(ev.ad_id).append("\x1f");
  key.append(ev.event_id);
  return key;
}

std::optional<DedupIndex::Entry> DedupIndex::Find(const std::string& key, int64_t now_ms) const {
  auto it = map_.find(key);
  if (it == map_.end()) return std::nullopt;
  if (now_ms - it->second.first_received_ms > kDedupWindowMs) return std::nullopt;
  return it->second;
}

void DedupIndex::Insert(const std::string& key, uint64_t seq, int64_t received_ms,
                        bool browser_copy) {
  map_[key] = Entry{seq, received_ms, browser_copy};
  by_time_.emplace_back(received_ms, key);
}

void DedupIndex::Erase(const std::string& key) { map_.erase(key); }

void DedupIndex::MarkServerCopy(const std::string& key) {
  if (auto it = map_.find(key); it != map_.end()) it->second.browser_copy = false;
}

void DedupIndex::MarkBrowserCopy(const std::string& key) {
  if (auto it = map_.find(key); it != map_.end()) it->second.browser_copy = true;
}

void DedupIndex::Expire(int64_t now_ms) {
  while (!by_time_.empty() && now_ms - by_time_.front().first > kDedupWindowMs) {
    auto it = map_.find(by_time_.front().second);
    // Only erase if this queue entry is the live one (a key can be re-inserted after expiry).
    if (it != map_.end() && it->second.first_received_ms == by_time_.front().first) map_.erase(it);
    by_time_.pop_front();
  }
}

}  // namespace touchpoint::store
