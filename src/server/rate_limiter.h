#pragma once
// Token buckets keyed by a string (a client address, a pixel id): the rate limits of the
// collection endpoints (docs/operations.md#rate-limits). Thread-safe; the buckets are sharded
// so that the I/O threads rarely wait for each other. Memory is bounded: past max_keys buckets,
// full ones (indistinguishable from new ones) are dropped, and if none is full the shard starts
// over (which lets traffic through rather than growing without bound).

#include <array>
#include <cstdint>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace touchpoint::server {

// A sustained rate and the burst allowed on top of it. per_s <= 0: no limit.
struct RateLimit {
  double per_s = 0;
  double burst = 0;

  bool unlimited() const { return per_s <= 0; }
  bool operator==(const RateLimit&) const = default;
};

class RateLimiter {
 public:
  explicit RateLimiter(size_t max_keys = 100000) : max_keys_per_shard_(max_keys / kShards + 1) {}

  // Takes `cost` tokens from `key`'s bucket (created full) when it holds them and returns
  // nullopt; otherwise takes nothing and returns the whole seconds until it will (>= 1), for a
  // Retry-After header. `now_ms` must not go backwards by much (a bucket never refills from a
  // clock that went back).
  std::optional<int> Take(std::string_view key, RateLimit limit, double cost, int64_t now_ms);

  size_t size() const;  // buckets held

 private:
  struct Bucket {
    double tokens;
    int64_t updated_ms;
  };
  struct StringHash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>{}(s); }
  };
  struct Shard {
    mutable std::mutex mu;
    std::unordered_map<std::string, Bucket, StringHash, std::equal_to<>> buckets;
  };
  static constexpr size_t kShards = 16;

  const size_t max_keys_per_shard_;
  std::array<Shard, kShards> shards_;
};

}  // namespace touchpoint::server
