#pragma once
// The identity graph: the union of identifiers seen together (click id, cookie, external id,
// email/phone hash, the ad platform's user key). Identifiers are interned by a 64-bit hash of
// (type, value) — a collision needs ~4 billion identifiers to become likely — and joined with
// union-find. A cluster that would grow past `max_cluster_size` stops merging (a shared device
// or a bad integration must not collapse thousands of people into one); refusals are counted.

#include <cstdint>
#include <string_view>
#include <vector>

namespace touchpoint::identity {

enum class IdType : uint8_t {
  kClickId = 1,     // ttclid / click_id
  kCookie = 2,      // ttp / _tp
  kExternalId = 3,  // sha256
  kEmail = 4,       // sha256
  kPhone = 5,       // sha256
  kUserKey = 6,     // the ad platform's user key
  // first name + last name + ZIP code hashes together: one of them alone (or a city, state or
  // country) names too many people to join journeys on (docs/api.md#hashing-and-normalisation).
  kNameZip = 7,
};

uint64_t IdentifierHash(IdType type, std::string_view value);

class IdentityGraph {
 public:
  explicit IdentityGraph(uint32_t max_cluster_size = 10000) : max_cluster_size_(max_cluster_size) {}

  // The node of an identifier, created on first sight.
  uint32_t Intern(uint64_t id_hash);
  // The node, or UINT32_MAX when never seen.
  uint32_t Lookup(uint64_t id_hash) const;
  // Joins the clusters of a and b; false when refused by the size guard.
  bool Union(uint32_t a, uint32_t b);
  // The cluster root (with path halving).
  uint32_t Find(uint32_t node);
  uint32_t FindConst(uint32_t node) const;

  uint32_t size() const { return static_cast<uint32_t>(parent_.size()); }
  uint32_t ClusterSize(uint32_t node) { return size_[Find(node)]; }
  uint64_t refused_merges() const { return refused_merges_; }
  uint32_t max_cluster_size() const { return max_cluster_size_; }
  uint64_t merges() const { return merges_; }
  size_t MemoryBytes() const;

 private:
  void Grow();
  uint32_t max_cluster_size_;
  // Open addressing, linear probing: keys_ holds hashes (0 = empty; hash 0 is remapped).
  std::vector<uint64_t> keys_;
  std::vector<uint32_t> values_;
  size_t used_ = 0;
  std::vector<uint32_t> parent_;
  std::vector<uint32_t> size_;
  uint64_t refused_merges_ = 0;
  uint64_t merges_ = 0;
};

}  // namespace touchpoint::identity
