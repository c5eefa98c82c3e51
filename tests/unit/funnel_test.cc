// Funnels on hand-built journeys. Every expected count and median below was worked out by hand
// from the rules in docs/funnels.md (noted beside each), not read off the code's output.
#include "query/funnel.h"

#include <gtest/gtest.h>

#include "core/time.h"
#include "support/ad_events.h"

namespace touchpoint {
namespace {

using query::Dim;
using query::FunnelQuery;
using query::FunnelResult;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z, a whole second

AdEvent Touch(AdEventType type, std::string ad, int64_t t, std::string user,
              std::string click_id = "") {
  AdEvent e = testing::MakeTouch(type, std::move(ad), t, std::move(user), std::move(click_id));
  e.age = "25-34";
  return e;
}
AdEvent Imp(std::string ad, int64_t t, std::string user) {
  return Touch(AdEventType::kImpression, std::move(ad), t, std::move(user));
}
AdEvent Click(std::string ad, int64_t t, std::string user, std::string click_id) {
  return Touch(AdEventType::kClick, std::move(ad), t, std::move(user), std::move(click_id));
}
AdEvent Play(std::string ad, int64_t t, std::string user, int64_t watch_ms, int64_t video_ms) {
  AdEvent e = Touch(AdEventType::kVideoPlay, std::move(ad), t, std::move(user));
  e.watch_ms = watch_ms;
  e.video_ms = video_ms;
  return e;
}
SiteEvent Site(std::string name, int64_t t, std::string cookie, std::string ttclid = "") {
  SiteEvent e;
  e.pixel_id = "P";
  e.event = std::move(name);
  e.event_time_ms = t;
  e.user.ttp = std::move(cookie);
  e.user.ttclid = std::move(ttclid);
  return e;
}

Catalog TwoAds() {
  Catalog c;
  Ad a1{"a1", "A1", "https://x.example/1", {"video", 15000, "shop_now", {"humor", "music"}}};
  Ad a2{"a2", "A2", "https://x.example/2", {"video", 40000, "shop_now", {"straight-pitch"}}};
  c.campaigns.push_back(
      Campaign{"c1", "C1", {AdGroup{"g1", "G1", 7, 1, CountMode::kEvery, {a1, a2}}}});
  return c;
}

class FunnelTest : public ::testing::Test {
 protected:
  void SetUp() override { data_.SetCatalog(std::make_shared<Catalog>(TwoAds())); }
  void Add(store::StoredEvent e) { data_.Append(++seq_, e); }
  FunnelQuery Query(std::vector<std::string> steps) {
    FunnelQuery q;
    q.from_ms = kT0 - kDayMs;
    q.to_ms = kT0 + 30 * kDayMs;
    for (const auto& s : steps) {
      auto step = query::ParseFunnelStep(s);
      EXPECT_TRUE(step.ok());
      q.steps.push_back(*step);
    }
    return q;
  }
  FunnelResult Run(const FunnelQuery& q) {
    data_.Cluster();
    auto r = query::RunFunnel(data_, q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : FunnelResult{};
  }
  // Four people through impression -> click -> PageView -> CompletePayment (the shape of most
  // tests below).
  void AddFourPeople() {
    auto add = [&](store::StoredEvent e) { Add(std::move(e)); };
    // u1: everything; click 10 s after the impression, landing 3 s later, buys 1 h after it.
    add(Imp("a1", kT0, "u1"));
    add(Click("a1", kT0 + 10'000, "u1", "K1"));
    add(Site("PageView", kT0 + 13'000, "c1", "K1"));
    add(Site("CompletePayment", kT0 + kHourMs, "c1"));
    // u2: clicks after 20 s, lands 5 s later, never buys.
    add(Imp("a1", kT0 + kHourMs, "u2"));
    add(Click("a1", kT0 + kHourMs + 20'000, "u2", "K2"));
    add(Site("PageView", kT0 + kHourMs + 25'000, "c2", "K2"));
    // u3: only sees a2.
    add(Imp("a2", kT0 + 2 * kHourMs, "u3"));
    // u4: clicks after 30 s, lands 10 s later, buys 3 h after the impression.
    add(Imp("a1", kT0, "u4"));
    add(Click("a1", kT0 + 30'000, "u4", "K4"));
    add(Site("PageView", kT0 + 40'000, "c4", "K4"));
    add(Site("CompletePayment", kT0 + 3 * kHourMs, "c4"));
  }
  static std::vector<int64_t> Counts(const query::FunnelGroup& g) {
    std::vector<int64_t> out;
    for (const auto& s : g.steps) out.push_back(s.count);
    return out;
  }
  query::Dataset data_;
  uint64_t seq_ = 0;
};

TEST_F(FunnelTest, CountsConversionsAndMediansByHand) {
  AddFourPeople();
  auto r = Run(Query({"impression", "click", "PageView", "CompletePayment"}));
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{4, 3, 3, 2}));
  const auto& s = r.total.steps;
  EXPECT_FALSE(s[0].median_ms.has_value());
  EXPECT_DOUBLE_EQ(*s[1].median_ms, 20'000);  // 10 s, 20 s, 30 s
  EXPECT_DOUBLE_EQ(*s[2].median_ms, 5'000);   // 3 s, 5 s, 10 s
  // Even count: the mean of the two middle values, (1 h - 13 s) and (3 h - 40 s).
  EXPECT_DOUBLE_EQ(*s[3].median_ms, (3'587'000.0 + 10'760'000.0) / 2);
  EXPECT_TRUE(r.groups.empty());
  // The JSON carries step and overall conversion and drop-off: 3/4, 3/3, 2/3; 2/4 overall.
  std::string json =
      query::FunnelToJson(Query({"impression", "click", "PageView", "CompletePayment"}), r);
  EXPECT_NE(
      json.find(
          R"("step":"click","count":3,"step_conversion":0.75,"overall_conversion":0.75,"drop_off":1)"),
      std::string::npos)
      << json;
  EXPECT_NE(json.find(R"("step":"CompletePayment","count":2,"step_conversion":0.666666)"),
            std::string::npos)
      << json;
  EXPECT_NE(
      json.find(R"("overall_conversion":0.5,"drop_off":1,"median_ms_from_previous":7173500})"),
      std::string::npos)
      << json;
}

TEST_F(FunnelTest, BreakdownByAdAndByTagTakesTheEntryTouch) {
  AddFourPeople();
  auto q = Query({"impression", "click", "PageView", "CompletePayment"});
  q.breakdown = Dim::kAd;
  auto r = Run(q);
  ASSERT_EQ(r.groups.size(), 2u);
  EXPECT_EQ(r.groups[0].value, "a1");  // 3 people entered on a1
  EXPECT_EQ(Counts(r.groups[0]), (std::vector<int64_t>{3, 3, 3, 2}));
  EXPECT_EQ(r.groups[1].value, "a2");
  EXPECT_EQ(Counts(r.groups[1]), (std::vector<int64_t>{1, 0, 0, 0}));
  // Tags: a person counts under every tag of the entry ad.
  q.breakdown = Dim::kTag;
  r = Run(q);
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_EQ(r.groups[0].value, "humor");
  EXPECT_EQ(r.groups[1].value, "music");
  EXPECT_EQ(Counts(r.groups[1]), (std::vector<int64_t>{3, 3, 3, 2}));
  EXPECT_EQ(r.groups[2].value, "straight-pitch");
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{4, 3, 3, 2}));  // totals count people once
}

TEST_F(FunnelTest, AStepBeforeThePreviousOneDoesNotCount) {
  // u5 "buys" 5 s after the impression, before clicking at 60 s; the identity link is the click
  // id on the purchase.
  Add(Imp("a1", kT0, "u5"));
  Add(Click("a1", kT0 + 60'000, "u5", "K5"));
  Add(Site("CompletePayment", kT0 + 5'000, "c5", "K5"));
  auto q = Query({"impression", "click", "CompletePayment"});
  EXPECT_EQ(Counts(Run(q).total), (std::vector<int64_t>{1, 1, 0}));
  // A second purchase after the click completes the funnel.
  Add(Site("CompletePayment", kT0 + 2 * kHourMs, "c5"));
  auto r = Run(q);
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{1, 1, 1}));
  EXPECT_DOUBLE_EQ(*r.total.steps[2].median_ms, 2 * kHourMs - 60'000);
}

TEST_F(FunnelTest, WindowEdgeIsInclusiveFromStepOne) {
  // Exactly 7 days after the impression: in; 7 days + 1 s: out.
  Add(Imp("a1", kT0, "u6"));
  Add(Click("a1", kT0 + 1000, "u6", "K6"));
  Add(Site("PageView", kT0 + 2000, "c6", "K6"));
  Add(Site("CompletePayment", kT0 + 7 * kDayMs, "c6"));
  Add(Imp("a1", kT0, "u7"));
  Add(Click("a1", kT0 + 1000, "u7", "K7"));
  Add(Site("PageView", kT0 + 2000, "c7", "K7"));
  Add(Site("CompletePayment", kT0 + 7 * kDayMs + 1000, "c7"));
  auto q = Query({"impression", "click", "CompletePayment"});
  EXPECT_EQ(Counts(Run(q).total), (std::vector<int64_t>{2, 2, 1}));
  q.window_ms = 7 * kDayMs + 1000;
  EXPECT_EQ(Counts(Run(q).total), (std::vector<int64_t>{2, 2, 2}));
  q.window_ms = 7 * kDayMs - 1;
  EXPECT_EQ(Counts(Run(q).total), (std::vector<int64_t>{2, 2, 0}));
}

TEST_F(FunnelTest, EntryIsTheFirstStepOneInTheRange) {
  auto q = Query({"impression", "click", "CompletePayment"});
  q.from_ms = kT0;
  q.to_ms = kT0 + 30 * kDayMs;
  // u8: an impression before the range (ignored), the entry 1 day in, a purchase 6 d 1 h after
  // the entry (7 d 2 h after the earlier impression): counted.
  Add(Imp("a1", kT0 - kHourMs, "u8"));
  Add(Imp("a1", kT0 + kDayMs, "u8"));
  Add(Click("a1", kT0 + kDayMs + 5000, "u8", "K8"));
  Add(Site("CompletePayment", kT0 + 7 * kDayMs + kHourMs, "c8", "K8"));
  // u9: enters at T0 + 1 h; a later impression at 5 d does not restart the window, so the
  // purchase at 9 d (8 d 23 h after entry) is out.
  Add(Imp("a1", kT0 + kHourMs, "u9"));
  Add(Imp("a1", kT0 + 5 * kDayMs, "u9"));
  Add(Click("a1", kT0 + 5 * kDayMs + 5000, "u9", "K9"));
  Add(Site("CompletePayment", kT0 + 9 * kDayMs, "c9", "K9"));
  // u10: its only impression is at to_ms exactly: the range is [from, to), so not entered.
  Add(Imp("a1", kT0 + 30 * kDayMs, "u10"));
  EXPECT_EQ(Counts(Run(q).total), (std::vector<int64_t>{2, 2, 1}));
}

TEST_F(FunnelTest, EqualTimesCountButOneEventFillsOneStep) {
  // A 6 s view logged in the same millisecond as its impression follows it.
  Add(Imp("a1", kT0, "u11"));
  Add(Play("a1", kT0, "u11", 7000, 15000));
  Add(Click("a1", kT0 + 3000, "u11", "K11"));
  // PageView and AddToCart stamped in the same second: both steps count, in either row order.
  Add(Site("AddToCart", kT0 + 5000, "c11", "K11"));
  Add(Site("PageView", kT0 + 5000, "c11", "K11"));
  auto r = Run(Query({"impression", "video_view_6s", "click", "PageView", "AddToCart"}));
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{1, 1, 1, 1, 1}));
  EXPECT_DOUBLE_EQ(*r.total.steps[1].median_ms, 0);
  EXPECT_DOUBLE_EQ(*r.total.steps[4].median_ms, 0);
  // A repeated step needs a second event: one PageView cannot be both.
  EXPECT_EQ(Counts(Run(Query({"click", "PageView", "PageView"})).total),
            (std::vector<int64_t>{1, 1, 0}));
  Add(Site("PageView", kT0 + 5000, "c11"));
  EXPECT_EQ(Counts(Run(Query({"click", "PageView", "PageView"})).total),
            (std::vector<int64_t>{1, 1, 1}));
}

TEST_F(FunnelTest, SiteStepInTheClicksSecondFollowsIt) {
  // The click at 10.700 s; the landing PageView is stamped 10 s (whole seconds): it follows.
  Add(Click("a1", kT0 + 10'700, "u12", "K12"));
  Add(Site("PageView", kT0 + 10'000, "c12", "K12"));
  // u13's PageView is stamped 9 s, a whole second before its click at 10.2 s: it does not.
  Add(Click("a1", kT0 + 10'200, "u13", "K13"));
  Add(Site("PageView", kT0 + 9'000, "c13", "K13"));
  auto r = Run(Query({"click", "PageView"}));
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{2, 1}));
  EXPECT_DOUBLE_EQ(*r.total.steps[1].median_ms, 0);  // -0.7 s reads as 0
}

TEST_F(FunnelTest, LaterAdStepsStayOnTheEntryAdUnlessSameAdIsOff) {
  // u14 sees a1 and then clicks a2.
  Add(Imp("a1", kT0, "u14"));
  Add(Imp("a2", kT0 + kMinuteMs, "u14"));
  Add(Click("a2", kT0 + kMinuteMs + 4000, "u14", "K14"));
  auto q = Query({"impression", "click"});
  q.breakdown = Dim::kAd;
  auto r = Run(q);
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{1, 0}));
  ASSERT_EQ(r.groups.size(), 1u);
  EXPECT_EQ(r.groups[0].value, "a1");
  q.same_ad = false;
  r = Run(q);
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{1, 1}));
  EXPECT_EQ(Counts(r.groups[0]), (std::vector<int64_t>{1, 1}));  // still a1's row: the entry touch
}

TEST_F(FunnelTest, VideoViewThresholdsFollowTheReportsDefinition) {
  Add(Imp("a1", kT0, "v1"));
  Add(Play("a1", kT0 + 100, "v1", 5999, 15000));  // under 6 s of a 15 s video: no 6 s view
  Add(Imp("a1", kT0, "v2"));
  Add(Play("a1", kT0 + 100, "v2", 5000, 5000));  // a 5 s video watched to the end: a 6 s view
  Add(Imp("a1", kT0, "v3"));
  Add(Play("a1", kT0 + 100, "v3", 2000, 15000));  // exactly 2 s: a 2 s view, not a 6 s one
  EXPECT_EQ(Counts(Run(Query({"impression", "video_view_6s"})).total),
            (std::vector<int64_t>{3, 1}));
  EXPECT_EQ(Counts(Run(Query({"impression", "video_view_2s"})).total),
            (std::vector<int64_t>{3, 3}));
  EXPECT_EQ(Counts(Run(Query({"impression", "video_play"})).total), (std::vector<int64_t>{3, 3}));
}

TEST_F(FunnelTest, SiteFirstFunnelBreaksDownByTheLastClickBeforeIt) {
  // s1: clicked a2 (age 18-24) 2 days before, then a1 (age 25-34) 1 day before the PageView:
  // the last click, a1 / 25-34, is the breakdown.
  AdEvent c = Click("a2", kT0 - 2 * kDayMs, "s1", "S1a");
  c.age = "18-24";
  Add(c);
  Add(Click("a1", kT0 - kDayMs, "s1", "S1b"));
  Add(Site("PageView", kT0, "cs1", "S1a"));
  Add(Site("PageView", kT0 + 1000, "cs1", "S1b"));
  Add(Site("CompletePayment", kT0 + kHourMs, "cs1"));
  // s2: its only click is 8 days before the PageView, past the 7-day lookback.
  Add(Click("a2", kT0 - 8 * kDayMs, "s2", "S2"));
  Add(Site("PageView", kT0, "cs2", "S2"));
  // s3: never clicked.
  Add(Site("PageView", kT0, "cs3"));
  Add(Site("CompletePayment", kT0 + 2 * kHourMs, "cs3"));
  // s4: clicked in the same second as its PageView (stamped 0.0 s, click at 0.4 s).
  c = Click("a2", kT0 + 400, "s4", "S4");
  c.age = "18-24";
  Add(c);
  Add(Site("PageView", kT0, "cs4", "S4"));
  auto q = Query({"PageView", "CompletePayment"});
  q.breakdown = Dim::kAge;
  auto r = Run(q);
  EXPECT_EQ(Counts(r.total), (std::vector<int64_t>{4, 2}));
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_EQ(r.groups[0].value, "(no click)");  // s2, s3
  EXPECT_EQ(Counts(r.groups[0]), (std::vector<int64_t>{2, 1}));
  EXPECT_EQ(r.groups[1].value, "18-24");  // s4
  EXPECT_EQ(Counts(r.groups[1]), (std::vector<int64_t>{1, 0}));
  EXPECT_EQ(r.groups[2].value, "25-34");  // s1
  EXPECT_EQ(Counts(r.groups[2]), (std::vector<int64_t>{1, 1}));
  q.breakdown = Dim::kAd;
  r = Run(q);
  ASSERT_EQ(r.groups.size(), 3u);
  EXPECT_EQ(r.groups[2].value, "a2");  // s4
  EXPECT_EQ(r.groups[1].value, "a1");  // s1
}

TEST_F(FunnelTest, TestEventsOtherPixelsAndAlternativesInAStep) {
  Add(Click("a1", kT0, "w1", "W1"));
  SiteEvent test_pv = Site("PageView", kT0 + 1000, "cw1", "W1");
  test_pv.test_event_code = "TEST123";
  Add(test_pv);
  Add(Click("a1", kT0, "w2", "W2"));
  SiteEvent other = Site("PageView", kT0 + 1000, "cw2", "W2");
  other.pixel_id = "OTHER";
  Add(other);
  Add(Click("a1", kT0, "w3", "W3"));
  Add(Site("Purchase", kT0 + 1000, "cw3", "W3"));
  auto q = Query({"click", "PageView"});
  EXPECT_EQ(Counts(Run(q).total), (std::vector<int64_t>{3, 1}));  // w2 (any pixel); w1 is a test
  q.pixel_id = "P";
  EXPECT_EQ(Counts(Run(q).total), (std::vector<int64_t>{3, 0}));
  q.pixel_id = "";
  EXPECT_EQ(Counts(Run(Query({"click", "CompletePayment|Purchase"})).total),
            (std::vector<int64_t>{3, 1}));
  q.pixel_id = "NOPE";
  data_.Cluster();
  EXPECT_FALSE(query::RunFunnel(data_, q).ok());
}

TEST(FunnelParams, ParsesAndRejectsClearly) {
  const int64_t now = kT0;
  auto r = query::ParseFunnelParams(
      {{"steps", "impression,video_view_6s,click,PageView,AddToCart|AddPaymentInfo"},
       {"window", "36h"},
       {"breakdown", "age"},
       {"from", "2023-11-01"},
       {"to", "2023-11-07"}},
      now);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->query.steps.size(), 5u);
  EXPECT_EQ(r->query.steps[1].kind, query::StepKind::kVideoView6s);
  EXPECT_EQ(r->query.steps[4].events, (std::vector<std::string>{"AddToCart", "AddPaymentInfo"}));
  EXPECT_EQ(r->query.window_ms, 36 * kHourMs);
  EXPECT_EQ(r->query.breakdown, Dim::kAge);
  EXPECT_EQ(r->query.from_ms, *ParseDateMs("2023-11-01"));
  EXPECT_EQ(r->query.to_ms, *ParseDateMs("2023-11-08"));  // to is an inclusive date
  EXPECT_EQ(query::ParseFunnelParams({{"steps", "click,PageView"}, {"window", "7"}}, now)
                ->query.window_ms,
            7 * kDayMs);
  auto bad = [&](std::vector<std::pair<std::string, std::string>> p, std::string_view field) {
    auto res = query::ParseFunnelParams(p, now);
    ASSERT_FALSE(res.ok());
    EXPECT_NE(res.status().message().find(field), std::string::npos) << res.status().message();
  };
  bad({{"window", "7d"}}, "steps");
  bad({{"steps", "click"}}, "steps");
  bad({{"steps", "click,PageView"}, {"window", "soon"}}, "window");
  bad({{"steps", "click,PageView"}, {"window", "0"}}, "window");
  bad({{"steps", "click,PageView"}, {"breakdown", "day"}}, "breakdown");
  bad({{"steps", "click,PageView"}, {"model", "linear"}}, "model");
  bad({{"steps", "click,PageView"}, {"from", "yesterday"}}, "from");
}

}  // namespace
}  // namespace touchpoint
