// Data-driven attribution (Markov removal effects, Shapley values) on small path sets whose
// answers are worked out by hand in the comments, plus checks against independent brute-force
// computations written here from the definitions (not from the models' code).
#include "attribution/data_driven.h"

#include <gtest/gtest.h>

#include <cmath>
#include <map>
#include <random>

#include "query/dataset.h"
#include "query/report.h"
#include "query/report_format.h"
#include "support/ad_events.h"

namespace touchpoint {
namespace {

using attribution::MarkovModel;
using attribution::PathSet;
using attribution::ShapleyModel;

constexpr double kEps = 1e-12;

// Channels A=0, B=1, C=2, D=3.
PathSet Paths(const std::vector<std::pair<std::vector<uint32_t>, double>>& paths) {
  PathSet s;  // value < 0: a non-converting journey
  for (const auto& [ch, value] : paths) s.Add(ch, value >= 0, std::max(0.0, value));
  return s;
}

// One journey's conversion and value weights per touch.
std::pair<std::vector<double>, std::vector<double>> CreditOf(const attribution::DataDrivenModel& m,
                                                             std::vector<uint32_t> journey) {
  std::vector<double> w(journey.size()), v(journey.size());
  m.Credit(journey, w, v);
  return {w, v};
}

// Sums what Credit hands out over the converting journeys, per channel.
std::pair<std::vector<double>, std::vector<double>> Handed(const attribution::DataDrivenModel& m,
                                                           const PathSet& s, uint32_t n) {
  std::vector<double> conv(n, 0), value(n, 0);
  for (size_t i = 0; i < s.size(); ++i) {
    if (!s.Converted(i)) continue;
    auto ch = s.Channels(i);
    std::vector<double> w(ch.size()), v(ch.size());
    m.Credit(ch, w, v);
    for (size_t k = 0; k < ch.size(); ++k) {
      conv[ch[k]] += w[k];
      value[ch[k]] += v[k] * s.Value(i);
    }
  }
  return {conv, value};
}

// The classic three-path example:
//   C1 > C2 > C3 > conversion,  C1 > null,  C2 > C3 > null.
// Transitions: start->C1 2/3, start->C2 1/3; C1->C2 1/2, C1->null 1/2; C2->C3 1;
// C3->conv 1/2, C3->null 1/2.
//   P(conv)      = 2/3*1/2*1*1/2 + 1/3*1*1/2 = 1/6 + 1/6 = 1/3
//   without C1:  only start->C2: 1/3*1/2 = 1/6   -> removal effect 1 - (1/6)/(1/3) = 1/2
//   without C2:  0                                -> 1;   without C3: 0 -> 1
// Sum of effects 5/2; one conversion (value 100): C1 0.2 (20), C2 0.4 (40), C3 0.4 (40).
TEST(MarkovTest, ClassicThreePathExample) {
  const PathSet s = Paths({{{0, 1, 2}, 100}, {{0}, -1}, {{1, 2}, -1}});
  MarkovModel m(1);
  ASSERT_TRUE(m.FitPaths(s, 3).ok());
  EXPECT_NEAR(m.conversion_probability(), 1.0 / 3, kEps);
  EXPECT_EQ(m.states(), 4u);  // start, C1, C2, C3
  EXPECT_NEAR(m.removal_effects()[0], 0.5, kEps);
  EXPECT_NEAR(m.removal_effects()[1], 1.0, kEps);
  EXPECT_NEAR(m.removal_effects()[2], 1.0, kEps);
  const std::vector<double> want = {0.2, 0.4, 0.4};
  auto [conv, value] = Handed(m, s, 3);
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(m.channel_conversions()[c], want[c], kEps);
    EXPECT_NEAR(conv[c], want[c], kEps);
    EXPECT_NEAR(value[c], 100 * want[c], 1e-10);
  }
}

// A journey that returns to a channel: A > B > A > conv, B > null, A > null.
// Counts: start->A 2, start->B 1; A->B 1, A->conv 1, A->null 1; B->A 1, B->null 1.
//   x_A = 1/3 + 1/3 x_B,  x_B = 1/2 x_A  =>  x_A = 2/5, x_B = 1/5
//   P = 2/3*2/5 + 1/3*1/5 = 1/3
//   without A: 0 -> effect 1;  without B: x_A' = 1/3, P' = 2/3*1/3 = 2/9 -> effect 1/3
// One conversion (value 40): A 3/4 (30), B 1/4 (10); A's credit is shared by its two touches.
TEST(MarkovTest, CycleThroughAChannelIsSolvedExactly) {
  const PathSet s = Paths({{{0, 1, 0}, 40}, {{1}, -1}, {{0}, -1}});
  MarkovModel m(1);
  ASSERT_TRUE(m.FitPaths(s, 2).ok());
  EXPECT_NEAR(m.conversion_probability(), 1.0 / 3, kEps);
  EXPECT_NEAR(m.removal_effects()[0], 1.0, kEps);
  EXPECT_NEAR(m.removal_effects()[1], 1.0 / 3, kEps);
  auto [w, v] = CreditOf(m, {0, 1, 0});
  EXPECT_NEAR(w[0], 0.375, kEps);
  EXPECT_NEAR(w[1], 0.25, kEps);
  EXPECT_NEAR(w[2], 0.375, kEps);
  EXPECT_NEAR(v[0] * 40 + v[2] * 40, 30, 1e-10);
  EXPECT_NEAR(v[1] * 40, 10, 1e-10);
}

// A > C > conv and B > C > null.
// Order 1: start->A 1/2, start->B 1/2, A->C, B->C, C->conv 1/2: P = 1/2; without A (or B)
//   1/4 -> effect 1/2 each; without C 0 -> 1. B is on no converting journey, so it has no
//   conversion to take a share of (docs/metrics.md): the effects of A and C are normalised
//   alone, A 1/2 / (3/2) = 1/3, C 2/3.
// Order 2 (states: last two channels): (A,C)->conv, (B,C)->null: P = 1/2; without A 0 -> 1;
//   without B the path start>(A)>(A,C) still converts: 1/2 -> 0; without C 0 -> 1.
//   Shares: A 0.5, B 0, C 0.5. The second order sees that C converts only after A.
TEST(MarkovTest, SecondOrderSeesTheSequence) {
  const PathSet s = Paths({{{0, 2}, 1}, {{1, 2}, -1}});
  MarkovModel first(1), second(2);
  ASSERT_TRUE(first.FitPaths(s, 3).ok());
  ASSERT_TRUE(second.FitPaths(s, 3).ok());
  EXPECT_EQ(first.states(), 4u);
  EXPECT_EQ(second.states(), 5u);  // start, (A), (B), (A,C), (B,C)
  EXPECT_NEAR(first.removal_effects()[1], 0.5, kEps);
  EXPECT_NEAR(second.removal_effects()[1], 0, kEps);
  const std::vector<double> want1 = {1.0 / 3, 0, 2.0 / 3}, want2 = {0.5, 0, 0.5};
  for (int c = 0; c < 3; ++c) {
    EXPECT_NEAR(first.channel_conversions()[c], want1[c], kEps) << c;
    EXPECT_NEAR(second.channel_conversions()[c], want2[c], kEps) << c;
  }
}

// Repeats next to each other are one step: A A B conv is A B conv.
TEST(MarkovTest, RepeatedTouchesAreOneStep) {
  MarkovModel a(1), b(1);
  ASSERT_TRUE(a.FitPaths(Paths({{{0, 0, 1}, 1}, {{0}, -1}}), 2).ok());
  ASSERT_TRUE(b.FitPaths(Paths({{{0, 1}, 1}, {{0}, -1}}), 2).ok());
  for (int c = 0; c < 2; ++c) EXPECT_NEAR(a.removal_effects()[c], b.removal_effects()[c], kEps);
}

// Conversion probability by value iteration on the chain built from the counts, with the
// removed channel's entries sent to null: an independent (iterative) computation.
double IterativeP(const PathSet& s, uint32_t n, int removed) {
  // States: 0 start, 1+c channel c; counts.
  std::vector<std::map<int, double>> next(n + 1);  // to: -1 conv, -2 null, else state
  std::vector<double> out(n + 1, 0);
  for (size_t i = 0; i < s.size(); ++i) {
    std::vector<uint32_t> steps;
    attribution::CollapseRepeats(s.Channels(i), steps);
    int prev = 0;
    for (uint32_t c : steps) {
      next[prev][1 + static_cast<int>(c)] += 1;
      out[prev] += 1;
      prev = 1 + static_cast<int>(c);
    }
    next[prev][s.Converted(i) ? -1 : -2] += 1;
    out[prev] += 1;
  }
  std::vector<double> x(n + 1, 0);
  for (int it = 0; it < 20000; ++it) {
    std::vector<double> y(n + 1, 0);
    for (uint32_t st = 0; st <= n; ++st) {
      if (removed >= 0 && static_cast<int>(st) == removed + 1) continue;  // removed: never converts
      for (auto [to, cnt] : next[st])
        y[st] += cnt / out[st] * (to == -1 ? 1 : to == -2 ? 0 : x[static_cast<size_t>(to)]);
    }
    x.swap(y);
  }
  return x[0];
}

TEST(MarkovTest, RemovalEffectsMatchIterativeSolutionOnRandomPaths) {
  std::mt19937_64 rng(7);
  for (int trial = 0; trial < 20; ++trial) {
    const uint32_t n = 2 + static_cast<uint32_t>(rng() % 6);
    PathSet s;
    double conversions = 0, value = 0;
    for (int p = 0; p < 60; ++p) {
      std::vector<uint32_t> ch(1 + rng() % 5);
      for (auto& c : ch) c = static_cast<uint32_t>(rng() % n);
      const bool conv = rng() % 3 == 0;
      const double v = conv ? static_cast<double>(rng() % 100) : 0;
      s.Add(ch, conv, v);
      conversions += conv;
      value += v;
    }
    MarkovModel m(1);
    ASSERT_TRUE(m.FitPaths(s, n).ok());
    const double p = IterativeP(s, n, -1);
    EXPECT_NEAR(m.conversion_probability(), p, 1e-9);
    for (uint32_t c = 0; c < n; ++c)
      EXPECT_NEAR(m.removal_effects()[c], p > 0 ? 1 - IterativeP(s, n, static_cast<int>(c)) / p : 0,
                  1e-9)
          << "trial " << trial << " channel " << c;
    // Efficiency: what Credit hands out sums to the conversions and the value.
    auto [conv, val] = Handed(m, s, n);
    double sc = 0, sv = 0;
    for (uint32_t c = 0; c < n; ++c) sc += conv[c], sv += val[c];
    EXPECT_NEAR(sc, conversions, 1e-9);
    EXPECT_NEAR(sv, value, 1e-7);
  }
}

TEST(MarkovTest, TooManyStatesIsRefusedNamingTheParameter) {
  PathSet s;
  std::mt19937_64 rng(3);
  for (int p = 0; p < 4000; ++p) {
    std::vector<uint32_t> ch(4);
    for (auto& c : ch) c = static_cast<uint32_t>(rng() % 50);
    s.Add(ch, p % 2 == 0, 1);
  }
  MarkovModel m(4);
  Status st = m.FitPaths(s, 50);
  EXPECT_FALSE(st.ok());
  EXPECT_NE(st.message().find("markov_order"), std::string::npos) << st.message();
}

// Shapley value from its definition: phi_i = sum over S not holding i of
// |S|! (n-|S|-1)! / n! * (v(S+i) - v(S)), v(S) = conversions of journeys whose channels lie
// within S. 2^n subsets: for small n only.
std::vector<double> BruteShapley(const PathSet& s, uint32_t n) {
  std::vector<uint32_t> need;  // each converting journey's channel set as a bit mask
  for (size_t i = 0; i < s.size(); ++i) {
    if (!s.Converted(i)) continue;
    uint32_t mask = 0;
    for (uint32_t c : s.Channels(i)) mask |= 1u << c;
    need.push_back(mask);
  }
  auto v = [&](uint32_t set) {
    double x = 0;
    for (uint32_t m : need) x += (m & ~set) == 0;
    return x;
  };
  std::vector<double> fact(n + 1, 1);
  for (uint32_t k = 1; k <= n; ++k) fact[k] = fact[k - 1] * k;
  std::vector<double> phi(n, 0);
  for (uint32_t i = 0; i < n; ++i)
    for (uint32_t set = 0; set < (1u << n); ++set) {
      if (set >> i & 1) continue;
      const auto size = static_cast<uint32_t>(__builtin_popcount(set));
      phi[i] += fact[size] * fact[n - size - 1] / fact[n] * (v(set | 1u << i) - v(set));
    }
  return phi;
}

TEST(ShapleyTest, ClosedFormMatchesTheSubsetDefinition) {
  std::mt19937_64 rng(11);
  for (int trial = 0; trial < 20; ++trial) {
    const uint32_t n = 2 + static_cast<uint32_t>(rng() % 8);
    PathSet s;
    for (int p = 0; p < 40; ++p) {
      std::vector<uint32_t> ch(1 + rng() % 6);
      for (auto& c : ch) c = static_cast<uint32_t>(rng() % n);
      s.Add(ch, rng() % 2 == 0, 1);
    }
    ShapleyModel m;
    ASSERT_TRUE(m.FitPaths(s, n).ok());
    const auto want = BruteShapley(s, n);
    auto [conv, value] = Handed(m, s, n);
    for (uint32_t c = 0; c < n; ++c) {
      EXPECT_NEAR(m.channel_conversions()[c], want[c], 1e-9) << trial << " " << c;
      EXPECT_NEAR(conv[c], want[c], 1e-9);
    }
  }
}

// Paths: {A,B} conv, {B,A} conv, {C} conv, {A,B,C} conv, {D} not converting, {A,D} not.
// Per journey 1/|channels| to each: A = 1/2 + 1/2 + 1/3 = 4/3, B = 4/3, C = 1 + 1/3 = 4/3,
// D = 0. Efficiency: 4/3 * 3 = 4 = the conversions. Symmetry: swapping A and B leaves v
// unchanged, and they get the same. Null player: adding D to any set adds no conversion (D is
// only on non-converting journeys), and D gets 0.
TEST(ShapleyTest, EfficiencySymmetryAndNullPlayer) {
  const PathSet s =
      Paths({{{0, 1}, 10}, {{1, 0}, 10}, {{2}, 10}, {{0, 1, 2}, 30}, {{3}, -1}, {{0, 3}, -1}});
  ShapleyModel m;
  ASSERT_TRUE(m.FitPaths(s, 4).ok());
  EXPECT_NEAR(m.channel_conversions()[0], 4.0 / 3, kEps);
  EXPECT_NEAR(m.channel_conversions()[1], 4.0 / 3, kEps);
  EXPECT_NEAR(m.channel_conversions()[2], 4.0 / 3, kEps);
  EXPECT_EQ(m.channel_conversions()[3], 0);
  // Value: A = 5 + 5 + 10 = 20, B = 20, C = 10 + 10 = 20, D = 0; sum 60.
  EXPECT_NEAR(m.channel_value()[0], 20, 1e-10);
  EXPECT_NEAR(m.channel_value()[1], 20, 1e-10);
  EXPECT_NEAR(m.channel_value()[2], 20, 1e-10);
  EXPECT_EQ(m.channel_value()[3], 0);
  // A journey's repeated touches share their channel's part: A B A -> 1/4, 1/2, 1/4.
  auto [w, v] = CreditOf(m, {0, 1, 0});
  EXPECT_NEAR(w[0], 0.25, kEps);
  EXPECT_EQ(v, w);
  EXPECT_NEAR(w[1], 0.5, kEps);
  EXPECT_NEAR(w[2], 0.25, kEps);
}

// Beyond 20 channels the closed form stays exact. Independent check from the definition,
// counted by subset size instead of enumerated: for a journey with k channels among n, player
// i in it has marginal contribution 1 exactly for the sets S (i not in S) holding the other
// k-1 channels; there are C(n-k, s-k+1) such sets of size s, each weighing s!(n-s-1)!/n!.
TEST(ShapleyTest, ExactBeyondTwentyChannels) {
  constexpr uint32_t n = 30;
  PathSet s;
  std::vector<std::vector<uint32_t>> journeys;
  std::vector<uint32_t> j25(25), j22(22);
  for (uint32_t c = 0; c < 25; ++c) j25[c] = c;
  for (uint32_t c = 0; c < 22; ++c) j22[c] = 29 - c;
  journeys = {j25, j22, {3, 28}};
  for (const auto& j : journeys) s.Add(j, true, 1);
  ShapleyModel m;
  ASSERT_TRUE(m.FitPaths(s, n).ok());
  auto lfact = [](double x) { return std::lgamma(x + 1); };
  std::vector<double> want(n, 0);
  for (const auto& j : journeys) {
    const double k = static_cast<double>(j.size());
    double phi = 0;  // each member's value in this journey's game
    for (double size = k - 1; size <= n - 1; ++size)
      phi += std::exp(lfact(n - k) - lfact(size - k + 1) - lfact(n - size - 1) + lfact(size) +
                      lfact(n - size - 1) - lfact(n));
    for (uint32_t c : j) want[c] += phi;
  }
  double sum = 0;
  for (uint32_t c = 0; c < n; ++c) {
    EXPECT_NEAR(m.channel_conversions()[c], want[c], 1e-12) << c;
    sum += m.channel_conversions()[c];
  }
  EXPECT_NEAR(sum, 3, 1e-12);
  EXPECT_NEAR(m.channel_conversions()[0], 1.0 / 25, 1e-15);
}

// --- Through the report: journeys cut from events ----------------------------------------

constexpr int64_t kT0 = 1700000000000;

using testing::MakeTouch;
SiteEvent Buy(int64_t t, std::string ttp, std::string ttclid, double value) {
  SiteEvent e;
  e.pixel_id = "P";
  e.event = "CompletePayment";
  e.event_time_ms = t;
  e.user.ttp = std::move(ttp);
  e.user.ttclid = std::move(ttclid);
  e.value = value;
  return e;
}
SiteEvent Visit(int64_t t, std::string ttp, std::string ttclid) {
  SiteEvent e = Buy(t, std::move(ttp), std::move(ttclid), 0);
  e.event = "PageView";
  e.value.reset();
  return e;
}

class DataDrivenReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = std::make_shared<Catalog>();
    AdGroup g{
        "g1",
        "G1",
        7,
        1,
        CountMode::kEvery,
        {Ad{"a1", "A1", "https://x.example/1", {}}, Ad{"a2", "A2", "https://x.example/2", {}}}};
    AdGroup h{"g2", "G2", 7, 1, CountMode::kEvery, {Ad{"b1", "B1", "https://x.example/3", {}}}};
    c->campaigns.push_back(Campaign{"c1", "C1", {g, h}, ""});
    data_.SetCatalog(c);
  }
  void Add(store::StoredEvent e) { data_.Append(++seq_, e); }
  // A click whose landing visit links the cookie `ttp` to the ad platform's user.
  void Click(const std::string& ad, int64_t t, const std::string& user, const std::string& ttp) {
    const std::string id = "K" + std::to_string(++clicks_);
    Add(MakeTouch(AdEventType::kClick, ad, t, user, id));
    Add(Visit(t, ttp, id));
  }
  query::ReportResult Run(const std::string& params, int threads = 2) {
    std::vector<std::pair<std::string, std::string>> kv = {{"from", "2023-11-01"},
                                                           {"to", "2023-11-30"}};
    for (size_t b = 0; b < params.size();) {
      size_t e = params.find('&', b);
      if (e == std::string::npos) e = params.size();
      const std::string part = params.substr(b, e - b);
      kv.emplace_back(part.substr(0, part.find('=')), part.substr(part.find('=') + 1));
      b = e + 1;
    }
    auto req = query::ParseReportParams(kv, kT0);
    EXPECT_TRUE(req.ok()) << req.status().message();
    data_.Cluster();
    req->query.threads = threads;
    auto r = query::RunReport(data_, req->query);
    EXPECT_TRUE(r.ok()) << r.status().message();
    json_ = query::ReportToJson(req->query, *r, req->metrics);
    return *r;
  }
  static std::map<std::string, query::Metrics> Rows(const query::ReportResult& r) {
    std::map<std::string, query::Metrics> out;
    for (const auto& row : r.rows) out[row.dims[0]] = row.metrics;
    return out;
  }
  // The classic three paths as people: u1 clicks a1, a2, b1 and buys (100); u2 clicks a1;
  // u3 clicks a2 then b1; u2 and u3 never buy.
  void ClassicWorld() {
    Click("a1", kT0, "u1", "c1");
    Click("a2", kT0 + kHourMs, "u1", "c1");
    Click("b1", kT0 + 2 * kHourMs, "u1", "c1");
    Add(Buy(kT0 + 3 * kHourMs, "c1", "", 100));
    Click("a1", kT0, "u2", "c2");
    Click("a2", kT0, "u3", "c3");
    Click("b1", kT0 + kHourMs, "u3", "c3");
  }
  query::Dataset data_;
  uint64_t seq_ = 0;
  int clicks_ = 0;
  std::string json_;
};

// By ad, the report gives the classic example's shares (MarkovTest.ClassicThreePathExample):
// a1 0.2, a2 0.4, b1 0.4 of the one conversion and of its value 100; totals 1 and 100.
TEST_F(DataDrivenReportTest, MarkovByAdIsTheClassicExample) {
  ClassicWorld();
  const auto r = Run("dimensions=ad&model=markov");
  auto rows = Rows(r);
  EXPECT_NEAR(rows["a1"].conversions_click, 0.2, kEps);
  EXPECT_NEAR(rows["a2"].conversions_click, 0.4, kEps);
  EXPECT_NEAR(rows["b1"].conversions_click, 0.4, kEps);
  EXPECT_NEAR(rows["a1"].value, 20, 1e-10);
  EXPECT_NEAR(rows["b1"].value, 40, 1e-10);
  EXPECT_NEAR(r.totals.conversions(), 1, kEps);
  EXPECT_NEAR(r.totals.value, 100, 1e-10);
  EXPECT_EQ(r.journeys_converting, 1u);
  EXPECT_EQ(r.journeys_not_converting, 2u);
  ASSERT_EQ(r.channel_fit.size(), 3u);
  EXPECT_NEAR(r.channel_fit[0].removal_effect, 0.5, kEps);  // a1
  EXPECT_NE(json_.find(R"("model_fit":{"channel":"ad","journeys_converting":1,)"),
            std::string::npos)
      << json_;
}

// With count=once the credit cannot be deferred into the fit pass (which touches count depends
// on the fitted weights), so Markov fits first and credits in a second pass; u1 buys once, so
// the numbers are the classic example's again.
TEST_F(DataDrivenReportTest, MarkovCountingOnceFitsFirstAndCreditsTheSame) {
  ClassicWorld();
  auto rows = Rows(Run("dimensions=ad&model=markov&count=once"));
  EXPECT_NEAR(rows["a1"].conversions(), 0.2, kEps);
  EXPECT_NEAR(rows["a2"].conversions(), 0.4, kEps);
  EXPECT_NEAR(rows["b1"].conversions(), 0.4, kEps);
  EXPECT_NEAR(rows["b1"].value, 40, 1e-10);
}

// channel=adgroup: the journeys are g1 g1 g2 > conv (one step g1 > g2), g1 > null,
// g1 g2 > null. start->g1 1; g1->g2 2/3, g1->null 1/3; g2->conv 1/2: P = 1/3; without
// either, 0: effects 1 and 1, half a conversion each. By ad, g1's half is shared by its two
// touches in u1's journey: a1 0.25, a2 0.25, b1 0.5.
TEST_F(DataDrivenReportTest, ChannelIsAChosenDimensionAndRepeatsShareItsCredit) {
  ClassicWorld();
  auto by_group = Rows(Run("dimensions=adgroup&model=markov"));
  EXPECT_NEAR(by_group["g1"].conversions(), 0.5, kEps);
  EXPECT_NEAR(by_group["g2"].conversions(), 0.5, kEps);
  auto by_ad = Rows(Run("dimensions=ad&model=markov&channel=adgroup"));
  EXPECT_NEAR(by_ad["a1"].conversions(), 0.25, kEps);
  EXPECT_NEAR(by_ad["a2"].conversions(), 0.25, kEps);
  EXPECT_NEAR(by_ad["b1"].conversions(), 0.5, kEps);
}

// Shapley by ad: u1's journey has three channels, 1/3 each; u2 and u3 add nothing (v counts
// conversions only).
TEST_F(DataDrivenReportTest, ShapleyByAd) {
  ClassicWorld();
  const auto r = Run("dimensions=ad&model=shapley");
  auto rows = Rows(r);
  for (const char* ad : {"a1", "a2", "b1"}) {
    EXPECT_NEAR(rows[ad].conversions(), 1.0 / 3, kEps) << ad;
    EXPECT_NEAR(rows[ad].value, 100.0 / 3, 1e-10) << ad;
  }
  EXPECT_NEAR(r.totals.value, 100, 1e-10);
}

// How non-converting journeys are cut:
//   u1 clicks a1, buys an hour later (value 10), then clicks b1 two days later and never buys
//      again: a converting journey [a1] and a non-converting one [b1] (the a1 click was
//      followed by a conversion within its window, so it is not in the latter).
//   u2 sees a2 and clicks a1 and never buys: [a1] (the click beats the view, as for a
//      conversion).
//   u3 only sees a2: [a2].
// Paths a1>conv, b1>null, a1>null, a2>null: start->a1 1/2, ->b1 1/4, ->a2 1/4; a1->conv 1/2:
// P = 1/4; only a1 has an effect (1); it gets the conversion.
TEST_F(DataDrivenReportTest, NonConvertingJourneysAreCutLikeConvertingOnes) {
  Click("a1", kT0, "u1", "c1");
  Add(Buy(kT0 + kHourMs, "c1", "", 10));
  Click("b1", kT0 + 2 * kDayMs, "u1", "c1");
  Add(MakeTouch(AdEventType::kImpression, "a2", kT0, "u2"));
  Click("a1", kT0 + kHourMs, "u2", "c2");
  Add(MakeTouch(AdEventType::kImpression, "a2", kT0, "u3"));
  const auto r = Run("dimensions=ad&model=markov");
  EXPECT_EQ(r.journeys_converting, 1u);
  EXPECT_EQ(r.journeys_not_converting, 3u);
  EXPECT_EQ(r.markov_states, 4u);
  EXPECT_NEAR(r.markov_conversion_probability, 0.25, kEps);
  auto rows = Rows(r);
  EXPECT_NEAR(rows["a1"].conversions(), 1, kEps);
  EXPECT_NEAR(rows["a1"].value, 10, kEps);
  EXPECT_EQ(rows["b1"].conversions(), 0);
  EXPECT_EQ(rows["a2"].conversions(), 0);
}

// Above 50,000 people the report runs two workers, each feeding its own sink; the fit must be
// the one a single worker learns (the merged counts are the same counts).
TEST_F(DataDrivenReportTest, TwoWorkersLearnWhatOneLearns) {
  const char* ads[] = {"a1", "a2", "b1"};
  for (int i = 0; i < 60000; ++i) {
    const std::string user = "u" + std::to_string(i), ttp = "c" + std::to_string(i);
    const int n = 1 + i % 3;
    for (int k = 0; k < n; ++k) Click(ads[(i / 3 + k * (i % 7)) % 3], kT0 + k * kHourMs, user, ttp);
    if (i % 5 == 0) Add(Buy(kT0 + 5 * kHourMs, ttp, "", 1 + i % 4));
  }
  for (const char* model : {"markov", "shapley"}) {
    SCOPED_TRACE(model);
    const auto one = Run(std::string("dimensions=ad&model=") + model, 1);
    const auto two = Run(std::string("dimensions=ad&model=") + model, 2);
    EXPECT_EQ(one.journeys_converting, 12000u);
    EXPECT_EQ(two.journeys_converting, one.journeys_converting);
    EXPECT_EQ(two.journeys_not_converting, one.journeys_not_converting);
    ASSERT_EQ(two.channel_fit.size(), one.channel_fit.size());
    for (size_t c = 0; c < one.channel_fit.size(); ++c) {
      EXPECT_NEAR(two.channel_fit[c].removal_effect, one.channel_fit[c].removal_effect, 1e-12);
      EXPECT_NEAR(two.channel_fit[c].conversions, one.channel_fit[c].conversions, 1e-8);
    }
    auto r1 = Rows(one), r2 = Rows(two);
    for (const char* ad : ads) {
      EXPECT_NEAR(r2[ad].conversions(), r1[ad].conversions(), 1e-8) << ad;
      EXPECT_NEAR(r2[ad].value, r1[ad].value, 1e-8) << ad;
    }
    EXPECT_NEAR(one.totals.conversions(), 12000, 1e-6);
  }
}

TEST_F(DataDrivenReportTest, BadParametersNameTheField) {
  std::vector<std::pair<std::string, std::string>> kv = {
      {"from", "2023-11-01"}, {"to", "2023-11-30"}, {"model", "markov"}, {"channel", "age"}};
  auto a = query::ParseReportParams(kv, kT0);
  ASSERT_FALSE(a.ok());
  EXPECT_EQ(a.status().message().substr(0, 8), "channel:");
  kv[3] = {"markov_order", "5"};
  auto b = query::ParseReportParams(kv, kT0);
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message().substr(0, 13), "markov_order:");
}

}  // namespace
}  // namespace touchpoint
