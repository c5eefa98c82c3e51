#include "identity/identity_graph.h"

namespace touchpoint::identity {

namespace {

// 64-bit FNV-1a over the type byte and the value, then a murmur finalizer for mixing.
uint64_t Mix(uint64_t h) {
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

}  // namespace

uint64_t IdentifierHash(IdType type, std::string_view value) {
  uint64_t h = 1469598103934665603ULL;
  h = (h ^ static_cast<uint8_t>(type)) * 1099511628211ULL;
  for (unsigned char c : value) h = (h ^ c) * 1099511628211ULL;
  h = Mix(h);
  return h == 0 ? 1 : h;
}

void IdentityGraph::Grow() {
  size_t cap = keys_.empty() ? 1024 : keys_.size() * 2;
  std::vector<uint64_t> keys(cap, 0);
  std::vector<uint32_t> values(cap, 0);
  size_t mask = cap - 1;
  for (size_t i = 0; i < keys_.size(); ++i) {
    if (!keys_[i]) continue;
    size_t j = keys_[i] & mask;
    while (keys[j]) j = (j + 1) & mask;
    keys[j] = keys_[i];
    values[j] = values_[i];
  }
  keys_.swap(keys);
  values_.swap(values);
}

uint32_t IdentityGraph::Intern(uint64_t id_hash) {
  if ((used_ + 1) * 10 > keys_.size() * 7) Grow();  // load factor <= 0.7
  size_t mask = keys_.size() - 1;
  size_t j = id_hash & mask;
  while (keys_[j]) {
    if (keys_[j] == id_hash) return values_[j];
    j = (j + 1) & mask;
  }
  uint32_t node = static_cast<uint32_t>(parent_.size());
  keys_[j] = id_hash;
  values_[j] = node;
  ++used_;
  parent_.push_back(node);
  size_.push_back(1);
  return node;
}

uint32_t IdentityGraph::Lookup(uint64_t id_hash) const {
  if (keys_.empty()) return UINT32_MAX;
  size_t mask = keys_.size() - 1;
  size_t j = id_hash & mask;
  while (keys_[j]) {
    if (keys_[j] == id_hash) return values_[j];
    j = (j + 1) & mask;
  }
  return UINT32_MAX;
}

uint32_t IdentityGraph::Find(uint32_t node) {
  while (parent_[node] != node) {
    parent_[node] = parent_[parent_[node]];
    node = parent_[node];
  }
  return node;
}

uint32_t IdentityGraph::FindConst(uint32_t node) const {
  while (parent_[node] != node) node = parent_[node];
  return node;
}

bool IdentityGraph::Union(uint32_t a, uint32_t b) {
  a = Find(a);
  b = Find(b);
  if (a == b) return true;
  if (size_[a] + size_[b] > max_cluster_size_) {
    ++refused_merges_;
    return false;
  }
  if (size_[a] < size_[b]) std::swap(a, b);
  parent_[b] = a;
  size_[a] += size_[b];
  ++merges_;
  return true;
}

size_t IdentityGraph::MemoryBytes() const {
  return keys_.capacity() * 8 + values_.capacity() * 4 + parent_.capacity() * 4 +
         size_.capacity() * 4;
}

}  // namespace touchpoint::identity
