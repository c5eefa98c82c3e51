// The statistics behind insights, against values computed independently of this code:
// published worked examples (Newcombe 1998; Benjamini & Hochberg 1995), values worked by hand,
// and values computed with mpmath at 40 digits (quadrature or direct sums, not the formulas
// used here) — each test says which.
#include "query/stats.h"

#include <gtest/gtest.h>

#include <cmath>
#include <random>

namespace touchpoint::query::stats {
namespace {

TEST(Normal, CdfMatchesTables) {
  // mpmath ncdf.
  EXPECT_NEAR(NormalCdf(1.96), 0.9750021048517796, 1e-15);
  EXPECT_NEAR(NormalCdf(-3), 0.0013498980316300946, 1e-17);
  EXPECT_NEAR(NormalCdf(-8) / 6.220960574271784e-16, 1, 1e-12);  // the far tail keeps its digits
  EXPECT_DOUBLE_EQ(NormalCdf(0), 0.5);
}

TEST(Normal, QuantileInvertsTheCdfToFullPrecision) {
  // mpmath sqrt(2) erfinv(2p - 1).
  EXPECT_NEAR(NormalQuantile(0.975), 1.959963984540054, 1e-14);
  EXPECT_NEAR(NormalQuantile(1e-10), -6.361340902404056, 1e-12);
  EXPECT_NEAR(NormalQuantile(0.5 + 1e-9), 2.506628274631e-9, 2e-16);  // p itself is rounded
  EXPECT_EQ(NormalQuantile(0), -INFINITY);
  EXPECT_EQ(NormalQuantile(1), INFINITY);
  for (double p : {1e-300, 1e-20, 0.01, 0.3, 0.7, 0.99, 1 - 1e-12})
    EXPECT_NEAR(NormalCdf(NormalQuantile(p)) / p, 1, 1e-12) << p;
}

TEST(IncompleteBeta, MatchesClosedFormsAndMpmath) {
  // By hand: I_x(1, b) = 1 - (1 - x)^b, I_x(a, 1) = x^a, I_1/2(a, a) = 1/2.
  EXPECT_NEAR(RegularizedIncompleteBeta(0.3, 1, 4), 1 - std::pow(0.7, 4), 1e-15);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.3, 3, 1), 0.027, 1e-15);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.5, 1000, 1000), 0.5, 1e-13);
  // mpmath betainc(a, b, 0, x, regularized=True).
  EXPECT_NEAR(RegularizedIncompleteBeta(0.3, 2.5, 4), 0.35219758590676721, 1e-14);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.9, 50, 5), 0.36144713972737805, 1e-13);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.49, 1000, 1000), 0.18555265943151145, 1e-11);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.001, 2, 3000), 0.80115042400785483, 1e-12);
  EXPECT_NEAR(RegularizedIncompleteBeta(0.2, 0.5, 0.5), 0.29516723530086656, 1e-14);
  EXPECT_EQ(RegularizedIncompleteBeta(0, 2, 3), 0);
  EXPECT_EQ(RegularizedIncompleteBeta(1, 2, 3), 1);
}

TEST(IncompleteBeta, QuantileInvertsIt) {
  for (double p : {0.025, 0.5, 0.975})
    EXPECT_NEAR(RegularizedIncompleteBeta(BetaQuantile(p, 31, 971), 31, 971), p, 1e-12);
  EXPECT_NEAR(BetaQuantile(0.5, 1, 1), 0.5, 1e-14);
  EXPECT_NEAR(BetaQuantile(0.19, 2, 1), std::sqrt(0.19), 1e-13);  // I_x(2, 1) = x^2
}

TEST(Tails, BinomialAndPoissonByHand) {
  // Binomial(10, 1/2): P(X <= 3) = (1 + 10 + 45 + 120) / 1024.
  EXPECT_NEAR(BinomialCdf(3, 10, 0.5), 176.0 / 1024, 1e-15);
  EXPECT_NEAR(BinomialUpperTail(4, 10, 0.5), 1 - 176.0 / 1024, 1e-15);
  // Binomial(3, 0.2): P(X >= 3) = 0.008; P(X <= 0) = 0.512.
  EXPECT_NEAR(BinomialUpperTail(3, 3, 0.2), 0.008, 1e-16);
  EXPECT_NEAR(BinomialCdf(0, 3, 0.2), 0.512, 1e-15);
  EXPECT_EQ(BinomialCdf(10, 10, 0.3), 1);
  EXPECT_EQ(BinomialUpperTail(0, 10, 0.3), 1);
  EXPECT_EQ(BinomialUpperTail(11, 10, 0.3), 0);
  // Poisson(3): P(X <= 2) = e^-3 (1 + 3 + 9/2).
  EXPECT_NEAR(PoissonCdf(2, 3), 8.5 * std::exp(-3.0), 1e-15);
  EXPECT_NEAR(PoissonCdf(0, 7.5), std::exp(-7.5), 1e-18);
  EXPECT_NEAR(PoissonCdf(10, 4.2), 0.99593119695982936, 1e-14);   // mpmath direct sum
  EXPECT_NEAR(PoissonCdf(150, 120), 0.99644803489476473, 1e-13);  // mpmath direct sum
}

TEST(Wilson, NewcombeExamples) {
  // Newcombe (1998), "Two-sided confidence intervals for the single proportion", Stat Med
  // 17:857-872, Table I, method 3 (score interval without continuity correction).
  auto w = WilsonInterval(81, 263);
  EXPECT_NEAR(w.low, 0.2553, 5e-5);
  EXPECT_NEAR(w.high, 0.3662, 5e-5);
  w = WilsonInterval(15, 148);
  EXPECT_NEAR(w.low, 0.0624, 5e-5);
  EXPECT_NEAR(w.high, 0.1605, 5e-5);
  w = WilsonInterval(0, 20);
  EXPECT_EQ(w.low, 0);
  EXPECT_NEAR(w.high, 0.1611, 5e-5);
  w = WilsonInterval(1, 29);
  EXPECT_NEAR(w.low, 0.0061, 5e-5);
  EXPECT_NEAR(w.high, 0.1718, 5e-5);
  w = WilsonInterval(29, 29);
  EXPECT_NEAR(w.high, 1, 1e-15);
  // The mirror of 0/29, whose upper bound is z^2 / (n + z^2) by hand (x = 0 in the formula).
  const double z2 = 1.959963984540054 * 1.959963984540054;
  EXPECT_NEAR(1 - w.low, z2 / (29 + z2), 1e-14);
  w = WilsonInterval(0, 0);
  EXPECT_EQ(w.low, 0);
  EXPECT_EQ(w.high, 1);
}

TEST(TwoProportion, PooledZByHand) {
  // 56/70 vs 48/80: pooled p = 104/150; se = sqrt(p(1-p)(1/70 + 1/80)) = 0.075467;
  // z = 0.2 / se = 2.65017; two-sided p = 2 (1 - Phi(2.65017)) = 0.0080451.
  auto t = TwoProportionZTest(56, 70, 48, 80);
  EXPECT_NEAR(t.p1, 0.8, 1e-15);
  EXPECT_NEAR(t.p2, 0.6, 1e-15);
  EXPECT_NEAR(t.z, 2.6501719512585326, 1e-12);
  EXPECT_NEAR(t.p_value, 0.0080450813681965847, 1e-14);
  // Newcombe (1998), "Interval estimation for the difference between independent proportions",
  // Stat Med 17:873-890, Table II, method 10: 0.0524 to 0.3339.
  EXPECT_NEAR(t.diff.low, 0.0524, 5e-5);
  EXPECT_NEAR(t.diff.high, 0.3339, 5e-5);
  // Katz: RR = 4/3, ln RR +- 1.96 sqrt(1/56 - 1/70 + 1/48 - 1/80) = 0.28768 +- 0.21385.
  EXPECT_NEAR(t.ratio, 4.0 / 3, 1e-15);
  EXPECT_NEAR(t.ratio_ci.low, 1.0766264227631927, 1e-12);  // mpmath
  EXPECT_NEAR(t.ratio_ci.high, 1.6512485112663870, 1e-12);
}

TEST(TwoProportion, NewcombeDifferenceExamplesWithSmallAndZeroCounts) {
  // Newcombe (1998) Table II, method 10.
  auto t = TwoProportionZTest(9, 10, 3, 10);
  EXPECT_NEAR(t.diff.low, 0.1705, 5e-5);
  EXPECT_NEAR(t.diff.high, 0.8090, 5e-5);
  t = TwoProportionZTest(5, 56, 0, 29);
  EXPECT_NEAR(t.diff.low, -0.0381, 5e-5);
  EXPECT_NEAR(t.diff.high, 0.1926, 5e-5);
  EXPECT_EQ(t.ratio, INFINITY);
  EXPECT_GT(t.ratio_ci.high, t.ratio_ci.low);  // 0.5 added: a finite interval
  EXPECT_TRUE(std::isfinite(t.ratio_ci.high));
}

TEST(TwoProportion, NoVariationMeansNoEvidence) {
  auto t = TwoProportionZTest(0, 100, 0, 200);
  EXPECT_EQ(t.z, 0);
  EXPECT_EQ(t.p_value, 1);
  EXPECT_EQ(t.ratio, 1);
}

TEST(RatioMargin, ScoreZAtRatioOneIsThePooledZ) {
  EXPECT_NEAR(RatioScoreZ(56, 70, 48, 80, 1), 2.6501719512585326, 1e-12);
  EXPECT_NEAR(RatioMarginPValue(56, 70, 48, 80, 1), 0.0080450813681965847, 1e-14);
  EXPECT_EQ(RatioScoreZ(0, 100, 0, 100, 1.25), 0);
  EXPECT_EQ(RatioMarginPValue(0, 100, 0, 100, 1.25), 1);
}

TEST(RatioMargin, MatchesARestrictedLikelihoodMaximizedNumerically) {
  // mpmath: the restricted MLE found by golden-section search on the log-likelihood with
  // p1 = ratio p2 (not the closed form used here), then z = (p1^ - ratio p2^) / sqrt(var).
  EXPECT_NEAR(RatioScoreZ(56, 70, 48, 80, 1.25), 0.59751607568516533, 1e-10);
  EXPECT_NEAR(RatioScoreZ(120, 4000, 60, 4000, 1.25), 3.0330569389676920, 1e-10);
  EXPECT_NEAR(RatioScoreZ(30, 1000, 60, 1000, 1.25), -4.3449942373422453, 1e-10);
  EXPECT_NEAR(RatioScoreZ(30, 1000, 60, 1000, 0.8), -2.1688893052094091, 1e-10);
  // Interval null [0.8, 1.25]: 2 min(P(Z >= z(1.25)), P(Z <= z(0.8))).
  EXPECT_NEAR(RatioMarginPValue(120, 4000, 60, 4000, 1.25), 0.0024208991704655273, 1e-11);
  EXPECT_NEAR(RatioMarginPValue(30, 1000, 60, 1000, 1.25), 0.030091088892179884, 1e-11);
  // A big difference well inside the margin is no evidence of a big one.
  EXPECT_GT(RatioMarginPValue(9000, 100000, 8500, 100000, 1.25), 0.99);
  EXPECT_LT(RatioMarginPValue(9000, 100000, 8500, 100000, 1), 1e-4);
}

TEST(BetaPosterior, HandWorkedSmallCases) {
  // Beta(2,1) has density 2x; Beta(1,1) CDF is y; Beta(1,2) CDF is 1 - (1-y)^2.
  // P(X > Y) = int 2x * x dx = 2/3;  int 2x (2x - x^2) dx = 4/3 - 1/2 = 5/6.
  EXPECT_NEAR(ProbBetaGreater(2, 1, 1, 1), 2.0 / 3, 1e-15);
  EXPECT_NEAR(ProbBetaGreater(2, 1, 1, 2), 5.0 / 6, 1e-15);
  EXPECT_NEAR(ProbBetaGreater(1, 1, 1, 1), 0.5, 1e-15);
  EXPECT_NEAR(ProbBetaGreater(1, 2, 2, 1), 1.0 / 6, 1e-15);
}

TEST(BetaPosterior, CountsWithFlatPriorMatchQuadrature) {
  // mpmath quad of f_X(x) I_x(a2, b2) over [0, 1].
  // 40/1000 vs 30/1000 conversions, Beta(1, 1) prior: Beta(41, 961) vs Beta(31, 971).
  EXPECT_NEAR(ProbBetaGreater(41, 961, 31, 971), 0.88666654552304498, 1e-12);
  EXPECT_NEAR(ProbBetaGreater(11, 91, 5, 97), 0.94763306251997203, 1e-12);
  // Every one of the four exact sums gives the same answer.
  EXPECT_NEAR(ProbBetaGreater(31, 971, 41, 961), 1 - 0.88666654552304498, 1e-12);
  EXPECT_NEAR(ProbBetaGreater(961, 41, 971, 31), 1 - 0.88666654552304498, 1e-12);
}

TEST(BetaPosterior, NonIntegerParametersUseIntegration) {
  EXPECT_NEAR(ProbBetaGreater(2.5, 3.5, 3.5, 2.5), 0.26577830366193128, 1e-9);
  EXPECT_NEAR(ProbBetaGreater(2.5, 3.5, 1.7, 4.2), 0.69538237282854706, 1e-9);
}

TEST(ConditionalRate, MatchesDirectBinomialSums) {
  // mpmath: N = 70, pi0 = 20.5 / 70; p = 2 min(P(X <= 30), P(X >= 30)) by direct sums;
  // posterior = 1 - I_pi0(31, 41).
  auto t = ConditionalRateTest(30, 20.5, 40, 49.5);
  EXPECT_NEAR(t.p_value, 0.021469974057913460, 1e-12);
  EXPECT_NEAR(t.posterior, 0.99300239970349239, 1e-12);
  EXPECT_NEAR(t.ratio, (30 / 20.5) / (40 / 49.5), 1e-14);
  EXPECT_LT(t.ratio_ci.low, t.ratio);
  EXPECT_GT(t.ratio_ci.high, t.ratio);
  EXPECT_GT(t.ratio_ci.low, 1);  // posterior > 0.975: the interval excludes 1
  t = ConditionalRateTest(3, 10, 50, 43);
  EXPECT_NEAR(t.p_value, 0.011772281283785800, 1e-12);
  EXPECT_NEAR(t.posterior, 0.0050306328695532001, 1e-12);
  EXPECT_LT(t.ratio_ci.high, 1);
}

TEST(ConditionalRate, MarginShiftsTheNullToTheMarginsEdges) {
  // mpmath direct sums: 2 min(P(X >= 30 | pi(1.25)), P(X <= 30 | pi(0.8))), pi(r) = r 20.5 /
  // (r 20.5 + 49.5).
  EXPECT_NEAR(ConditionalRateTest(30, 20.5, 40, 49.5, 1.25).p_value, 0.15952811826661587, 1e-12);
  EXPECT_NEAR(ConditionalRateTest(3, 10, 50, 43, 1.25).p_value, 0.049504399045531575, 1e-12);
  EXPECT_NEAR(ConditionalRateTest(30, 20.5, 40, 49.5, 1).p_value, 0.021469974057913460, 1e-12);
}

TEST(ConditionalRate, NothingObservedIsNoEvidence) {
  auto t = ConditionalRateTest(0, 5, 0, 50);
  EXPECT_EQ(t.p_value, 1);
  EXPECT_EQ(t.posterior, 0.5);
}

TEST(ConditionalRate, PValueIsUniformishUnderTheNull) {
  // Under H0 the exact test is conservative: P(p <= alpha) <= alpha.
  std::mt19937_64 rng(7);
  std::poisson_distribution<int> a(20), b(60);
  int rejections = 0;
  const int n = 4000;
  for (int i = 0; i < n; ++i)
    rejections += ConditionalRateTest(a(rng), 20, b(rng), 60).p_value <= 0.05;
  EXPECT_LE(rejections, n * 0.05 + 3 * std::sqrt(n * 0.05));
  EXPECT_GE(rejections, n * 0.01);  // and not absurdly so
}

TEST(BenjaminiHochberg, PaperExampleRejectsFour) {
  // Benjamini & Hochberg (1995), JRSS B 57:289-300, section 4.2: 15 p-values from a clinical
  // trial; at q = 0.05 the procedure rejects the four smallest (Bonferroni: three).
  std::vector<double> p = {0.0001, 0.0004, 0.0019, 0.0095, 0.0201, 0.0278, 0.0298, 0.0344,
                           0.0459, 0.3240, 0.4262, 0.5719, 0.6528, 0.7590, 1.0000};
  auto rejected = BenjaminiHochberg(p, 0.05);
  for (size_t i = 0; i < p.size(); ++i) EXPECT_EQ(rejected[i], i < 4) << i;
  // Adjusted p by hand: min over j >= i of 15 p_(j) / j.
  auto adj = BenjaminiHochbergAdjust(p);
  EXPECT_NEAR(adj[0], 0.0015, 1e-15);           // min(15 * 0.0001 / 1, 0.003, ...)
  EXPECT_NEAR(adj[1], 0.003, 1e-15);            // 15 * 0.0004 / 2
  EXPECT_NEAR(adj[3], 15 * 0.0095 / 4, 1e-15);  // 0.035625
  EXPECT_NEAR(adj[4], 15 * 0.0201 / 5, 1e-15);  // 0.0603, below every later 15 p_(j) / j
  EXPECT_NEAR(adj[5], 15 * 0.0298 / 7, 1e-15);  // step-up: 0.06386 from rank 7 < 0.0695 (own)
  EXPECT_NEAR(adj[14], 1, 1e-15);
}

TEST(BenjaminiHochberg, OrderDoesNotMatter) {
  std::vector<double> p = {0.04, 0.001, 0.5, 0.03};
  auto adj = BenjaminiHochbergAdjust(p);
  // Sorted: 0.001 (r1), 0.03 (r2), 0.04 (r3), 0.5 (r4): 0.004, 0.06 -> min(0.06, 0.0533), 0.0533,
  // 0.5.
  EXPECT_NEAR(adj[1], 0.004, 1e-15);
  EXPECT_NEAR(adj[3], 0.16 / 3, 1e-15);
  EXPECT_NEAR(adj[0], 0.16 / 3, 1e-15);
  EXPECT_NEAR(adj[2], 0.5, 1e-15);
  EXPECT_TRUE(BenjaminiHochbergAdjust({}).empty());
}

}  // namespace
}  // namespace touchpoint::query::stats
