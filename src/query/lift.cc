#include "query/lift.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <numeric>

namespace touchpoint::query::lift {

namespace {

constexpr double kZ95 = 1.959963984540054;  // Phi^-1(0.975)
constexpr double kInf = std::numeric_limits<double>::infinity();

// The sample variance of per-person values from their sum and sum of squares.
double Variance(const CellTotals& c) {
  if (c.people < 2) return 0;
  const double n = static_cast<double>(c.people);
  const double mean = c.value / n;
  return std::max(0.0, (c.value_sq - n * mean * mean) / (n - 1));
}

}  // namespace

UserLevelResult EstimateUserLevel(const CellTotals& test, const CellTotals& control, double spend) {
  UserLevelResult r;
  if (test.people == 0 || control.people == 0) {
    r.note = test.people == 0 ? "the test cell has no people" : "the control cell has no people";
    return r;
  }
  const auto t =
      stats::TwoProportionZTest(test.converters, test.people, control.converters, control.people);
  r.test_rate = t.p1;
  r.control_rate = t.p2;
  r.test_rate_ci95 = stats::WilsonInterval(test.converters, test.people);
  r.control_rate_ci95 = stats::WilsonInterval(control.converters, control.people);
  r.p_value = t.p_value;
  const double nt = static_cast<double>(test.people);
  r.incremental_converters = {(t.p1 - t.p2) * nt, {t.diff.low * nt, t.diff.high * nt}};
  if (control.converters == 0) {
    r.note = "no converter in the control cell: the relative lift is unbounded";
  } else {
    r.lift = Estimate{t.ratio - 1, {t.ratio_ci.low - 1, t.ratio_ci.high - 1}};
  }
  const double nc = static_cast<double>(control.people);
  const double diff = test.value / nt - control.value / nc;
  const double se = std::sqrt(Variance(test) / nt + Variance(control) / nc);
  r.incremental_value = {diff * nt, {(diff - kZ95 * se) * nt, (diff + kZ95 * se) * nt}};
  if (spend > 0) {
    const auto& v = r.incremental_value;
    r.iroas = Estimate{v.value / spend, {v.ci95.low / spend, v.ci95.high / spend}};
  }
  return r;
}

Plan PlanUserLevel(double baseline_rate, double min_lift, double alpha, double power,
                   double control_share, double people_per_day) {
  Plan plan;
  const double p0 = baseline_rate, p1 = baseline_rate * (1 + min_lift);
  if (!(p0 > 0 && p1 < 1 && min_lift != 0 && control_share > 0 && control_share < 1 && alpha > 0 &&
        alpha < 1 && power > 0 && power < 1))
    return plan;
  const double k = control_share / (1 - control_share);  // control people per test person
  const double za = stats::NormalQuantile(1 - alpha / 2), zb = stats::NormalQuantile(power);
  const double pbar = (p1 + k * p0) / (1 + k);
  const double a = za * std::sqrt(pbar * (1 - pbar) * (1 + 1 / k));
  const double b = zb * std::sqrt(p1 * (1 - p1) + p0 * (1 - p0) / k);
  const double nt = (a + b) * (a + b) / ((p1 - p0) * (p1 - p0));
  plan.test_people = static_cast<int64_t>(std::ceil(nt));
  plan.control_people = static_cast<int64_t>(std::ceil(nt * k));
  if (people_per_day > 0)
    plan.days = static_cast<int64_t>(
        std::ceil(static_cast<double>(plan.test_people + plan.control_people) / people_per_day));
  return plan;
}

namespace {

// splitmix64: the permutations' random stream (deterministic for a seed).
struct SplitMix {
  uint64_t s;
  uint64_t Next() {
    uint64_t z = (s += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  size_t Below(size_t n) { return static_cast<size_t>(Next() % n); }
};

double Binomial(int n, int k) {
  double r = 1;
  for (int i = 1; i <= k; ++i) r = r * (n - k + i) / i;
  return r;
}

// Each assignment's statistic as A - delta * B (see EstimateGeo).
struct Assignment {
  double a = 0, b = 0;
};

}  // namespace

GeoResult EstimateGeo(const std::vector<Region>& regions, int permutations, uint64_t seed) {
  GeoResult r;
  const int n = static_cast<int>(regions.size());
  std::vector<double> change(n);
  std::vector<char> treated(n);
  int nt = 0;
  double test_post = 0;
  for (int i = 0; i < n; ++i) {
    change[i] = regions[i].post - regions[i].pre;
    treated[i] = regions[i].test;
    nt += regions[i].test;
    if (regions[i].test) test_post += regions[i].post;
  }
  const int nc = n - nt;
  if (nt < 2 || nc < 2) {
    r.incremental = {0, {-kInf, kInf}};
    r.p_value = 1;
    return r;
  }
  // For an assignment S of nt regions to "test": A = mean over S of the change minus mean over
  // the rest; B = |S n T| / nt - |rest n T| / nc. Under "the ads added delta to each test
  // region" the changes net of the effect are change_i - delta [i in T], and the assignment's
  // statistic on them is A - delta B. The observed assignment has A = DiD and B = 1.
  auto stat = [&](const std::vector<char>& in_s) {
    double st = 0, sc = 0;
    int t_in_s = 0, t_in_rest = 0;
    for (int i = 0; i < n; ++i) {
      if (in_s[i]) {
        st += change[i];
        t_in_s += treated[i];
      } else {
        sc += change[i];
        t_in_rest += treated[i];
      }
    }
    return Assignment{st / nt - sc / nc,
                      static_cast<double>(t_in_s) / nt - static_cast<double>(t_in_rest) / nc};
  };
  std::vector<Assignment> all;
  const double total = Binomial(n, nt);
  if (total <= permutations) {
    r.exact = true;
    std::vector<char> in_s(n, 0);
    std::fill(in_s.end() - nt, in_s.end(), 1);
    do {
      all.push_back(stat(in_s));
    } while (std::next_permutation(in_s.begin(), in_s.end()));
  } else {
    SplitMix rng{seed};
    all.push_back(stat(treated));  // the observed assignment is always one of them
    std::vector<int> idx(n);
    std::vector<char> in_s(n);
    for (int p = 1; p < permutations; ++p) {
      std::iota(idx.begin(), idx.end(), 0);
      for (int i = 0; i < nt; ++i) std::swap(idx[i], idx[i + rng.Below(n - i)]);
      std::fill(in_s.begin(), in_s.end(), 0);
      for (int i = 0; i < nt; ++i) in_s[idx[i]] = 1;
      all.push_back(stat(in_s));
    }
  }
  r.permutations = static_cast<int>(all.size());
  const double did = stat(treated).a;
  // p(delta): the share of assignments at least as extreme as the observed one.
  auto p_at = [&](double delta) {
    const double obs = std::fabs(did - delta) * (1 - 1e-12);
    int64_t extreme = 0;
    for (const auto& s : all) extreme += std::fabs(s.a - delta * s.b) >= obs;
    return static_cast<double>(extreme) / static_cast<double>(all.size());
  };
  r.p_value = p_at(0);
  // The 95% interval: the deltas not rejected at 5%, found on each side of the estimate by
  // doubling a step until p <= 0.05, then bisection.
  double spread = 0;
  for (const auto& s : all) spread += s.a * s.a;
  spread = std::sqrt(spread / static_cast<double>(all.size()));
  if (spread == 0) spread = std::max(1.0, std::fabs(did));
  auto bound = [&](double dir) {
    double inside = 0, step = spread;
    for (int i = 0; i < 64 && p_at(did + dir * step) > 0.05; ++i) {
      inside = step;
      step *= 2;
    }
    if (p_at(did + dir * step) > 0.05) return dir * kInf;  // never rejected: unbounded
    double outside = step;
    for (int i = 0; i < 100; ++i) {
      const double mid = (inside + outside) / 2;
      (p_at(did + dir * mid) > 0.05 ? inside : outside) = mid;
    }
    return did + dir * inside;
  };
  const double lo = bound(-1), hi = bound(+1);
  r.incremental = {did * nt, {lo * nt, hi * nt}};
  const double counterfactual = test_post - did * nt;
  if (counterfactual > 0) {
    // The lift's bounds follow the incremental's: inc / (post - inc) increases with inc.
    auto rel = [&](double inc) {
      if (std::isinf(inc)) return inc;
      const double base = test_post - inc;
      return base > 0 ? inc / base : kInf;
    };
    r.lift = Estimate{rel(did * nt), {rel(lo * nt), rel(hi * nt)}};
  }
  return r;
}

}  // namespace touchpoint::query::lift
