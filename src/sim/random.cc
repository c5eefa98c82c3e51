#include "sim/random.h"

#include <cmath>

namespace touchpoint::sim {

namespace {

uint64_t SplitMix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }

}  // namespace

uint64_t DeriveSeed(uint64_t seed, std::string_view stream, uint64_t index) {
  // FNV-1a over the stream name, then mixed with seed and index through splitmix64.
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : stream) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  uint64_t x = seed ^ h;
  uint64_t a = SplitMix64(x);
  x ^= index * 0xd1b54a32d192ed03ULL;
  return a ^ SplitMix64(x);
}

Rng::Rng(uint64_t seed) {
  uint64_t x = seed;
  for (auto& s : s_) s = SplitMix64(x);
}

uint64_t Rng::Next() {
  const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
  const uint64_t t = s_[1] << 17;
  s_[2] ^= s_[0];
  s_[3] ^= s_[1];
  s_[1] ^= s_[2];
  s_[0] ^= s_[3];
  s_[2] ^= t;
  s_[3] = Rotl(s_[3], 45);
  return result;
}

double Rng::Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }

uint64_t Rng::Below(uint64_t n) {
  // Rejection on the top of the range: exact for every n.
  const uint64_t limit = UINT64_MAX - UINT64_MAX % n;
  uint64_t x;
  do {
    x = Next();
  } while (x >= limit);
  return x % n;
}

double Rng::Exponential(double mean) { return -mean * std::log1p(-Uniform()); }

int64_t Rng::Poisson(double mean) {
  // A sum of Poissons is Poisson: split large means so exp(-chunk) stays well inside doubles.
  int64_t total = 0;
  while (mean > 0) {
    double chunk = mean > 16 ? 16 : mean;
    mean -= chunk;
    const double limit = std::exp(-chunk);
    double p = Uniform();
    while (p > limit) {
      ++total;
      p *= Uniform();
    }
  }
  return total;
}

size_t Rng::Weighted(std::span<const double> weights) {
  double sum = 0;
  for (double w : weights) sum += w;
  double x = Uniform() * sum;
  for (size_t i = 0; i < weights.size(); ++i) {
    if (x < weights[i]) return i;
    x -= weights[i];
  }
  // Rounding left x at (or a hair above) the last positive weight.
  for (size_t i = weights.size(); i-- > 0;)
    if (weights[i] > 0) return i;
  return 0;
}

std::string Rng::Alnum(size_t n) {
  static const char kAbc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
  std::string out(n, ' ');
  for (auto& c : out) c = kAbc[Below(62)];
  return out;
}

std::string Rng::Hex(size_t n) {
  static const char kHex[] = "0123456789abcdef";
  std::string out(n, ' ');
  for (size_t i = 0; i < n; i += 16) {
    uint64_t x = Next();
    for (size_t j = i; j < n && j < i + 16; ++j, x >>= 4) out[j] = kHex[x & 15];
  }
  return out;
}

}  // namespace touchpoint::sim
