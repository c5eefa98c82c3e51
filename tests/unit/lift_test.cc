// Lift estimators: hand-worked values (each derivation in the comments; the decimals were
// computed with Python's math and statistics.NormalDist from the formulas stated), and
// simulated studies whose true effect is known.
#include "query/lift.h"

#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <random>

namespace touchpoint::query::lift {
namespace {

// Test: 200 of 10,000 people convert, 100 each; control: 150 of 10,000, 100 each; spend 2,500.
//   rates 0.02 and 0.015; lift = 0.02 / 0.015 - 1 = 1/3.
//   Katz: se(ln RR) = sqrt(1/200 - 1/10000 + 1/150 - 1/10000) = 0.1070825;
//         exp(ln(4/3) -+ 1.959964 * se) - 1 = [0.0809110, 0.6447032].
//   pooled z: p = 350/20000, se = sqrt(p (1-p) 2/10000) = 0.0018544, z = 2.69630,
//         two-sided p = 0.00701125.
//   incremental converters = (0.02 - 0.015) * 10000 = 50.
//   value per person 2.0 and 1.5; variances (2e6 - 1e4 * 4) / 9999 and (1.5e6 - 1e4 * 2.25) /
//         9999; se = 0.185414; incremental value = 0.5 * 1e4 = 5000, CI [1365.948, 8634.052];
//         iROAS = 5000 / 2500 = 2, CI [0.546379, 3.453621].
TEST(LiftTest, UserLevelMatchesTheHandWorkedStudy) {
  CellTotals test{10000, 200, 200, 20000, 200 * 100.0 * 100.0};
  CellTotals control{10000, 150, 150, 15000, 150 * 100.0 * 100.0};
  auto r = EstimateUserLevel(test, control, 2500);
  EXPECT_DOUBLE_EQ(r.test_rate, 0.02);
  EXPECT_DOUBLE_EQ(r.control_rate, 0.015);
  ASSERT_TRUE(r.lift.has_value());
  EXPECT_NEAR(r.lift->value, 1.0 / 3, 1e-12);
  EXPECT_NEAR(r.lift->ci95.low, 0.08091097892611376, 1e-9);
  EXPECT_NEAR(r.lift->ci95.high, 0.6447032294407835, 1e-9);
  EXPECT_NEAR(r.p_value, 0.007011253968213449, 1e-9);
  EXPECT_NEAR(r.incremental_converters.value, 50, 1e-9);
  EXPECT_LT(r.incremental_converters.ci95.low, 50);
  EXPECT_GT(r.incremental_converters.ci95.high, 50);
  EXPECT_NEAR(r.incremental_value.value, 5000, 1e-6);
  EXPECT_NEAR(r.incremental_value.ci95.low, 1365.9478086206561, 1e-6);
  EXPECT_NEAR(r.incremental_value.ci95.high, 8634.052191379344, 1e-6);
  ASSERT_TRUE(r.iroas.has_value());
  EXPECT_NEAR(r.iroas->value, 2, 1e-12);
  EXPECT_NEAR(r.iroas->ci95.low, 0.5463791234482624, 1e-9);
  EXPECT_NEAR(r.iroas->ci95.high, 3.4536208765517373, 1e-9);
}

TEST(LiftTest, NoControlConverterMeansNoRelativeLiftAndSaysWhy) {
  auto r = EstimateUserLevel({1000, 5, 5, 50, 500}, {1000, 0, 0, 0, 0});
  EXPECT_FALSE(r.lift.has_value());
  EXPECT_NE(r.note.find("no converter in the control cell"), std::string::npos);
  EXPECT_FALSE(r.iroas.has_value());  // no spend given
  auto empty = EstimateUserLevel({0, 0, 0, 0, 0}, {10, 1, 1, 1, 1});
  EXPECT_NE(empty.note.find("test cell has no people"), std::string::npos);
}

// n_test = (z_a sqrt(pbar qbar (1 + 1/k)) + z_b sqrt(p1 q1 + p0 q0 / k))^2 / (p1 - p0)^2,
// k = control / test people, pbar = (p1 + k p0) / (1 + k):
//   2 % -> 2.2 %, 50/50: 80681.38 -> 80682 each;
//   5 % -> 6 %, a quarter tested (k = 3): 5343.0016 -> 5344 and 16029.0049 -> 16030.
TEST(LiftTest, PlannerMatchesTheFormula) {
  auto p = PlanUserLevel(0.02, 0.10);
  EXPECT_EQ(p.test_people, 80682);
  EXPECT_EQ(p.control_people, 80682);
  auto q = PlanUserLevel(0.05, 0.20, 0.05, 0.8, 0.75, 1000);
  EXPECT_EQ(q.test_people, 5344);
  EXPECT_EQ(q.control_people, 16030);
  ASSERT_TRUE(q.days.has_value());
  EXPECT_EQ(*q.days, 22);                           // ceil(21374 / 1000)
  EXPECT_EQ(PlanUserLevel(0, 0.1).test_people, 0);  // no baseline: no plan
}

// The plan's promise, checked by simulation: studies of the planned size with the planned true
// lift come out significant at 5 % about 80 % of the time.
TEST(LiftTest, PlannedStudiesHaveThePlannedPower) {
  const double p0 = 0.03, lift = 0.15;
  auto plan = PlanUserLevel(p0, lift);
  std::mt19937_64 rng(7);
  std::binomial_distribution<int64_t> t(plan.test_people, p0 * (1 + lift)),
      c(plan.control_people, p0);
  int significant = 0;
  const int studies = 1000;
  for (int i = 0; i < studies; ++i) {
    auto r = EstimateUserLevel({plan.test_people, t(rng), 0, 0, 0},
                               {plan.control_people, c(rng), 0, 0, 0});
    significant += r.p_value < 0.05;
  }
  const double power = static_cast<double>(significant) / studies;
  std::printf("planned power 0.80: %.3f of %d studies significant\n", power, studies);
  EXPECT_GT(power, 0.76) << power;  // 0.8 -+ 3 binomial standard deviations (0.0126)
  EXPECT_LT(power, 0.84) << power;
}

// Four test regions changing by 11..14 and four control regions by 1..4 (pre 100 each):
//   DiD = 12.5 - 2.5 = 10 per region, 40 over the test regions; C(8, 4) = 70 assignments, of
//   which only the observed one and its mirror reach |A| >= 10: p = 2/70. Test regions' post =
//   450, without the ads 410: lift 40 / 410.
TEST(LiftTest, GeoDifferenceInDifferencesMatchesTheHandWorkedStudy) {
  std::vector<Region> regions;
  for (int i = 1; i <= 4; ++i) {
    regions.push_back({"c" + std::to_string(i), false, 100, 100.0 + i});
    regions.push_back({"t" + std::to_string(i), true, 100, 110.0 + i});
  }
  auto g = EstimateGeo(regions);
  EXPECT_TRUE(g.exact);
  EXPECT_EQ(g.permutations, 70);
  EXPECT_NEAR(g.incremental.value, 40, 1e-9);
  EXPECT_NEAR(g.p_value, 2.0 / 70, 1e-12);
  ASSERT_TRUE(g.lift.has_value());
  EXPECT_NEAR(g.lift->value, 40.0 / 410, 1e-12);
  EXPECT_LT(g.incremental.ci95.low, 40);
  EXPECT_GT(g.incremental.ci95.high, 40);
  EXPECT_GT(g.incremental.ci95.low, 0);  // p < 0.05 at zero effect: zero is outside
}

// The permutation interval's promise, checked by simulation: regions with noisy baselines and a
// known effect per test region; the interval covers it in about 95 % of studies, and studies
// with no effect come out significant in at most about 5 %.
TEST(LiftTest, GeoIntervalCoversTheTrueEffect) {
  std::mt19937_64 rng(11);
  std::normal_distribution<double> level(1000, 200), noise(0, 30);
  const int studies = 400, n = 16;
  int covered = 0, false_positive = 0;
  for (int s = 0; s < studies; ++s) {
    for (double effect : {50.0, 0.0}) {
      std::vector<Region> regions;
      for (int i = 0; i < n; ++i) {
        const double base = level(rng);
        const bool test = i % 2 == 0;
        regions.push_back({"r" + std::to_string(i), test, base + noise(rng),
                           base + noise(rng) + (test ? effect : 0)});
      }
      std::shuffle(regions.begin(), regions.end(), rng);
      auto g = EstimateGeo(regions, 2000, s + 1);
      const double per_region_low = g.incremental.ci95.low / (n / 2);
      const double per_region_high = g.incremental.ci95.high / (n / 2);
      if (effect > 0) covered += per_region_low <= effect && effect <= per_region_high;
      if (effect == 0) false_positive += g.p_value < 0.05;
    }
  }
  const double coverage = static_cast<double>(covered) / studies;
  const double alpha = static_cast<double>(false_positive) / studies;
  std::printf(
      "geo: interval covers the effect in %.3f, null studies significant in %.3f (%d each)\n",
      coverage, alpha, studies);
  // 3 binomial standard deviations at 400 studies: 0.033 around 0.95, 0.033 above 0.05.
  EXPECT_GT(coverage, 0.917) << coverage;
  EXPECT_LT(coverage, 0.983) << coverage;
  EXPECT_LT(alpha, 0.083) << alpha;
}

}  // namespace
}  // namespace touchpoint::query::lift
