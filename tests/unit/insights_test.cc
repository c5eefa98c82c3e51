// Insights rules on hand-built accounts. Each test builds people one by one (an impression,
// maybe a click, maybe a purchase), so every count, rate, expected count and ratio asserted
// below was worked out by hand from the numbers of people; p-values are checked against the
// statistics functions (tested on their own against published values in stats_test.cc).
#include "query/insights.h"

#include <gtest/gtest.h>

#include <cmath>

#include "core/time.h"
#include "query/stats.h"

namespace touchpoint {
namespace {

using query::Finding;
using query::InsightsQuery;
using query::InsightsResult;

constexpr int64_t kDay0 = 1699920000000;  // 2023-11-14T00:00:00Z
constexpr int64_t kT0 = kDay0 + 10 * kHourMs;

struct Person {
  std::string ad;
  bool click = false;
  bool convert = false;
  std::string age = "25-34";
  std::string region = "Ohio";
  int64_t watch_ms = -1;  // >= 0: a video play with this watch time (15 s video)
};

Ad MakeAd(std::string id, std::vector<std::string> tags, int64_t video_ms = 15000) {
  return Ad{
      id, "Ad " + id, "https://x.example/" + id, {"video", video_ms, "shop_now", std::move(tags)}};
}

class InsightsTest : public ::testing::Test {
 protected:
  // One campaign; ad group g1 holds a1..a3, g2 holds b1, b2 (more peers for campaign-level
  // fallbacks).
  void SetUp() override {
    Catalog c;
    AdGroup g1{"g1",
               "G1",
               7,
               0,
               CountMode::kEvery,
               {MakeAd("a1", {"humor"}), MakeAd("a2", {"straight-pitch"}),
                MakeAd("a3", {"straight-pitch"})}};
    AdGroup g2{"g2",
               "G2",
               7,
               0,
               CountMode::kEvery,
               {MakeAd("b1", {"humor"}), MakeAd("b2", {"straight-pitch"})}};
    c.campaigns.push_back(Campaign{"c1", "C1", {g1, g2}});
    data_.SetCatalog(std::make_shared<Catalog>(c));
  }

  // n people like `p`.
  void Add(int n, const Person& p) {
    for (int i = 0; i < n; ++i) {
      const std::string user = "u" + std::to_string(++people_);
      const int64_t t = kT0 + (people_ % 600) * kMinuteMs;
      AdEvent imp;
      imp.type = AdEventType::kImpression;
      imp.ad_id = p.ad;
      imp.event_time_ms = t;
      imp.user_key = user;
      imp.age = p.age;
      imp.gender = "female";
      imp.region = p.region;
      imp.country = "US";
      imp.placement = "tiktok";
      imp.os = "ios";
      data_.Append(++seq_, imp);
      if (p.watch_ms >= 0) {
        AdEvent play = imp;
        play.type = AdEventType::kVideoPlay;
        play.event_time_ms = t + 200;
        play.watch_ms = p.watch_ms;
        play.video_ms = 15000;
        data_.Append(++seq_, play);
      }
      if (!p.click) continue;
      AdEvent click = imp;
      click.type = AdEventType::kClick;
      click.event_time_ms = t + 5000;
      click.click_id = "K" + user;
      data_.Append(++seq_, click);
      if (!p.convert) continue;
      SiteEvent buy;
      buy.pixel_id = "P";
      buy.event = "CompletePayment";
      buy.event_time_ms = t + kHourMs;
      buy.user.ttclid = "K" + user;
      buy.value = 50;
      data_.Append(++seq_, buy);
    }
  }
  // `imps` people see the ad, `clicks` of them click and `convs` of those buy.
  void AddAd(const std::string& ad, int imps, int clicks, int convs, std::string age = "25-34",
             std::string region = "Ohio") {
    Add(convs, Person{ad, true, true, age, region});
    Add(clicks - convs, Person{ad, true, false, age, region});
    Add(imps - clicks, Person{ad, false, false, age, region});
  }
  void Spend(std::vector<std::pair<std::string, double>> by_ad) {
    std::vector<SpendRow> rows;
    for (auto& [ad, s] : by_ad) rows.push_back(SpendRow{kDay0, ad, s, "USD"});
    data_.SetSpend(rows);
  }
  InsightsResult Run(InsightsQuery q = {}) {
    q.report.from_ms = kDay0 - kDayMs;
    q.report.to_ms = kDay0 + 30 * kDayMs;
    data_.Cluster();
    auto r = query::RunInsights(data_, q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : InsightsResult{};
  }
  static const Finding* Find(const InsightsResult& r, std::string_view kind,
                             std::pair<std::string, std::string> entity = {}) {
    for (const auto& f : r.findings) {
      if (f.kind != kind) continue;
      if (entity.first.empty()) return &f;
      for (const auto& e : f.entity)
        if (e == entity) return &f;
    }
    return nullptr;
  }
  static double Number(const Finding& f, std::string_view name) {
    for (const auto& [k, v] : f.numbers)
      if (k == name) return v;
    ADD_FAILURE() << "no number " << name;
    return 0;
  }

  query::Dataset data_;
  uint64_t seq_ = 0;
  int people_ = 0;
};

TEST_F(InsightsTest, AdWithClicksButNoPurchasesAgainstItsAdGroup) {
  // a1: 2000 impressions, 100 clicks (5%), 2 purchases (2% of clicks).
  // a2, a3: 2000 impressions, 40 clicks (2%), 8 purchases (20%) each; pooled 80 / 4000, 16 / 80.
  AddAd("a1", 2000, 100, 2);
  AddAd("a2", 2000, 40, 8);
  AddAd("a3", 2000, 40, 8);
  Spend({{"a1", 120}, {"a2", 100}, {"a3", 100}});
  auto r = Run();
  const Finding* f = Find(r, "clicks_without_conversions", {"ad", "a1"});
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->metric, "cvr_click");
  EXPECT_DOUBLE_EQ(Number(*f, "ctr"), 0.05);
  EXPECT_DOUBLE_EQ(Number(*f, "peer_ctr"), 0.02);
  EXPECT_DOUBLE_EQ(Number(*f, "cvr_click"), 0.02);
  EXPECT_DOUBLE_EQ(Number(*f, "peer_cvr_click"), 0.2);
  EXPECT_DOUBLE_EQ(Number(*f, "expected_conversions"), 20);  // 100 clicks at 20%
  EXPECT_NEAR(f->effect, 0.1, 1e-12);                        // 2% / 20%
  EXPECT_LT(f->ci_high, 0.8);
  // The p-value: both gaps beyond the 1.25x margin (the larger of the two tests' p-values).
  EXPECT_DOUBLE_EQ(f->p_value, std::max(query::stats::RatioMarginPValue(100, 2000, 80, 4000, 1.25),
                                        query::stats::RatioMarginPValue(2, 100, 16, 80, 1.25)));
  EXPECT_GE(f->p_adjusted, f->p_value);
  EXPECT_LE(f->p_adjusted, 0.05);
  EXPECT_GT(*f->posterior, 0.999);  // P(a1's conversion rate is below its peers')
  // Money at stake (docs/insights.md#money-at-stake): the share of a1's spend its CVR gap stands
  // for, at the interval's end nearest 1. Katz: 0.1 x exp(1.96 x sqrt(1/2 - 1/100 + 1/16 - 1/80))
  // = 0.42215; 120 x (1 - 0.42215) is at stake.
  const double katz_high =
      0.1 * std::exp(1.959963984540054 * std::sqrt(0.5 - 0.01 + 0.0625 - 0.0125));
  EXPECT_NEAR(f->ci_high, katz_high, 1e-9);
  EXPECT_NEAR(f->money_at_stake, 120 * (1 - katz_high), 1e-9);
  EXPECT_NE(f->title.find("a1"), std::string::npos);
  EXPECT_NE(f->title.find("landing page"), std::string::npos);
  // Its peers are not flagged, and none of the ads converts too little for its spend.
  EXPECT_EQ(Find(r, "clicks_without_conversions", {"ad", "a2"}), nullptr);
  EXPECT_EQ(Find(r, "spend_without_conversions"), nullptr);
}

// The same world under the data-driven models: every person here touches one ad, so every
// journey (converting or not) has one channel. Markov: start -> ad i -> conversion or null, and
// removing ad i loses exactly the conversions through it (removal effect = ad i's share of the
// conversion probability), so normalised each ad gets its own conversions; Shapley gives a
// one-channel journey's conversion to its channel. The finding is the same as under last touch.
TEST_F(InsightsTest, DataDrivenModelsApplyToInsights) {
  AddAd("a1", 2000, 100, 2);
  AddAd("a2", 2000, 40, 8);
  AddAd("a3", 2000, 40, 8);
  Spend({{"a1", 120}, {"a2", 100}, {"a3", 100}});
  for (const char* model : {"markov", "shapley"}) {
    SCOPED_TRACE(model);
    InsightsQuery q;
    q.report.model = model;
    auto r = Run(q);
    const Finding* f = Find(r, "clicks_without_conversions", {"ad", "a1"});
    ASSERT_NE(f, nullptr);
    EXPECT_NEAR(Number(*f, "cvr_click"), 0.02, 1e-12);
    EXPECT_NEAR(Number(*f, "peer_cvr_click"), 0.2, 1e-12);
    EXPECT_NEAR(Number(*f, "expected_conversions"), 20, 1e-9);
  }
}

TEST_F(InsightsTest, TooFewClicksMakeNoFinding) {
  // The same rates with a tenth of the people: a1 has 10 clicks, under the 30-click minimum.
  AddAd("a1", 200, 10, 0);
  AddAd("a2", 200, 4, 1);
  AddAd("a3", 200, 4, 1);
  auto r = Run();
  EXPECT_EQ(Find(r, "clicks_without_conversions"), nullptr);
  // Lowering the minimums lets the comparison be made, but the evidence is too thin for q = 5%.
  InsightsQuery q;
  q.min_clicks = 5;
  q.min_conversions = 1;
  q.min_expected = 1;
  auto loose = Run(q);
  EXPECT_GT(loose.comparisons, r.comparisons);
  EXPECT_EQ(Find(loose, "clicks_without_conversions"), nullptr);
}

TEST_F(InsightsTest, OneOddPeerDoesNotMakeTheOthersLookBad) {
  // a3 has a CTR of 6%; a1 and a2 2% each with the same video watch. Against the pooled peers
  // a1's CTR is 0.5x, but without a3 it is 1x: no "watched but not clicked" finding for a1/a2.
  Add(40, Person{"a1", true, false, "25-34", "Ohio", 9000});
  Add(1960, Person{"a1", false, false, "25-34", "Ohio", 9000});
  Add(40, Person{"a2", true, false, "25-34", "Ohio", 9000});
  Add(1960, Person{"a2", false, false, "25-34", "Ohio", 9000});
  Add(120, Person{"a3", true, false, "25-34", "Ohio", 9000});
  Add(1880, Person{"a3", false, false, "25-34", "Ohio", 9000});
  auto r = Run();
  EXPECT_EQ(Find(r, "watched_not_clicked"), nullptr);
  // In ad group g2, b1 is watched past half as often as b2 or more, and clicked at 1% against
  // b2's 4%: with a single peer there is no one to leave out, and the rule fires.
  Add(20, Person{"b1", true, false, "25-34", "Ohio", 9000});
  Add(1980, Person{"b1", false, false, "25-34", "Ohio", 9000});
  Add(80, Person{"b2", true, false, "25-34", "Ohio", 5000});
  Add(1920, Person{"b2", false, false, "25-34", "Ohio", 5000});
  r = Run();
  const Finding* f = Find(r, "watched_not_clicked", {"ad", "b1"});
  ASSERT_NE(f, nullptr);
  EXPECT_NEAR(f->effect, 0.25, 1e-12);                        // 1% / 4%
  EXPECT_DOUBLE_EQ(Number(*f, "watch_half_rate"), 1.0);       // 9 s of 15 s: past half
  EXPECT_DOUBLE_EQ(Number(*f, "peer_watch_half_rate"), 0.0);  // 5 s of 15 s
}

TEST_F(InsightsTest, WeakHookAgainstVideoPeers) {
  // 2-second views per impression: a1 30% (600 of 2000), a2 and a3 80%.
  Add(600, Person{"a1", false, false, "25-34", "Ohio", 2500});
  Add(1400, Person{"a1", false, false, "25-34", "Ohio", 1000});
  for (const char* ad : {"a2", "a3"}) {
    Add(1600, Person{ad, false, false, "25-34", "Ohio", 2500});
    Add(400, Person{ad, false, false, "25-34", "Ohio", 1000});
  }
  Spend({{"a1", 200}});
  auto r = Run();
  const Finding* f = Find(r, "weak_hook", {"ad", "a1"});
  ASSERT_NE(f, nullptr);
  EXPECT_DOUBLE_EQ(Number(*f, "hook_rate"), 0.3);
  EXPECT_DOUBLE_EQ(Number(*f, "peer_hook_rate"), 0.8);
  EXPECT_NEAR(f->effect, 0.375, 1e-12);
  // A hook rate is attention, not conversions: nothing at stake by itself
  // (docs/insights.md#money-at-stake); the finding ranks by its p-value among those with none.
  EXPECT_EQ(f->money_at_stake, 0);
  EXPECT_EQ(Find(r, "weak_hook", {"ad", "a2"}), nullptr);
}

TEST_F(InsightsTest, SpendWithoutConversionsAgainstTheCampaignsCostPerConversion) {
  // Peers a2, a3: 200 spent, 20 purchases -> 10 per purchase. a1 spent 300 for none: 30
  // expected; P(0 | Poisson(30 / 1.25)) = e^-24. b1 spent 30 for none: 3 expected, e^-2.4 —
  // no finding.
  AddAd("a1", 1000, 20, 0);
  AddAd("a2", 1000, 50, 10);
  AddAd("a3", 1000, 50, 10);
  AddAd("b1", 1000, 20, 0);
  AddAd("b2", 1000, 50, 10);
  Spend({{"a1", 300}, {"a2", 100}, {"a3", 100}, {"b1", 30}, {"b2", 100}});
  auto r = Run();
  const Finding* f = Find(r, "spend_without_conversions", {"ad", "a1"});
  ASSERT_NE(f, nullptr);
  EXPECT_DOUBLE_EQ(Number(*f, "reference_cpa"), 10);
  EXPECT_DOUBLE_EQ(Number(*f, "expected_conversions"), 30);
  EXPECT_NEAR(f->p_value, std::exp(-24.0), 1e-20);
  EXPECT_NEAR(Number(*f, "p_equal"), std::exp(-30.0), 1e-25);
  // Money at stake: the spend less the share the interval's upper end would still convert,
  // 300 x (1 - (-ln 0.025) / 30).
  EXPECT_NEAR(f->money_at_stake, 300 * (1 + std::log(0.025) / 30), 1e-9);
  EXPECT_EQ(f->effect, 0);
  EXPECT_NEAR(f->ci_high, -std::log(0.025) / 30, 1e-12);
  // b1's peer is b2 alone (its ad group): 100 per 10 -> 10; 3 expected; not unlikely enough.
  EXPECT_EQ(Find(r, "spend_without_conversions", {"ad", "b1"}), nullptr);
  // Ranked by money at stake.
  for (size_t i = 1; i < r.findings.size(); ++i)
    EXPECT_GE(r.findings[i - 1].money_at_stake, r.findings[i].money_at_stake);
}

TEST_F(InsightsTest, SegmentsAreComparedAdByAdSoAdMixIsNoFinding) {
  // Texas mostly sees a2 (20% of clicks buy), Ohio mostly a1 (5%). Within each ad both regions
  // convert alike, so Texas's higher raw rate (17% vs 8%) is the ad mix: no finding.
  AddAd("a1", 1000, 400, 20, "25-34", "Ohio");
  AddAd("a1", 250, 100, 5, "25-34", "Texas");
  AddAd("a2", 250, 100, 20, "25-34", "Ohio");
  AddAd("a2", 1000, 400, 80, "25-34", "Texas");
  auto r = Run();
  EXPECT_EQ(Find(r, "segment", {"region", "Texas"}), nullptr);
  EXPECT_EQ(Find(r, "segment", {"region", "Ohio"}), nullptr);
}

TEST_F(InsightsTest, SegmentThatTrulyConvertsMoreIsFoundWithHandExpectedCounts) {
  // Within a1: Texas 30 of 200 clicks (15%), Ohio 15 of 300 (5%); pooled a1 rate 45 / 500 = 9%.
  // Within a2: Texas 30 of 100 (30%), Ohio 40 of 400 (10%); pooled 70 / 500 = 14%.
  // Expected for Texas: 200 x 0.09 + 100 x 0.14 = 32; observed 60. Ohio: 300 x 0.09 +
  // 400 x 0.14 = 83; observed 55. Ratio (60 / 32) / (55 / 83) = 2.8295...
  AddAd("a1", 2000, 200, 30, "25-34", "Texas");
  AddAd("a1", 3000, 300, 15, "25-34", "Ohio");
  AddAd("a2", 1000, 100, 30, "25-34", "Texas");
  AddAd("a2", 4000, 400, 40, "25-34", "Ohio");
  auto r = Run();
  const Finding* f = Find(r, "segment", {"region", "Texas"});
  ASSERT_NE(f, nullptr);
  EXPECT_DOUBLE_EQ(Number(*f, "conversions_click"), 60);
  EXPECT_NEAR(Number(*f, "expected"), 32, 1e-9);
  EXPECT_NEAR(Number(*f, "rest_expected"), 83, 1e-9);
  EXPECT_NEAR(f->effect, (60.0 / 32) / (55.0 / 83), 1e-12);
  EXPECT_DOUBLE_EQ(f->p_value, query::stats::ConditionalRateTest(60, 32, 55, 83, 1.25).p_value);
  EXPECT_GT(*f->posterior, 0.999);
  EXPECT_LT(f->ci_low, f->effect);
  EXPECT_GT(f->ci_low, 1.25);
  // Ohio against the rest is the mirror image of Texas against the rest (Texas is all the
  // rest): one comparison, told from the higher side.
  EXPECT_EQ(Find(r, "segment", {"region", "Ohio"}), nullptr);
}

TEST_F(InsightsTest, CreativeTagWinsWithinAnAgeComparedWithinTheCampaign) {
  // Humor (a1, b1) against straight-pitch (a2, a3, b2), among 18-24: humor 60 of 400 clicks
  // (15%), the others 30 of 600 (5%). Among 35-44 both convert at 8%.
  AddAd("a1", 4000, 200, 30, "18-24");
  AddAd("b1", 4000, 200, 30, "18-24");
  AddAd("a2", 4000, 200, 10, "18-24");
  AddAd("a3", 4000, 200, 10, "18-24");
  AddAd("b2", 4000, 200, 10, "18-24");
  for (const char* ad : {"a1", "a2", "a3", "b1", "b2"}) AddAd(ad, 4000, 200, 16, "35-44");
  auto r = Run();
  const Finding* f = nullptr;
  for (const auto& x : r.findings)
    if (x.kind == "creative_attribute" && x.metric == "cvr_click" && x.entity.size() == 2 &&
        x.entity[0] == std::make_pair(std::string("tag"), std::string("humor")) &&
        x.entity[1] == std::make_pair(std::string("age"), std::string("18-24")))
      f = &x;
  ASSERT_NE(f, nullptr);
  // One stratum (campaign c1, short videos) within 18-24: pooled 90 / 1000 = 9%; expected
  // humor 400 x 0.09 = 36, rest 54; ratio (60 / 36) / (30 / 54) = 3.
  EXPECT_NEAR(Number(*f, "expected"), 36, 1e-9);
  EXPECT_NEAR(Number(*f, "rest_expected"), 54, 1e-9);
  EXPECT_NEAR(f->effect, 3, 1e-12);
  EXPECT_NE(f->title.find("among 18-24"), std::string::npos);
  // Among 35-44 nothing differs.
  for (const auto& x : r.findings)
    for (const auto& e : x.entity) EXPECT_NE(e.second, "35-44") << x.title;
}

TEST_F(InsightsTest, NothingDiffersNothingFound) {
  for (const char* ad : {"a1", "a2", "a3", "b1", "b2"}) AddAd(ad, 3000, 90, 9);
  auto r = Run();
  EXPECT_GT(r.comparisons, 0u);
  EXPECT_TRUE(r.findings.empty());
  EXPECT_NE(query::InsightsToText(InsightsQuery{}, r).find("No findings"), std::string::npos);
}

TEST(InsightsParams, ParsesAndRejectsClearly) {
  auto r = query::ParseInsightsParams({{"from", "2023-11-01"},
                                       {"to", "2023-11-30"},
                                       {"model", "linear"},
                                       {"fdr", "0.1"},
                                       {"min_ratio", "1.5"},
                                       {"min_clicks", "50"},
                                       {"limit", "5"},
                                       {"format", "text"}},
                                      kT0);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->query.report.model, "linear");
  EXPECT_DOUBLE_EQ(r->query.fdr, 0.1);
  EXPECT_DOUBLE_EQ(r->query.min_ratio, 1.5);
  EXPECT_EQ(r->query.min_clicks, 50);
  EXPECT_EQ(r->query.limit, 5u);
  EXPECT_EQ(r->format, "text");
  auto bad = [](std::vector<std::pair<std::string, std::string>> p, std::string_view field) {
    auto res = query::ParseInsightsParams(p, kT0);
    ASSERT_FALSE(res.ok());
    EXPECT_NE(res.status().message().find(field), std::string::npos) << res.status().message();
  };
  bad({{"fdr", "2"}}, "fdr");
  bad({{"fdr", "x"}}, "fdr");
  bad({{"min_ratio", "1"}}, "min_ratio");
  bad({{"min_clicks", "2.5"}}, "min_clicks");
  bad({{"dimensions", "ad"}}, "dimensions");
}

TEST_F(InsightsTest, JsonCarriesEveryFieldOfAFinding) {
  AddAd("a1", 2000, 100, 2);
  AddAd("a2", 2000, 40, 8);
  AddAd("a3", 2000, 40, 8);
  InsightsQuery q;
  auto r = Run(q);
  ASSERT_FALSE(r.findings.empty());
  std::string json = query::InsightsToJson(q, r);
  for (const char* key :
       {"\"kind\":", "\"title\":", "\"detail\":", "\"entity\":{\"ad\":\"a1\"", "\"metric\":",
        "\"effect\":{\"measure\":\"ratio\",\"value\":", "\"ci_low\":", "\"ci_high\":",
        "\"p_value\":", "\"p_adjusted\":", "\"posterior\":", "\"money_at_stake\":", "\"numbers\":{",
        "\"comparisons\":"})
    EXPECT_NE(json.find(key), std::string::npos) << key << " in " << json;
}

}  // namespace
}  // namespace touchpoint
