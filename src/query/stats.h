#pragma once
// The statistics behind insights (docs/insights.md): normal distribution, binomial and Poisson
// tails, Wilson intervals, the pooled two-proportion z-test, Beta posteriors, and
// Benjamini-Hochberg. Pure functions; no state, no allocation beyond the BH vectors.
//
// Precision: about 1e-12 relative for the distribution functions over the ranges insights use
// (counts up to ~1e8), checked in tests/unit/stats_test.cc against values computed elsewhere.

#include <cstdint>
#include <vector>

namespace touchpoint::query::stats {

// Standard normal CDF, Phi(z).
double NormalCdf(double z);
// Phi^-1(p) for p in (0, 1); -inf / +inf at 0 / 1.
double NormalQuantile(double p);

// ln B(a, b) for a, b > 0.
double LogBeta(double a, double b);
// The regularized incomplete beta function I_x(a, b) for x in [0, 1], a, b > 0.
double RegularizedIncompleteBeta(double x, double a, double b);
// The x with I_x(a, b) = p (the Beta(a, b) quantile), by bisection to ~1e-13.
double BetaQuantile(double p, double a, double b);

// Binomial(n, p): P(X <= k) and P(X >= k).
double BinomialCdf(int64_t k, int64_t n, double p);
double BinomialUpperTail(int64_t k, int64_t n, double p);
// Poisson(lambda): P(X <= k).
double PoissonCdf(int64_t k, double lambda);

struct Interval {
  double low = 0, high = 0;
};

// Wilson score interval for a proportion x / n (two-sided, `confidence` e.g. 0.95).
// n == 0 gives [0, 1].
Interval WilsonInterval(int64_t x, int64_t n, double confidence = 0.95);

// Pooled two-proportion z-test of x1/n1 against x2/n2 (H0: p1 == p2), two-sided.
struct TwoProportionTest {
  double p1 = 0, p2 = 0;
  double z = 0;        // (p1 - p2) / sqrt(p (1 - p) (1/n1 + 1/n2)), p pooled; 0 when undefined
  double p_value = 1;  // 2 (1 - Phi(|z|))
  Interval diff;       // 95% interval for p1 - p2 (Newcombe's hybrid score, method 10)
  double ratio = 0;    // p1 / p2 (inf when p2 == 0 < p1; 1 when both are 0)
  Interval
      ratio_ci;  // 95% interval for p1 / p2 (Katz log; 0.5 added to x and n when x1 or x2 is 0)
};
TwoProportionTest TwoProportionZTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2);

// Farrington-Manning score statistic for H0: p1 / p2 = ratio, with the variance taken at the
// maximum-likelihood p1, p2 restricted to that ratio (Farrington & Manning 1990). At ratio 1 it
// is the pooled z above. 0 when undefined (no successes in either arm).
double RatioScoreZ(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double ratio);

// p-value for the interval null 1/margin <= p1/p2 <= margin (margin >= 1): "the ratio is
// beyond the margin one way or the other". 2 min(1 - Phi(z at margin), Phi(z at 1/margin)),
// capped at 1; at margin 1 it is the pooled z-test's two-sided p-value.
double RatioMarginPValue(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double margin);

// P(X > Y) for independent X ~ Beta(a1, b1), Y ~ Beta(a2, b2). Exact (a finite sum, Evan
// Miller's formula) when one of a1, b1, a2, b2 is a whole number up to 1e6 — always the case
// for counts plus a Beta(1, 1) prior; otherwise numeric integration.
double ProbBetaGreater(double a1, double b1, double a2, double b2);

// Comparing two Poisson-like counts with known exposures: `observed_a` events against
// `expected_a` (what arm A would show at a reference rate), and the same for B. Conditional on
// the total N = observed_a + observed_b, observed_a ~ Binomial(N, pi) with
// pi0 = expected_a / (expected_a + expected_b) when the arms' rates are equal.
struct RateRatioTest {
  double ratio = 1;        // (observed_a / expected_a) / (observed_b / expected_b)
  Interval ratio_ci;       // 95% equal-tailed posterior interval, Beta(1, 1) prior on pi
  double posterior = 0.5;  // P(rate_a > rate_b | data) = P(pi > pi0), Beta(1, 1) prior on pi
  // Exact, two-sided, for the interval null 1/margin <= ratio <= margin:
  // 2 min(P(X >= obs | pi at margin), P(X <= obs | pi at 1/margin)), capped at 1. With margin 1
  // it is the usual 2 min(P(X <= obs), P(X >= obs)) at pi0.
  double p_value = 1;
};
RateRatioTest ConditionalRateTest(int64_t observed_a, double expected_a, int64_t observed_b,
                                  double expected_b, double margin = 1);

// Benjamini-Hochberg step-up adjusted p-values (same order as `p`): a hypothesis is rejected at
// false discovery rate q when its adjusted p-value is <= q.
std::vector<double> BenjaminiHochbergAdjust(const std::vector<double>& p);
std::vector<bool> BenjaminiHochberg(const std::vector<double>& p, double q);

}  // namespace touchpoint::query::stats
