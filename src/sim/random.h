#pragma once
// The simulator's own pseudo-random numbers: xoshiro256** seeded through splitmix64, and the
// distributions built on it. std:: distributions are not used on purpose: their algorithms differ
// between standard libraries, and the simulator promises byte-identical output for a seed.

#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace touchpoint::sim {

// A seed for one independent stream, derived from the run's seed and a stream name/index, so
// that adding draws to one stream (a user, the catalog, ...) never shifts another.
uint64_t DeriveSeed(uint64_t seed, std::string_view stream, uint64_t index = 0);

class Rng {
 public:
  explicit Rng(uint64_t seed);

  uint64_t Next();
  // Uniform in [0, 1), 53 random bits.
  double Uniform();
  double Uniform(double lo, double hi) { return lo + (hi - lo) * Uniform(); }
  // Uniform integer in [0, n); n > 0. Unbiased (rejection).
  uint64_t Below(uint64_t n);
  // Uniform integer in [lo, hi], inclusive.
  int64_t Between(int64_t lo, int64_t hi) {
    return lo + static_cast<int64_t>(Below(static_cast<uint64_t>(hi - lo) + 1));
  }
  bool Bernoulli(double p) { return Uniform() < p; }
  // Exponential with the given mean.
  double Exponential(double mean);
  // Poisson with the given mean (exact: Knuth's method on chunks of at most 16).
  int64_t Poisson(double mean);
  // An index drawn with probability proportional to weights[i]; weights must not all be 0.
  size_t Weighted(std::span<const double> weights);
  // n characters from [A-Za-z0-9].
  std::string Alnum(size_t n);
  // n lowercase hex characters.
  std::string Hex(size_t n);

 private:
  uint64_t s_[4];
};

}  // namespace touchpoint::sim
