#include "server/rate_limiter.h"

#include <algorithm>
#include <cmath>

namespace touchpoint::server {

std::optional<int> RateLimiter::Take(std::string_view key, RateLimit limit, double cost,
                                     int64_t now_ms) {
  if (limit.unlimited()) return std::nullopt;
  const double burst = std::max(limit.burst, 1.0);
  Shard& shard = shards_[std::hash<std::string_view>{}(key) % kShards];
  std::lock_guard lock(shard.mu);
  auto it = shard.buckets.find(key);
  if (it == shard.buckets.end()) {
    if (shard.buckets.size() >= max_keys_per_shard_) {
      // A bucket that has refilled is the same as a new one: drop those. When none has (a flood
      // from more addresses than we keep), start the shard over rather than grow.
      std::erase_if(shard.buckets, [&](const auto& kv) {
        return kv.second.tokens + (now_ms - kv.second.updated_ms) * limit.per_s / 1000 >= burst;
      });
      if (shard.buckets.size() >= max_keys_per_shard_) shard.buckets.clear();
    }
    it = shard.buckets.emplace(std::string(key), Bucket{burst, now_ms}).first;
  }
  Bucket& b = it->second;
  if (now_ms > b.updated_ms) {
    b.tokens = std::min(burst, b.tokens + (now_ms - b.updated_ms) * limit.per_s / 1000);
    b.updated_ms = now_ms;
  }
  cost = std::min(cost, burst);  // a request larger than the burst passes on a full bucket
  if (b.tokens >= cost) {
    b.tokens -= cost;
    return std::nullopt;
  }
  const double missing = cost - b.tokens;
  return std::max(1, static_cast<int>(std::ceil(missing / limit.per_s)));
}

size_t RateLimiter::size() const {
  size_t n = 0;
  for (const auto& s : shards_) {
    std::lock_guard lock(s.mu);
    n += s.buckets.size();
  }
  return n;
}

}  // namespace touchpoint::server
