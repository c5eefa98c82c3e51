#include "sim/random.h"

#include <gtest/gtest.h>

#include <cmath>
#include <vector>

namespace touchpoint::sim {
namespace {

TEST(Rng, SameSeedSameStreamOtherSeedOtherStream) {
  Rng a(42), b(42), c(43);
  bool differs = false;
  for (int i = 0; i < 100; ++i) {
    uint64_t x = a.Next();
    EXPECT_EQ(x, b.Next());
    differs |= x != c.Next();
  }
  EXPECT_TRUE(differs);
}

TEST(Rng, DerivedStreamsDependOnNameAndIndex) {
  EXPECT_EQ(DeriveSeed(1, "user", 7), DeriveSeed(1, "user", 7));
  EXPECT_NE(DeriveSeed(1, "user", 7), DeriveSeed(1, "user", 8));
  EXPECT_NE(DeriveSeed(1, "user", 7), DeriveSeed(1, "users", 7));
  EXPECT_NE(DeriveSeed(1, "user", 7), DeriveSeed(2, "user", 7));
}

TEST(Rng, UniformStaysInRangeWithMeanOneHalf) {
  Rng rng(1);
  double sum = 0;
  const int n = 200000;
  for (int i = 0; i < n; ++i) {
    double u = rng.Uniform();
    ASSERT_GE(u, 0.0);
    ASSERT_LT(u, 1.0);
    sum += u;
  }
  // sd of the mean: sqrt(1/12/n) = 0.00065; 5 sd.
  EXPECT_NEAR(sum / n, 0.5, 0.0033);
}

TEST(Rng, BelowCoversEveryValueEvenly) {
  Rng rng(2);
  std::vector<int> counts(7, 0);
  const int n = 70000;
  for (int i = 0; i < n; ++i) counts[rng.Below(7)]++;
  // Each ~ Binomial(70000, 1/7): mean 10000, sd 92.6; 5 sd.
  for (int c : counts) EXPECT_NEAR(c, 10000, 463);
}

TEST(Rng, BetweenIsInclusive) {
  Rng rng(3);
  bool lo = false, hi = false;
  for (int i = 0; i < 1000; ++i) {
    int64_t v = rng.Between(-2, 2);
    ASSERT_GE(v, -2);
    ASSERT_LE(v, 2);
    lo |= v == -2;
    hi |= v == 2;
  }
  EXPECT_TRUE(lo && hi);
}

TEST(Rng, PoissonHasItsMeanAndVarianceAboveTheChunkSize) {
  Rng rng(4);
  const int n = 20000;
  const double mean = 40;  // three chunks of at most 16
  double sum = 0, sq = 0;
  for (int i = 0; i < n; ++i) {
    double k = static_cast<double>(rng.Poisson(mean));
    sum += k;
    sq += k * k;
  }
  double m = sum / n, var = sq / n - m * m;
  EXPECT_NEAR(m, mean, 5 * std::sqrt(mean / n));
  EXPECT_NEAR(var, mean, 0.05 * mean);
  EXPECT_EQ(rng.Poisson(0), 0);
}

TEST(Rng, ExponentialHasItsMean) {
  Rng rng(5);
  const int n = 100000;
  double sum = 0;
  for (int i = 0; i < n; ++i) sum += rng.Exponential(3.0);
  EXPECT_NEAR(sum / n, 3.0, 5 * 3.0 / std::sqrt(n));
}

TEST(Rng, WeightedFollowsWeightsAndNeverPicksZero) {
  Rng rng(6);
  const double w[] = {1, 0, 3};
  int counts[3] = {0, 0, 0};
  const int n = 40000;
  for (int i = 0; i < n; ++i) counts[rng.Weighted(w)]++;
  EXPECT_EQ(counts[1], 0);
  // counts[2] ~ Binomial(n, 0.75): sd 86.6; 5 sd.
  EXPECT_NEAR(counts[2], 30000, 433);
}

TEST(Rng, AlnumAndHexUseTheirAlphabets) {
  Rng rng(7);
  std::string a = rng.Alnum(27), h = rng.Hex(40);
  EXPECT_EQ(a.size(), 27u);
  EXPECT_EQ(h.size(), 40u);
  for (char c : a) EXPECT_TRUE(std::isalnum(static_cast<unsigned char>(c))) << a;
  for (char c : h) EXPECT_TRUE((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f')) << h;
}

}  // namespace
}  // namespace touchpoint::sim
