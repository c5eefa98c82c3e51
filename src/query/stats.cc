#include "query/stats.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace touchpoint::query::stats {

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
constexpr double kEps = 1e-16;
constexpr double kTiny = 1e-300;

// log|Gamma(x)|. std::lgamma also stores the sign in the global `signgam`, a data race when
// queries run on several threads at once (ThreadSanitizer reports it); lgamma_r returns it.
double LogGamma(double x) {
  int sign = 0;
  return ::lgamma_r(x, &sign);
}

// Continued fraction for I_x(a, b) (Numerical Recipes' betacf, modified Lentz). Converges fast
// for x < (a + 1) / (a + b + 2); the caller uses the symmetry I_x(a, b) = 1 - I_{1-x}(b, a)
// otherwise. Iterations grow like sqrt(max(a, b)), hence the generous cap.
double BetaContinuedFraction(double x, double a, double b) {
  const double qab = a + b, qap = a + 1, qam = a - 1;
  double c = 1, d = 1 - qab * x / qap;
  if (std::fabs(d) < kTiny) d = kTiny;
  d = 1 / d;
  double h = d;
  for (int m = 1; m <= 1000000; ++m) {
    const double m2 = 2.0 * m;
    double aa = m * (b - m) * x / ((qam + m2) * (a + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    h *= d * c;
    aa = -(a + m) * (qab + m) * x / ((a + m2) * (qap + m2));
    d = 1 + aa * d;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = 1 + aa / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 3e-16) break;
  }
  return h;
}

// Regularized lower incomplete gamma P(a, x) (series) and upper Q(a, x) (continued fraction).
double GammaP(double a, double x);
double GammaQ(double a, double x) {
  if (x <= 0) return 1;
  if (x < a + 1) return 1 - GammaP(a, x);
  double b = x + 1 - a, c = 1 / kTiny, d = 1 / b, h = d;
  for (int i = 1; i <= 1000000; ++i) {
    const double an = -i * (i - a);
    b += 2;
    d = an * d + b;
    if (std::fabs(d) < kTiny) d = kTiny;
    c = b + an / c;
    if (std::fabs(c) < kTiny) c = kTiny;
    d = 1 / d;
    const double del = d * c;
    h *= del;
    if (std::fabs(del - 1) < 3e-16) break;
  }
  return std::exp(-x + a * std::log(x) - LogGamma(a)) * h;
}
double GammaP(double a, double x) {
  if (x <= 0) return 0;
  if (x >= a + 1) return 1 - GammaQ(a, x);
  double ap = a, sum = 1 / a, del = sum;
  for (int n = 1; n <= 1000000; ++n) {
    ap += 1;
    del *= x / ap;
    sum += del;
    if (std::fabs(del) < std::fabs(sum) * kEps) break;
  }
  return sum * std::exp(-x + a * std::log(x) - LogGamma(a));
}

// P(p_B > p_A) for p_A ~ Beta(aa, ba), p_B ~ Beta(ab, bb) with ab a whole number: the sum
// over i < ab of B(aa + i, ba + bb) / ((bb + i) B(1 + i, bb) B(aa, ba))  (Evan Miller, 2015,
// "Formulas for Bayesian A/B testing"; also Cook 2005).
double MillerSum(double aa, double ba, double ab, double bb) {
  const int64_t n = static_cast<int64_t>(std::llround(ab));
  const double lb_a = LogBeta(aa, ba);
  double total = 0;
  for (int64_t i = 0; i < n; ++i) {
    const double di = static_cast<double>(i);
    total += std::exp(LogBeta(aa + di, ba + bb) - std::log(bb + di) - LogBeta(1 + di, bb) - lb_a);
  }
  return total;
}

bool IsSmallWhole(double v) { return v >= 1 && v <= 1e6 && v == std::floor(v); }

double LogBetaPdf(double x, double a, double b) {
  return (a - 1) * std::log(x) + (b - 1) * std::log1p(-x) - LogBeta(a, b);
}

}  // namespace

double NormalCdf(double z) { return 0.5 * std::erfc(-z / std::sqrt(2.0)); }

double NormalQuantile(double p) {
  if (!(p > 0)) return -kInf;
  if (!(p < 1)) return kInf;
  // Acklam's rational approximation (relative error < 1.2e-9), then one Halley step on
  // Phi(x) - p, which brings it to full double precision.
  static constexpr double a[] = {-3.969683028665376e+01, 2.209460984245205e+02,
                                 -2.759285104469687e+02, 1.383577518672690e+02,
                                 -3.066479806614716e+01, 2.506628277459239e+00};
  static constexpr double b[] = {-5.447609879822406e+01, 1.615858368580409e+02,
                                 -1.556989798598866e+02, 6.680131188771972e+01,
                                 -1.328068155288572e+01};
  static constexpr double c[] = {-7.784894002430293e-03, -3.223964580411365e-01,
                                 -2.400758277161838e+00, -2.549732539343734e+00,
                                 4.374664141464968e+00,  2.938163982698783e+00};
  static constexpr double d[] = {7.784695709041462e-03, 3.224671290700398e-01,
                                 2.445134137142996e+00, 3.754408661907416e+00};
  constexpr double p_low = 0.02425;
  double x;
  if (p < p_low) {
    const double q = std::sqrt(-2 * std::log(p));
    x = (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  } else if (p <= 1 - p_low) {
    const double q = p - 0.5, r = q * q;
    x = (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q /
        (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1);
  } else {
    const double q = std::sqrt(-2 * std::log1p(-p));
    x = -(((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) /
        ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1);
  }
  // Work on the smaller tail so that 1 - p does not lose digits.
  const double e = x < 0 ? 0.5 * std::erfc(-x / std::sqrt(2.0)) - p
                         : -(0.5 * std::erfc(x / std::sqrt(2.0)) - (1 - p));
  const double u = e * std::sqrt(2 * M_PI) * std::exp(x * x / 2);
  return x - u / (1 + x * u / 2);
}

double LogBeta(double a, double b) { return LogGamma(a) + LogGamma(b) - LogGamma(a + b); }

double RegularizedIncompleteBeta(double x, double a, double b) {
  if (x <= 0) return 0;
  if (x >= 1) return 1;
  const double front = std::exp(a * std::log(x) + b * std::log1p(-x) - LogBeta(a, b));
  if (x < (a + 1) / (a + b + 2)) return front * BetaContinuedFraction(x, a, b) / a;
  return 1 - front * BetaContinuedFraction(1 - x, b, a) / b;
}

double BetaQuantile(double p, double a, double b) {
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  double lo = 0, hi = 1;
  for (int i = 0; i < 200 && hi - lo > 1e-15; ++i) {
    const double mid = 0.5 * (lo + hi);
    (RegularizedIncompleteBeta(mid, a, b) < p ? lo : hi) = mid;
  }
  return 0.5 * (lo + hi);
}

double BinomialCdf(int64_t k, int64_t n, double p) {
  if (k < 0) return 0;
  if (k >= n) return 1;
  if (p <= 0) return 1;
  if (p >= 1) return 0;
  // P(X <= k) = I_{1-p}(n - k, k + 1).
  return RegularizedIncompleteBeta(1 - p, static_cast<double>(n - k), static_cast<double>(k + 1));
}

double BinomialUpperTail(int64_t k, int64_t n, double p) {
  if (k <= 0) return 1;
  if (k > n) return 0;
  if (p <= 0) return 0;
  if (p >= 1) return 1;
  // P(X >= k) = I_p(k, n - k + 1).
  return RegularizedIncompleteBeta(p, static_cast<double>(k), static_cast<double>(n - k + 1));
}

double PoissonCdf(int64_t k, double lambda) {
  if (k < 0) return 0;
  if (lambda <= 0) return 1;
  // P(X <= k) = Q(k + 1, lambda), the regularized upper incomplete gamma function.
  return GammaQ(static_cast<double>(k + 1), lambda);
}

Interval WilsonInterval(int64_t x, int64_t n, double confidence) {
  if (n <= 0) return {0, 1};
  const double z = NormalQuantile(1 - (1 - confidence) / 2);
  const double nn = static_cast<double>(n), p = static_cast<double>(x) / nn, z2 = z * z;
  const double denom = 1 + z2 / nn;
  const double center = (p + z2 / (2 * nn)) / denom;
  const double half = z / denom * std::sqrt(p * (1 - p) / nn + z2 / (4 * nn * nn));
  return {std::max(0.0, center - half), std::min(1.0, center + half)};
}

TwoProportionTest TwoProportionZTest(int64_t x1, int64_t n1, int64_t x2, int64_t n2) {
  TwoProportionTest t;
  if (n1 <= 0 || n2 <= 0) {
    t.diff = {-1, 1};
    t.ratio = 1;
    t.ratio_ci = {0, kInf};
    return t;
  }
  const double a = static_cast<double>(x1), b = static_cast<double>(x2);
  const double m = static_cast<double>(n1), n = static_cast<double>(n2);
  t.p1 = a / m;
  t.p2 = b / n;
  const double pooled = (a + b) / (m + n);
  const double se = std::sqrt(pooled * (1 - pooled) * (1 / m + 1 / n));
  if (se > 0) {
    t.z = (t.p1 - t.p2) / se;
    t.p_value = std::erfc(std::fabs(t.z) / std::sqrt(2.0));
  }
  const Interval w1 = WilsonInterval(x1, n1), w2 = WilsonInterval(x2, n2);
  const double d = t.p1 - t.p2;
  t.diff = {d - std::sqrt((t.p1 - w1.low) * (t.p1 - w1.low) + (w2.high - t.p2) * (w2.high - t.p2)),
            d + std::sqrt((w1.high - t.p1) * (w1.high - t.p1) + (t.p2 - w2.low) * (t.p2 - w2.low))};
  if (x1 == 0 && x2 == 0)
    t.ratio = 1;
  else if (x2 == 0)
    t.ratio = kInf;
  else
    t.ratio = t.p1 / t.p2;
  // Katz's log interval; with a zero count, 0.5 is added to both counts and both totals.
  double ca = a, cb = b, cm = m, cn = n;
  if (x1 == 0 || x2 == 0) {
    ca += 0.5;
    cb += 0.5;
    cm += 0.5;
    cn += 0.5;
  }
  const double log_rr = std::log((ca / cm) / (cb / cn));
  const double se_log = std::sqrt(std::max(0.0, 1 / ca - 1 / cm + 1 / cb - 1 / cn));
  const double z = NormalQuantile(0.975);
  t.ratio_ci = {std::exp(log_rr - z * se_log), std::exp(log_rr + z * se_log)};
  return t;
}

double RatioScoreZ(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double ratio) {
  if (n1 <= 0 || n2 <= 0 || !(ratio > 0)) return 0;
  const double a1 = static_cast<double>(x1), m = static_cast<double>(n1);
  const double a2 = static_cast<double>(x2), n = static_cast<double>(n2);
  // The likelihood restricted to p1 = ratio * p2 is maximal at the smaller root of
  // ratio (m + n) p2^2 - (ratio (m + x2) + x1 + n) p2 + (x1 + x2) = 0.
  const double qa = ratio * (m + n), qb = -(ratio * (m + a2) + a1 + n), qc = a1 + a2;
  const double disc = std::max(0.0, qb * qb - 4 * qa * qc);
  const double p2 = std::clamp((-qb - std::sqrt(disc)) / (2 * qa), 0.0, 1.0);
  const double p1 = std::min(1.0, ratio * p2);
  const double var = p1 * (1 - p1) / m + ratio * ratio * p2 * (1 - p2) / n;
  if (!(var > 0)) return 0;
  return (a1 / m - ratio * a2 / n) / std::sqrt(var);
}

double RatioMarginPValue(int64_t x1, int64_t n1, int64_t x2, int64_t n2, double margin) {
  margin = std::max(1.0, margin);
  const double z_up = RatioScoreZ(x1, n1, x2, n2, margin);
  const double z_low = RatioScoreZ(x1, n1, x2, n2, 1 / margin);
  if (z_up == 0 && z_low == 0 && x1 + x2 == 0) return 1;
  const double p_up = 0.5 * std::erfc(z_up / std::sqrt(2.0));     // P(Z >= z_up)
  const double p_low = 0.5 * std::erfc(-z_low / std::sqrt(2.0));  // P(Z <= z_low)
  return std::min(1.0, 2 * std::min(p_up, p_low));
}

double ProbBetaGreater(double a1, double b1, double a2, double b2) {
  // X ~ Beta(a1, b1), Y ~ Beta(a2, b2). Four exact sums exist, each needing one parameter to be
  // whole; the shortest one is used (its length is that parameter).
  //   P(X > Y) = MillerSum(A = Y, B = X)                 sums over a1
  //   P(X > Y) = 1 - MillerSum(A = X, B = Y)             sums over a2
  //   P(X > Y) = P(1 - Y > 1 - X) = MillerSum(A = 1-X, B = 1-Y)     sums over b2
  //   P(X > Y) = 1 - P(1 - X > 1 - Y) = 1 - MillerSum(A = 1-Y, B = 1-X)   sums over b1
  double best = kInf;
  int which = -1;
  const double params[] = {a1, a2, b2, b1};
  for (int i = 0; i < 4; ++i)
    if (IsSmallWhole(params[i]) && params[i] < best) {
      best = params[i];
      which = i;
    }
  double r;
  switch (which) {
    case 0:
      r = MillerSum(a2, b2, a1, b1);
      break;
    case 1:
      r = 1 - MillerSum(a1, b1, a2, b2);
      break;
    case 2:
      r = MillerSum(b1, a1, b2, a2);
      break;
    case 3:
      r = 1 - MillerSum(b2, a2, b1, a1);
      break;
    default: {
      // P(X > Y) = integral of f_X(x) I_x(a2, b2) dx, by Simpson's rule over the range that
      // holds all but 1e-14 of X's mass.
      const double lo = BetaQuantile(1e-14, a1, b1), hi = BetaQuantile(1 - 1e-14, a1, b1);
      const int n = 4000;
      const double h = (hi - lo) / n;
      double sum = 0;
      for (int i = 0; i <= n; ++i) {
        const double x = std::clamp(lo + i * h, 1e-300, 1 - 1e-16);
        const double f = std::exp(LogBetaPdf(x, a1, b1)) * RegularizedIncompleteBeta(x, a2, b2);
        sum += f * (i == 0 || i == n ? 1 : (i % 2 ? 4 : 2));
      }
      r = sum * h / 3;
    }
  }
  return std::clamp(r, 0.0, 1.0);
}

RateRatioTest ConditionalRateTest(int64_t observed_a, double expected_a, int64_t observed_b,
                                  double expected_b, double margin) {
  RateRatioTest t;
  const int64_t total = observed_a + observed_b;
  if (total <= 0 || !(expected_a > 0) || !(expected_b > 0)) {
    t.ratio_ci = {0, kInf};
    return t;
  }
  const double pi0 = expected_a / (expected_a + expected_b);
  const double oa = static_cast<double>(observed_a), ob = static_cast<double>(observed_b);
  const double scale = expected_b / expected_a;
  t.ratio = observed_b == 0 ? kInf : (oa / ob) * scale;
  auto to_ratio = [&](double pi) { return pi >= 1 ? kInf : pi / (1 - pi) * scale; };
  t.ratio_ci = {to_ratio(BetaQuantile(0.025, oa + 1, ob + 1)),
                to_ratio(BetaQuantile(0.975, oa + 1, ob + 1))};
  t.posterior = 1 - RegularizedIncompleteBeta(pi0, oa + 1, ob + 1);
  margin = std::max(1.0, margin);
  auto pi_at = [&](double ratio) { return ratio * expected_a / (ratio * expected_a + expected_b); };
  const double upper = BinomialUpperTail(observed_a, total, pi_at(margin));
  const double lower = BinomialCdf(observed_a, total, pi_at(1 / margin));
  t.p_value = std::min(1.0, 2 * std::min(lower, upper));
  return t;
}

std::vector<double> BenjaminiHochbergAdjust(const std::vector<double>& p) {
  const size_t m = p.size();
  std::vector<size_t> order(m);
  std::iota(order.begin(), order.end(), 0);
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) { return p[x] < p[y]; });
  std::vector<double> adjusted(m, 1);
  double running = 1;
  for (size_t r = m; r-- > 0;) {  // rank r + 1, from the largest p down
    const size_t i = order[r];
    running = std::min(running, p[i] * static_cast<double>(m) / static_cast<double>(r + 1));
    adjusted[i] = std::min(1.0, running);
  }
  return adjusted;
}

std::vector<bool> BenjaminiHochberg(const std::vector<double>& p, double q) {
  const auto adjusted = BenjaminiHochbergAdjust(p);
  std::vector<bool> out(p.size());
  for (size_t i = 0; i < p.size(); ++i) out[i] = adjusted[i] <= q;
  return out;
}

}  // namespace touchpoint::query::stats
