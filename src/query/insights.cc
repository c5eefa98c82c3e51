#include "query/insights.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <map>
#include <set>
#include <tuple>
#include <unordered_map>

#include "core/json_writer.h"
#include "core/time.h"
#include "query/report_format.h"
#include "query/stats.h"

namespace touchpoint::query {

namespace {

// Additive counts of one cell (an ad, an ad within a segment, ...).
struct Counts {
  double spend = 0, value = 0, conv_click = 0, conv = 0;
  double imps = 0, clicks = 0, plays = 0, v2s = 0, p50 = 0, p100 = 0;

  void Add(const Metrics& m) {
    spend += m.spend;
    value += m.value;
    conv_click += m.conversions_click;
    conv += m.conversions();
    imps += static_cast<double>(m.impressions);
    clicks += static_cast<double>(m.clicks);
    plays += static_cast<double>(m.video_plays);
    v2s += static_cast<double>(m.views_2s);
    p50 += static_cast<double>(m.p50);
    p100 += static_cast<double>(m.p100);
  }
  void Add(const Counts& c, double sign = 1) {
    spend += sign * c.spend;
    value += sign * c.value;
    conv_click += sign * c.conv_click;
    conv += sign * c.conv;
    imps += sign * c.imps;
    clicks += sign * c.clicks;
    plays += sign * c.plays;
    v2s += sign * c.v2s;
    p50 += sign * c.p50;
    p100 += sign * c.p100;
  }
  void Subtract(const Counts& c) { Add(c, -1); }
};

// The rates the rules compare: successes over trials.
enum class Rate { kCvr, kCtr, kHook, kWatch, kCompletion };

double Successes(const Counts& c, Rate r) {
  switch (r) {
    case Rate::kCvr:
      return c.conv_click;
    case Rate::kCtr:
      return c.clicks;
    case Rate::kHook:
      return c.v2s;
    case Rate::kWatch:
      return c.p50;
    case Rate::kCompletion:
      return c.p100;
  }
  return 0;
}
double Trials(const Counts& c, Rate r) {
  switch (r) {
    case Rate::kCvr:
      return c.clicks;
    case Rate::kCtr:
    case Rate::kHook:
      return c.imps;
    case Rate::kWatch:
    case Rate::kCompletion:
      return c.plays;
  }
  return 0;
}
const char* MetricName(Rate r) {
  switch (r) {
    case Rate::kCvr:
      return "cvr_click";
    case Rate::kCtr:
      return "ctr";
    case Rate::kHook:
      return "hook_rate";
    case Rate::kWatch:
      return "watch_half_rate";
    case Rate::kCompletion:
      return "completion_rate";
  }
  return "";
}
double MinTrials(const InsightsQuery& q, Rate r) {
  switch (r) {
    case Rate::kCvr:
      return static_cast<double>(q.min_clicks);
    case Rate::kCtr:
    case Rate::kHook:
      return static_cast<double>(q.min_impressions);
    case Rate::kWatch:
    case Rate::kCompletion:
      return static_cast<double>(q.min_plays);
  }
  return 0;
}
double RateOf(const Counts& c, Rate r) {
  const double t = Trials(c, r);
  return t > 0 ? Successes(c, r) / t : 0;
}
int64_t Round(double v) { return static_cast<int64_t>(std::llround(v)); }

struct AdInfo {
  std::string id, name, campaign, adgroup;
  const Ad* ad = nullptr;
  Counts total;
  std::map<std::string, Counts> by_age;
};

// value -> ad index -> counts, for one audience dimension.
using SegmentCells = std::map<std::string, std::map<size_t, Counts>>;

struct Candidate {
  Finding f;
  bool big_enough = false;  // the effect passes min_ratio (and the rule's direction)
  double threshold = 0;     // adjusted p must be at most this
};

std::string Fmt(const char* format, double v) {
  char buf[64];
  std::snprintf(buf, sizeof buf, format, v);
  return buf;
}
std::string Pct(double rate) {
  const double p = 100 * rate;
  return Fmt(p != 0 && std::fabs(p) < 1 ? "%.2f%%" : "%.1f%%", p);
}
std::string Times(double ratio) {
  if (!std::isfinite(ratio)) return "inf x";
  return Fmt(ratio < 0.095 ? "%.2fx" : "%.1fx", ratio);
}
std::string Money(double v) { return Fmt("%.2f", v); }
std::string Count(double v) { return Fmt("%.0f", v); }
std::string PValue(double p) {
  if (p < 1e-300) return "< 1e-300";
  return p < 0.001 ? Fmt("%.1e", p) : Fmt("%.3f", p);
}
std::string Interval(double lo, double hi) { return "95% CI " + Times(lo) + " to " + Times(hi); }

// Wilson 95% intervals of the entity's and the reference's rates, as finding numbers.
void AddWilson(std::vector<std::pair<std::string, double>>& numbers, const std::string& prefix,
               double successes, double trials) {
  const int64_t n = Round(trials), x = std::clamp<int64_t>(Round(successes), 0, n);
  const auto w = stats::WilsonInterval(x, n);
  numbers.emplace_back(prefix + "_ci_low", w.low);
  numbers.emplace_back(prefix + "_ci_high", w.high);
}
std::string WithWilson(double successes, double trials) {
  const int64_t n = Round(trials), x = std::clamp<int64_t>(Round(successes), 0, n);
  const auto w = stats::WilsonInterval(x, n);
  return Pct(trials > 0 ? successes / trials : 0) + " (95% CI " + Pct(w.low) + " to " +
         Pct(w.high) + ")";
}

// Money at stake (docs/insights.md#money-at-stake): the spend a finding's gap stands for in
// conversions, with the gap taken at the end of its 95% interval nearest 1 (none when the
// interval holds 1), so noise is not money. Below the reference (r < 1), the entity wastes
// 1 - r of its own spend; above it, the reference wastes 1 - 1/r of its spend, of which only
// as much as the entity spends could move to it: min(both spends) x (1 - 1/r). Rates of
// attention alone (2-second views, watched to the end) move no conversions by themselves: a
// creative watched to the end more often, as short videos are, has nothing at stake unless
// its clicks or conversions show it (their own findings).
double AtStake(const char* metric, double spend, double reference_spend, double ci_low,
               double ci_high) {
  const std::string_view m = metric;
  if (m != "cvr_click" && m != "ctr" && m != "conversions") return 0;
  if (ci_high < 1) return spend * (1 - std::max(0.0, ci_high));
  if (ci_low > 1 && std::isfinite(ci_low))
    return std::min(spend, reference_spend) * (1 - 1 / ci_low);
  return 0;
}

// One-vs-rest comparison of a rate, stratified: `strata` hold (arm, rest) counts per stratum;
// each arm's expected count is its trials at the stratum's pooled rate (docs/insights.md).
struct Stratified {
  double observed_a = 0, expected_a = 0, observed_b = 0, expected_b = 0;
  double trials_a = 0, trials_b = 0, spend_a = 0, spend_b = 0;
  stats::RateRatioTest test;
  bool enough = false;
};

Stratified CompareStrata(const std::vector<std::pair<Counts, Counts>>& strata, Rate r,
                         const InsightsQuery& q) {
  Stratified s;
  for (const auto& [a, b] : strata) {
    s.spend_a += a.spend;
    s.spend_b += b.spend;
    const double ta = Trials(a, r), tb = Trials(b, r);
    if (ta <= 0 || tb <= 0) continue;  // no comparison inside this stratum
    const double sa = Successes(a, r), sb = Successes(b, r);
    const double pooled = (sa + sb) / (ta + tb);
    s.observed_a += sa;
    s.observed_b += sb;
    s.expected_a += ta * pooled;
    s.expected_b += tb * pooled;
    s.trials_a += ta;
    s.trials_b += tb;
  }
  const double min_trials = MinTrials(q, r);
  s.enough = s.trials_a >= min_trials && s.trials_b >= min_trials &&
             s.expected_a >= q.min_expected && s.expected_b >= q.min_expected &&
             s.observed_a + s.observed_b >= static_cast<double>(q.min_conversions);
  if (s.enough)
    s.test = stats::ConditionalRateTest(Round(s.observed_a), s.expected_a, Round(s.observed_b),
                                        s.expected_b, q.min_ratio);
  return s;
}

class Analysis {
 public:
  Analysis(const Dataset& d, const InsightsQuery& q) : d_(d), q_(q) {}

  Status Load();
  void AdRules();
  void AttributeRules();
  void SegmentRules();
  InsightsResult Finish();

 private:
  size_t AdIndex(const std::string& ad_id);
  struct PeerSet {
    Counts total;
    std::string label;            // "the other ads of ad group X"
    std::vector<size_t> members;  // ad indexes
  };
  // The ad's peers: the other ads of its ad group that pass `eligible`, or when those do not
  // pass `enough`, the other ads of its campaign. nullopt when neither suffices.
  template <typename Eligible, typename Enough>
  std::optional<PeerSet> Peers(size_t i, Eligible eligible, Enough enough) const;
  // Whether `big_enough(reference)` holds against the peers and against the peers less any
  // one of them: a finding must not hinge on a single odd peer.
  template <typename Check>
  bool Robust(const PeerSet& peers, Check big_enough) const;
  std::vector<std::pair<std::string, std::string>> AdEntity(const AdInfo& a) const;
  std::string AdLabel(const AdInfo& a) const;
  void Add(Candidate c) { candidates_.push_back(std::move(c)); }

  const Dataset& d_;
  const InsightsQuery& q_;
  std::string conversions_word_ = "conversions";
  std::vector<AdInfo> ads_;
  std::unordered_map<std::string, size_t> ad_index_;
  std::vector<std::pair<std::string, SegmentCells>> segments_;  // (dimension label, cells)
  std::vector<Candidate> candidates_;
  // Mirror images: comparing A with the rest and the rest with A (two regions; long and short
  // videos once images, which have no plays, drop out) is one test, made once, told from the
  // side that is higher. Keyed by (scope, counts of the two arms).
  struct Mirror {
    size_t candidate;
    bool up;
  };
  std::map<std::tuple<std::string, int64_t, int64_t, int64_t, int64_t>, Mirror> mirrors_;
  // Adds a one-vs-rest comparison unless its mirror image is already there; replaces the
  // mirror when this side is the higher one.
  void AddComparison(Candidate c, const std::string& scope, const Stratified& st);
};

void Analysis::AddComparison(Candidate c, const std::string& scope, const Stratified& st) {
  const bool up = st.test.ratio >= 1;
  auto mirror = mirrors_.find(
      {scope, Round(st.observed_b), Round(st.trials_b), Round(st.observed_a), Round(st.trials_a)});
  if (mirror != mirrors_.end()) {
    if (up && !mirror->second.up) {
      candidates_[mirror->second.candidate] = std::move(c);
      mirror->second.up = true;
    }
    return;
  }
  mirrors_[{scope, Round(st.observed_a), Round(st.trials_a), Round(st.observed_b),
            Round(st.trials_b)}] = Mirror{candidates_.size(), up};
  candidates_.push_back(std::move(c));
}

size_t Analysis::AdIndex(const std::string& ad_id) {
  auto [it, inserted] = ad_index_.try_emplace(ad_id, ads_.size());
  if (inserted) {
    AdInfo a;
    a.id = ad_id;
    const uint32_t code = d_.ad_ids().Find(ad_id);
    if (code != UINT32_MAX) {
      a.ad = d_.CatalogAd(code);
      if (const auto* g = d_.CatalogAdGroup(code)) a.adgroup = g->adgroup_id;
      if (const auto* c = d_.CatalogCampaign(code)) a.campaign = c->campaign_id;
      if (a.ad) a.name = a.ad->name;
    }
    ads_.push_back(std::move(a));
  }
  return it->second;
}

Status Analysis::Load() {
  bool purchases = !q_.report.events.empty();
  for (const auto& e : q_.report.events) purchases &= IsPurchaseEvent(e);
  if (purchases) conversions_word_ = "purchases";

  ReportQuery base = q_.report;
  base.sort.clear();
  base.limit = 0;
  // Ads by age and gender: ad totals, the (campaign, age) strata of creative comparisons, and
  // the age, gender and age x gender segments.
  base.dims = {Dim::kAd, Dim::kAge, Dim::kGender};
  auto r = RunReport(d_, base);
  if (!r.ok()) return r.status();
  SegmentCells age, gender, age_gender;
  for (const auto& row : r->rows) {
    const size_t i = AdIndex(row.dims[0]);
    const std::string& a = row.dims[1];
    const std::string& g = row.dims[2];
    ads_[i].total.Add(row.metrics);
    ads_[i].by_age[a].Add(row.metrics);
    age[a][i].Add(row.metrics);
    gender[g][i].Add(row.metrics);
    age_gender[a.empty() || g.empty() || g == "unknown" ? "" : a + ", " + g][i].Add(row.metrics);
  }
  segments_.emplace_back("age", std::move(age));
  segments_.emplace_back("gender", std::move(gender));
  segments_.emplace_back("age and gender", std::move(age_gender));
  for (Dim dim : {Dim::kRegion, Dim::kCountry, Dim::kPlacement, Dim::kOs}) {
    base.dims = {Dim::kAd, dim};
    auto rs = RunReport(d_, base);
    if (!rs.ok()) return rs.status();
    SegmentCells cells;
    for (const auto& row : rs->rows) cells[row.dims[1]][AdIndex(row.dims[0])].Add(row.metrics);
    segments_.emplace_back(std::string(DimName(dim)), std::move(cells));
  }
  return OkStatus();
}

template <typename Eligible, typename Enough>
std::optional<Analysis::PeerSet> Analysis::Peers(size_t i, Eligible eligible, Enough enough) const {
  const AdInfo& me = ads_[i];
  for (int level = 0; level < 2; ++level) {
    PeerSet p;
    for (size_t j = 0; j < ads_.size(); ++j) {
      if (j == i || !eligible(ads_[j])) continue;
      if (level == 0 ? ads_[j].adgroup == me.adgroup : ads_[j].campaign == me.campaign) {
        p.total.Add(ads_[j].total);
        p.members.push_back(j);
      }
    }
    if (!enough(p.total)) continue;
    p.label = level == 0
                  ? "the other ads of ad group " + (me.adgroup.empty() ? "(none)" : me.adgroup)
                  : "the other ads of campaign " + (me.campaign.empty() ? "(none)" : me.campaign);
    return p;
  }
  return std::nullopt;
}

template <typename Check>
bool Analysis::Robust(const PeerSet& peers, Check big_enough) const {
  if (!big_enough(peers.total)) return false;
  if (peers.members.size() < 2) return true;
  for (size_t m : peers.members) {
    Counts rest = peers.total;
    rest.Subtract(ads_[m].total);
    if (!big_enough(rest)) return false;
  }
  return true;
}

std::vector<std::pair<std::string, std::string>> Analysis::AdEntity(const AdInfo& a) const {
  std::vector<std::pair<std::string, std::string>> e = {{"ad", a.id}};
  if (!a.name.empty()) e.emplace_back("ad_name", a.name);
  if (!a.adgroup.empty()) e.emplace_back("adgroup", a.adgroup);
  if (!a.campaign.empty()) e.emplace_back("campaign", a.campaign);
  return e;
}

std::string Analysis::AdLabel(const AdInfo& a) const {
  return "Ad " + a.id + (a.name.empty() ? "" : " (" + a.name + ")");
}

void Analysis::AdRules() {
  const double R = q_.min_ratio;
  const double min_imps = static_cast<double>(q_.min_impressions);
  const double min_clicks = static_cast<double>(q_.min_clicks);
  const double min_plays = static_cast<double>(q_.min_plays);
  const double min_conv = static_cast<double>(q_.min_conversions);
  auto any = [](const AdInfo&) { return true; };
  auto video = [](const AdInfo& a) { return a.total.plays > 0; };
  for (size_t i = 0; i < ads_.size(); ++i) {
    const AdInfo& a = ads_[i];
    const Counts& c = a.total;

    // Clicks without conversions: CTR well above its peers' and conversion rate well below.
    if (c.imps >= min_imps && c.clicks >= min_clicks) {
      auto peers = Peers(i, any, [&](const Counts& p) {
        return p.imps >= min_imps && p.clicks >= min_clicks && p.conv_click >= min_conv;
      });
      if (peers && c.clicks * RateOf(peers->total, Rate::kCvr) >= q_.min_expected) {
        const Counts& p = peers->total;
        const int64_t n = Round(c.clicks), pn = Round(p.clicks);
        const int64_t x = std::min(Round(c.conv_click), n), px = std::min(Round(p.conv_click), pn);
        auto ctr = stats::TwoProportionZTest(Round(c.clicks), Round(c.imps), pn, Round(p.imps));
        auto cvr = stats::TwoProportionZTest(x, n, px, pn);
        Candidate k;
        k.big_enough = Robust(*peers, [&](const Counts& ref) {
          return RateOf(c, Rate::kCtr) >= R * RateOf(ref, Rate::kCtr) &&
                 RateOf(c, Rate::kCvr) * R <= RateOf(ref, Rate::kCvr);
        });
        k.threshold = q_.fdr;
        Finding& f = k.f;
        f.kind = "clicks_without_conversions";
        f.title = AdLabel(a) + " drives clicks but few " + conversions_word_ +
                  ": look at its landing page and offer";
        const double expected = c.clicks * cvr.p2;
        f.detail = "CTR " + Pct(ctr.p1) + " against " + Pct(ctr.p2) + " for " + peers->label +
                   " (" + Times(ctr.ratio) + "), but " + WithWilson(x, n) +
                   " of its clicks convert against " + WithWilson(px, pn) + " (" +
                   Times(cvr.ratio) + ", " + Interval(cvr.ratio_ci.low, cvr.ratio_ci.high) +
                   "). It spent " + Money(c.spend) + " for " + Count(x) + " " + conversions_word_ +
                   " after a click; at its peers' rate its " + Count(c.clicks) +
                   " clicks would have brought " + Count(expected) + ".";
        f.entity = AdEntity(a);
        f.metric = "cvr_click";
        f.effect = cvr.ratio;
        f.ci_low = cvr.ratio_ci.low;
        f.ci_high = cvr.ratio_ci.high;
        // Both must hold (an intersection-union test), each beyond the margin.
        f.p_value =
            std::max(stats::RatioMarginPValue(Round(c.clicks), Round(c.imps), pn, Round(p.imps), R),
                     stats::RatioMarginPValue(x, n, px, pn, R));
        f.posterior = stats::ProbBetaGreater(px + 1, pn - px + 1, x + 1, n - x + 1);
        f.money_at_stake = AtStake(f.metric.c_str(), c.spend, p.spend, f.ci_low, f.ci_high);
        f.numbers = {{"spend", c.spend},
                     {"impressions", c.imps},
                     {"clicks", c.clicks},
                     {"conversions_click", c.conv_click},
                     {"ctr", ctr.p1},
                     {"peer_ctr", ctr.p2},
                     {"ctr_ratio", ctr.ratio},
                     {"ctr_p_equal", ctr.p_value},
                     {"cvr_click", cvr.p1},
                     {"peer_cvr_click", cvr.p2},
                     {"cvr_p_equal", cvr.p_value},
                     {"expected_conversions", expected}};
        AddWilson(f.numbers, "cvr_click", x, n);
        AddWilson(f.numbers, "peer_cvr_click", px, pn);
        Add(std::move(k));
      }
    }

    // Weak hook: few impressions become 2-second views, against its video peers.
    if (c.plays > 0 && c.imps >= min_imps) {
      auto peers =
          Peers(i, video, [&](const Counts& p) { return p.imps >= min_imps && p.v2s >= min_conv; });
      if (peers && c.imps * RateOf(peers->total, Rate::kHook) >= q_.min_expected) {
        const Counts& p = peers->total;
        auto hook =
            stats::TwoProportionZTest(Round(c.v2s), Round(c.imps), Round(p.v2s), Round(p.imps));
        Candidate k;
        k.big_enough = Robust(*peers, [&](const Counts& ref) {
          return RateOf(c, Rate::kHook) * R <= RateOf(ref, Rate::kHook);
        });
        k.threshold = q_.fdr;
        Finding& f = k.f;
        f.kind = "weak_hook";
        f.title = AdLabel(a) + " loses viewers in its first seconds: rework the opening";
        f.detail = WithWilson(c.v2s, c.imps) +
                   " of its impressions become 2-second views against " +
                   WithWilson(p.v2s, p.imps) + " for " + peers->label + " (" + Times(hook.ratio) +
                   ", " + Interval(hook.ratio_ci.low, hook.ratio_ci.high) + ").";
        f.entity = AdEntity(a);
        f.metric = "hook_rate";
        f.effect = hook.ratio;
        f.ci_low = hook.ratio_ci.low;
        f.ci_high = hook.ratio_ci.high;
        f.p_value =
            stats::RatioMarginPValue(Round(c.v2s), Round(c.imps), Round(p.v2s), Round(p.imps), R);
        f.posterior =
            stats::ProbBetaGreater(p.v2s + 1, p.imps - p.v2s + 1, c.v2s + 1, c.imps - c.v2s + 1);
        f.money_at_stake = AtStake(f.metric.c_str(), c.spend, p.spend, f.ci_low, f.ci_high);
        f.numbers = {{"spend", c.spend},          {"impressions", c.imps},
                     {"video_views_2s", c.v2s},   {"hook_rate", hook.p1},
                     {"peer_hook_rate", hook.p2}, {"p_equal", hook.p_value}};
        AddWilson(f.numbers, "hook_rate", c.v2s, c.imps);
        AddWilson(f.numbers, "peer_hook_rate", p.v2s, p.imps);
        Add(std::move(k));
      }
    }

    // Watched but not clicked: holds attention at least as well as its peers, far fewer clicks.
    if (c.plays >= min_plays && c.imps >= min_imps) {
      auto peers = Peers(i, video, [&](const Counts& p) {
        return p.plays >= min_plays && p.imps >= min_imps && p.clicks >= min_conv;
      });
      if (peers && c.imps * RateOf(peers->total, Rate::kCtr) >= q_.min_expected) {
        const Counts& p = peers->total;
        const double watch = RateOf(c, Rate::kWatch), peer_watch = RateOf(p, Rate::kWatch);
        const double watch_ratio = peer_watch > 0 ? watch / peer_watch : 1;
        auto ctr = stats::TwoProportionZTest(Round(c.clicks), Round(c.imps), Round(p.clicks),
                                             Round(p.imps));
        Candidate k;
        k.big_enough = Robust(*peers, [&](const Counts& ref) {
          return RateOf(c, Rate::kCtr) * R <= RateOf(ref, Rate::kCtr) &&
                 RateOf(c, Rate::kWatch) >= RateOf(ref, Rate::kWatch);
        });
        k.threshold = q_.fdr;
        Finding& f = k.f;
        f.kind = "watched_not_clicked";
        f.title = AdLabel(a) + " holds attention but few click: strengthen its call to action";
        f.detail = Pct(watch) + " of its plays reach half the video (" + Pct(peer_watch) + " for " +
                   peers->label + "), yet its CTR is " + WithWilson(c.clicks, c.imps) +
                   " against " + WithWilson(p.clicks, p.imps) + " (" + Times(ctr.ratio) + ", " +
                   Interval(ctr.ratio_ci.low, ctr.ratio_ci.high) + ").";
        f.entity = AdEntity(a);
        f.metric = "ctr";
        f.effect = ctr.ratio;
        f.ci_low = ctr.ratio_ci.low;
        f.ci_high = ctr.ratio_ci.high;
        f.p_value = stats::RatioMarginPValue(Round(c.clicks), Round(c.imps), Round(p.clicks),
                                             Round(p.imps), R);
        f.posterior = stats::ProbBetaGreater(p.clicks + 1, p.imps - p.clicks + 1, c.clicks + 1,
                                             c.imps - c.clicks + 1);
        f.money_at_stake = AtStake(f.metric.c_str(), c.spend, p.spend, f.ci_low, f.ci_high);
        f.numbers = {{"spend", c.spend},
                     {"impressions", c.imps},
                     {"clicks", c.clicks},
                     {"ctr", ctr.p1},
                     {"peer_ctr", ctr.p2},
                     {"watch_half_rate", watch},
                     {"peer_watch_half_rate", peer_watch},
                     {"watch_ratio", watch_ratio},
                     {"p_equal", ctr.p_value}};
        AddWilson(f.numbers, "ctr", c.clicks, c.imps);
        AddWilson(f.numbers, "peer_ctr", p.clicks, p.imps);
        Add(std::move(k));
      }
    }

    // Spend without conversions: P(0 or fewer conversions | spend at the peers' cost per
    // conversion). Every ad with spend and a reference is tested, so the family does not
    // depend on which ads happened to get none.
    if (c.spend > 0) {
      auto enough = [&](const Counts& p) { return p.conv >= min_conv && p.spend > 0; };
      auto peers = Peers(i, any, enough);
      std::string peer_label;
      Counts ref;
      if (peers) {
        ref = peers->total;
        peer_label = peers->label;
      } else {
        for (size_t j = 0; j < ads_.size(); ++j)
          if (j != i) ref.Add(ads_[j].total);
        peer_label = "the other ads of the account";
      }
      if (enough(ref)) {
        const double cpa = ref.spend / ref.conv;
        const double lambda = c.spend / cpa;
        const int64_t observed = Round(c.conv);
        Candidate k;
        k.big_enough = observed == 0;
        k.threshold = q_.spend_p;
        Finding& f = k.f;
        f.kind = "spend_without_conversions";
        f.title = AdLabel(a) + " spent " + Money(c.spend) +
                  " without a single conversion: pause it or find out why";
        f.detail = "At the " + Money(cpa) + " per conversion of " + peer_label +
                   ", its spend would bring " + Fmt("%.1f", lambda) + " " + conversions_word_ +
                   "; getting none by chance has probability " + PValue(std::exp(-lambda)) +
                   " (Poisson).";
        f.entity = AdEntity(a);
        f.metric = "conversions";
        f.effect = lambda > 0 ? c.conv / lambda : 1;
        // Exact Poisson interval for the ratio with 0 observed: [0, -ln(0.025) / lambda].
        f.ci_low = 0;
        f.ci_high = observed == 0 ? -std::log(0.025) / lambda : f.effect;
        // Beyond the margin: as if the ad converted at 1 / min_ratio of the reference rate.
        f.p_value = stats::PoissonCdf(observed, lambda / R);
        f.money_at_stake = AtStake(f.metric.c_str(), c.spend, ref.spend, f.ci_low, f.ci_high);
        f.numbers = {{"spend", c.spend},
                     {"conversions", c.conv},
                     {"expected_conversions", lambda},
                     {"p_equal", stats::PoissonCdf(observed, lambda)},
                     {"reference_cpa", cpa},
                     {"impressions", c.imps},
                     {"clicks", c.clicks}};
        Add(std::move(k));
      }
    }
  }
}

void Analysis::AttributeRules() {
  // Arms: the ads sharing a creative attribute value. Two values that pick the same ads (or
  // the same split, mirrored) are one comparison.
  struct Arm {
    std::string dim, value;
    std::vector<std::string> same_as;
    std::vector<uint8_t> member;
  };
  std::vector<Arm> arms;
  std::map<std::vector<uint8_t>, size_t> seen;
  auto length_of = [](const Ad& ad) { return std::string(CreativeLength(&ad)); };
  for (const char* dim : {"length", "format", "cta", "tag"}) {
    std::map<std::string, std::vector<uint8_t>> values;
    for (size_t i = 0; i < ads_.size(); ++i) {
      const Ad* ad = ads_[i].ad;
      if (!ad) continue;
      std::vector<std::string> v;
      if (std::string_view(dim) == "length")
        v = {length_of(*ad)};
      else if (std::string_view(dim) == "format")
        v = {ad->creative.format};
      else if (std::string_view(dim) == "cta")
        v = {ad->creative.call_to_action};
      else
        v = ad->creative.tags;
      for (const auto& s : v) {
        if (s.empty()) continue;
        auto& m = values[s];
        m.resize(ads_.size(), 0);
        m[i] = 1;
      }
    }
    for (auto& [value, member] : values) {
      size_t n = 0, catalogued = 0;
      for (size_t i = 0; i < ads_.size(); ++i) {
        n += member[i];
        catalogued += ads_[i].ad != nullptr;
      }
      if (n == 0 || n == catalogued) continue;  // no rest to compare with
      std::vector<uint8_t> mirror(member.size());
      for (size_t i = 0; i < member.size(); ++i) mirror[i] = ads_[i].ad && !member[i];
      auto it = seen.find(member);
      if (it != seen.end()) {
        arms[it->second].same_as.push_back(std::string(dim) + " " + value);
        continue;
      }
      if (seen.count(mirror)) continue;
      seen[member] = arms.size();
      arms.push_back(Arm{dim, value, {}, member});
    }
  }

  auto describe = [](const Arm& arm) -> std::string {
    if (arm.dim == "length") {
      if (arm.value == "short") return "Short videos (up to 15 s)";
      if (arm.value == "long") return "Long videos (over 15 s)";
      return "Image ads";
    }
    if (arm.dim == "format") return "Ads in " + arm.value + " format";
    if (arm.dim == "cta") return "Ads with the call to action " + arm.value;
    return "Creatives tagged " + arm.value;
  };
  std::vector<std::string> ages;
  for (const auto& [age, unused] : segments_[0].second)
    if (!age.empty()) ages.push_back(age);

  const double R = q_.min_ratio;
  for (const Arm& arm : arms) {
    const bool by_length = arm.dim != "length" && arm.dim != "format";
    for (Rate rate : {Rate::kCvr, Rate::kCtr, Rate::kCompletion}) {
      // Overall, then (conversion rate only) within each age bucket.
      std::vector<std::string> scopes = {""};
      if (rate == Rate::kCvr) scopes.insert(scopes.end(), ages.begin(), ages.end());
      for (const std::string& age : scopes) {
        // Strata: campaign x age (overall) or campaign (within an age), and video length
        // unless length is what is compared: like is compared with like.
        std::map<std::tuple<std::string, std::string, std::string>, std::pair<Counts, Counts>>
            strata;
        for (size_t i = 0; i < ads_.size(); ++i) {
          if (!ads_[i].ad) continue;
          const std::string length = by_length ? length_of(*ads_[i].ad) : "";
          for (const auto& [a, counts] : ads_[i].by_age) {
            if (!age.empty() && a != age) continue;
            auto& s = strata[{ads_[i].campaign, a, length}];
            (arm.member[i] ? s.first : s.second).Add(counts);
          }
        }
        std::vector<std::pair<Counts, Counts>> list;
        for (auto& [key, s] : strata) list.push_back(s);
        Stratified st = CompareStrata(list, rate, q_);
        if (!st.enough) continue;
        const auto& t = st.test;
        Candidate k;
        k.big_enough = t.ratio >= R || t.ratio <= 1 / R;
        k.threshold = q_.fdr;
        Finding& f = k.f;
        f.kind = "creative_attribute";
        const bool up = t.ratio >= 1;
        const std::string who = describe(arm);
        const std::string among = age.empty() ? "" : " among " + age;
        std::string verb, advice;
        switch (rate) {
          case Rate::kCvr:
            verb = "convert";
            advice = up ? ": give them more of the budget" : ": shift budget to the others";
            break;
          case Rate::kCtr:
            verb = "get clicked";
            advice = up ? ": use more of them" : ": rethink them";
            break;
          default:
            verb = "are watched to the end";
            advice = up ? ": learn from them" : ": tighten them";
            break;
        }
        f.title =
            who + " " + verb + " " + Times(t.ratio) + " as often as the others" + among + advice;
        std::string within = "campaign";
        if (age.empty()) within += by_length ? ", age" : " and age";
        if (by_length) within += " and video length";
        f.detail = who + among + ": " + Count(st.observed_a) + " of " + Count(st.trials_a) + ", " +
                   WithWilson(st.observed_a, st.trials_a) +
                   "; the others: " + Count(st.observed_b) + " of " + Count(st.trials_b) + ", " +
                   WithWilson(st.observed_b, st.trials_b) + ". Compared within the same " + within +
                   ", the ratio is " + Times(t.ratio) + " (" +
                   Interval(t.ratio_ci.low, t.ratio_ci.high) + ").";
        if (!arm.same_as.empty()) {
          f.detail += " The same ads carry";
          for (const auto& s : arm.same_as) f.detail += " " + s;
          f.detail += ", so this is also their result.";
        }
        f.entity = {{arm.dim, arm.value}};
        for (const auto& s : arm.same_as) f.entity.emplace_back("same_ads_as", s);
        if (!age.empty()) f.entity.emplace_back("age", age);
        f.metric = MetricName(rate);
        f.effect = t.ratio;
        f.ci_low = t.ratio_ci.low;
        f.ci_high = t.ratio_ci.high;
        f.p_value = t.p_value;
        f.posterior = up ? t.posterior : 1 - t.posterior;
        f.money_at_stake = AtStake(f.metric.c_str(), st.spend_a, st.spend_b, f.ci_low, f.ci_high);
        f.numbers = {{"observed", st.observed_a},
                     {"expected", st.expected_a},
                     {"trials", st.trials_a},
                     {"rest_observed", st.observed_b},
                     {"rest_expected", st.expected_b},
                     {"rest_trials", st.trials_b},
                     {"spend", st.spend_a}};
        AddWilson(f.numbers, "rate", st.observed_a, st.trials_a);
        AddWilson(f.numbers, "rest_rate", st.observed_b, st.trials_b);
        AddComparison(std::move(k), std::string(MetricName(rate)) + " " + age, st);
      }
    }
  }
}

void Analysis::SegmentRules() {
  const double R = q_.min_ratio;
  for (const auto& [label, cells] : segments_) {
    std::map<size_t, Counts> ad_totals;
    for (const auto& [value, by_ad] : cells)
      for (const auto& [ad, counts] : by_ad) ad_totals[ad].Add(counts);
    for (const auto& [value, by_ad] : cells) {
      if (value.empty() || value == "unknown") continue;
      // Strata: ads. The segment against everyone else who saw the same ad.
      std::vector<std::pair<Counts, Counts>> strata;
      for (const auto& [ad, counts] : by_ad) {
        Counts rest = ad_totals[ad];
        rest.Subtract(counts);
        strata.emplace_back(counts, rest);
      }
      Stratified st = CompareStrata(strata, Rate::kCvr, q_);
      if (!st.enough) continue;
      const auto& t = st.test;
      Candidate k;
      k.big_enough = t.ratio >= R || t.ratio <= 1 / R;
      k.threshold = q_.fdr;
      Finding& f = k.f;
      f.kind = "segment";
      const bool up = t.ratio >= 1;
      const std::string who = label == "age"              ? "People aged " + value
                              : label == "gender"         ? "The " + value + " audience"
                              : label == "age and gender" ? "The " + value + " audience"
                              : label == "placement"      ? "Placement " + value
                              : label == "os"             ? "The " + value + " audience"
                                                          : value;
      f.title = who + " converts " + Times(t.ratio) + " as often after a click as the rest" +
                (up ? ": raise its bids or budget"
                    : ": lower its bids or exclude it, or check its experience");
      f.detail = who + ": " + Count(st.observed_a) + " " + conversions_word_ + " from " +
                 Count(st.trials_a) + " clicks, " + WithWilson(st.observed_a, st.trials_a) +
                 "; the rest: " + Count(st.observed_b) + " from " + Count(st.trials_b) + ", " +
                 WithWilson(st.observed_b, st.trials_b) +
                 ". Compared ad by ad (the same ads), the ratio is " + Times(t.ratio) + " (" +
                 Interval(t.ratio_ci.low, t.ratio_ci.high) + ").";
      f.entity = {{label == "age and gender" ? "age_gender" : label, value}};
      f.metric = "cvr_click";
      f.effect = t.ratio;
      f.ci_low = t.ratio_ci.low;
      f.ci_high = t.ratio_ci.high;
      f.p_value = t.p_value;
      f.posterior = up ? t.posterior : 1 - t.posterior;
      f.money_at_stake = AtStake(f.metric.c_str(), st.spend_a, st.spend_b, f.ci_low, f.ci_high);
      f.numbers = {{"conversions_click", st.observed_a},
                   {"expected", st.expected_a},
                   {"clicks", st.trials_a},
                   {"rest_conversions_click", st.observed_b},
                   {"rest_expected", st.expected_b},
                   {"rest_clicks", st.trials_b},
                   {"spend", st.spend_a}};
      AddWilson(f.numbers, "cvr_click", st.observed_a, st.trials_a);
      AddWilson(f.numbers, "rest_cvr_click", st.observed_b, st.trials_b);
      AddComparison(std::move(k), "segment " + label, st);
    }
  }
}

InsightsResult Analysis::Finish() {
  InsightsResult out;
  std::vector<double> p;
  p.reserve(candidates_.size());
  for (const auto& c : candidates_) p.push_back(c.f.p_value);
  const auto adjusted = stats::BenjaminiHochbergAdjust(p);
  out.comparisons = candidates_.size();
  for (size_t i = 0; i < candidates_.size(); ++i) {
    out.significant += adjusted[i] <= q_.fdr;
    if (!candidates_[i].big_enough || adjusted[i] > candidates_[i].threshold) continue;
    Finding f = std::move(candidates_[i].f);
    f.p_adjusted = adjusted[i];
    out.findings.push_back(std::move(f));
  }
  std::stable_sort(out.findings.begin(), out.findings.end(),
                   [](const Finding& a, const Finding& b) {
                     if (a.money_at_stake != b.money_at_stake)
                       return a.money_at_stake > b.money_at_stake;
                     return a.p_value < b.p_value;
                   });
  out.total_findings = out.findings.size();
  if (q_.limit && out.findings.size() > q_.limit) out.findings.resize(q_.limit);
  return out;
}

std::optional<double> ParseNumber(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || !std::isfinite(v)) return std::nullopt;
  return v;
}

void WriteNumber(JsonWriter& w, double v) {
  if (std::isfinite(v))
    w.Double(v);
  else
    w.Null();
}

}  // namespace

StatusOr<InsightsResult> RunInsights(const Dataset& d, const InsightsQuery& q) {
  if (!(q.fdr > 0 && q.fdr < 1)) return InvalidArgument("fdr", ": must be between 0 and 1");
  if (!(q.min_ratio > 1)) return InvalidArgument("min_ratio", ": must be more than 1");
  Analysis a(d, q);
  TP_RETURN_IF_ERROR(a.Load());
  a.AdRules();
  a.AttributeRules();
  a.SegmentRules();
  return a.Finish();
}

StatusOr<InsightsRequest> ParseInsightsParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms) {
  InsightsRequest req;
  InsightsQuery& q = req.query;
  std::vector<std::pair<std::string, std::string>> report;
  for (const auto& kv : params) {
    const std::string& k = kv.first;
    const std::string& v = kv.second;
    auto number = [&](double min, double max, const char* what) -> StatusOr<double> {
      auto n = ParseNumber(v);
      if (!n || *n < min || *n > max) return InvalidArgument(k, std::string(": must be ") + what);
      return *n;
    };
    auto whole = [&](int64_t& dst) -> Status {
      auto n = number(0, 1e12, "a whole number >= 0");
      if (!n.ok()) return n.status();
      if (*n != std::floor(*n)) return InvalidArgument(k, ": must be a whole number >= 0");
      dst = static_cast<int64_t>(*n);
      return OkStatus();
    };
    if (k == "fdr") {
      auto n = number(1e-6, 0.5, "between 0.000001 and 0.5");
      if (!n.ok()) return n.status();
      q.fdr = *n;
    } else if (k == "min_ratio") {
      auto n = number(1.01, 100, "between 1.01 and 100");
      if (!n.ok()) return n.status();
      q.min_ratio = *n;
    } else if (k == "min_expected") {
      auto n = number(0, 1e9, "a number >= 0");
      if (!n.ok()) return n.status();
      q.min_expected = *n;
    } else if (k == "min_impressions") {
      TP_RETURN_IF_ERROR(whole(q.min_impressions));
    } else if (k == "min_clicks") {
      TP_RETURN_IF_ERROR(whole(q.min_clicks));
    } else if (k == "min_plays") {
      TP_RETURN_IF_ERROR(whole(q.min_plays));
    } else if (k == "min_conversions") {
      TP_RETURN_IF_ERROR(whole(q.min_conversions));
    } else if (k == "limit") {
      int64_t n = 0;
      TP_RETURN_IF_ERROR(whole(n));
      q.limit = static_cast<size_t>(n);
    } else if (k == "format") {
      if (v != "json" && v != "text") return InvalidArgument("format", ": must be json or text");
      req.format = v;
    } else if (k == "dimensions" || k == "metrics" || k == "sort") {
      return InvalidArgument(k, ": insights choose their own dimensions and metrics");
    } else {
      report.emplace_back(k, v);  // range, model, windows, events, pixel, filters
    }
  }
  auto parsed = ParseReportParams(report, now_ms);
  if (!parsed.ok()) return parsed.status();
  q.report = parsed->query;
  return req;
}

std::string InsightsToJson(const InsightsQuery& q, const InsightsResult& r) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("from")
      .String(FormatIso8601Ms(q.report.from_ms))
      .Key("to")
      .String(FormatIso8601Ms(q.report.to_ms));
  w.Key("model").String(q.report.model);
  w.Key("events").BeginArray();
  for (const auto& e : q.report.events) w.String(e);
  w.EndArray();
  w.Key("conversion_events").String(q.report.events.empty() ? "campaign" : "explicit");
  w.Key("fdr").Double(q.fdr).Key("min_ratio").Double(q.min_ratio);
  w.Key("minimums").BeginObject();
  w.Key("impressions").Int(q.min_impressions).Key("clicks").Int(q.min_clicks);
  w.Key("plays").Int(q.min_plays).Key("conversions").Int(q.min_conversions);
  w.Key("expected").Double(q.min_expected).EndObject();
  w.Key("comparisons").Int(static_cast<int64_t>(r.comparisons));
  w.Key("significant").Int(static_cast<int64_t>(r.significant));
  w.Key("total_findings").Int(static_cast<int64_t>(r.total_findings));
  w.Key("findings").BeginArray();
  int rank = 0;
  for (const auto& f : r.findings) {
    w.BeginObject();
    w.Key("rank").Int(++rank);
    w.Key("kind").String(f.kind).Key("title").String(f.title).Key("detail").String(f.detail);
    // The title's advice, after its last ": ", for a page that shows it apart.
    if (size_t colon = f.title.rfind(": "); colon != std::string::npos)
      w.Key("action").String(f.title.substr(colon + 2));
    // The sample behind it: the entity's and the reference's trials of the compared rate.
    w.Key("sample").BeginObject();
    for (const auto& [k, v] : f.numbers)
      if (k == "clicks" || k == "impressions" || k == "trials" || k == "rest_trials" ||
          k == "rest_clicks" || k == "spend")
        w.Key(k).Double(v);
    w.EndObject();
    w.Key("entity").BeginObject();
    for (const auto& [k, v] : f.entity) w.Key(k).String(v);
    w.EndObject();
    w.Key("metric").String(f.metric);
    w.Key("effect").BeginObject().Key("measure").String("ratio").Key("value");
    WriteNumber(w, f.effect);
    w.Key("ci_low");
    WriteNumber(w, f.ci_low);
    w.Key("ci_high");
    WriteNumber(w, f.ci_high);
    w.EndObject();
    w.Key("p_value").Double(f.p_value).Key("p_adjusted").Double(f.p_adjusted);
    w.Key("posterior");
    if (f.posterior)
      w.Double(*f.posterior);
    else
      w.Null();
    w.Key("money_at_stake").Double(f.money_at_stake);
    w.Key("numbers").BeginObject();
    for (const auto& [k, v] : f.numbers) {
      w.Key(k);
      WriteNumber(w, v);
    }
    w.EndObject();
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

std::string InsightsToText(const InsightsQuery& q, const InsightsResult& r) {
  std::string events;
  for (const auto& e : q.report.events) events += (events.empty() ? "" : ", ") + e;
  if (events.empty()) events = "each campaign's own";
  std::string out = "Insights " + FormatIso8601Ms(q.report.from_ms).substr(0, 10) + " .. " +
                    FormatIso8601Ms(q.report.to_ms - 1).substr(0, 10) + ", model " +
                    q.report.model + ", conversions: " + events + "\n";
  out += std::to_string(r.comparisons) + " comparisons at a false discovery rate of " +
         Fmt("%g", 100 * q.fdr) + "%, each testing for a gap beyond " + Fmt("%gx", q.min_ratio) +
         " either way.\n";
  if (r.findings.empty()) {
    out += "\nNo findings: nothing differs by more than chance and the minimum effect allow.\n";
    return out;
  }
  out +=
      std::to_string(r.total_findings) + (r.total_findings == 1 ? " finding" : " findings") +
      ", by money at stake" +
      (r.findings.size() < r.total_findings ? " (showing " + std::to_string(r.findings.size()) + ")"
                                            : "") +
      ":\n";
  int rank = 0;
  for (const auto& f : r.findings) {
    out += "\n" + std::to_string(++rank) + ". " + f.title + "\n";
    out += "   " + f.detail + "\n";
    auto eq = [](const std::string& p) { return p[0] == '<' ? " " + p : " = " + p; };
    out += "   effect " + Times(f.effect) + " (" + Interval(f.ci_low, f.ci_high) + "), p" +
           eq(PValue(f.p_value)) + " (adjusted" + eq(PValue(f.p_adjusted)) + ")";
    if (f.posterior) out += ", posterior " + Fmt("%.3f", *f.posterior);
    out += ", at stake " + Money(f.money_at_stake) + "\n";
  }
  return out;
}

}  // namespace touchpoint::query
