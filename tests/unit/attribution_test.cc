// Attribution on hand-built journeys. Every expected number below was worked out by hand from
// the rules in docs/metrics.md, not read off the code's output.
#include <gtest/gtest.h>

#include <random>

#include "attribution/journey.h"
#include "attribution/models.h"
#include "query/dataset.h"
#include "query/report.h"
#include "support/ad_events.h"

namespace touchpoint {
namespace {

using query::Dataset;
using query::Dim;
using query::ReportQuery;

constexpr int64_t kT0 = 1700000000000;  // 2023-11-14T22:13:20Z

AdEvent Touch(AdEventType type, std::string ad, int64_t t, std::string user_key,
              std::string click_id = "", int64_t watch_ms = 0) {
  AdEvent e = testing::MakeTouch(type, std::move(ad), t, std::move(user_key), std::move(click_id));
  e.watch_ms = watch_ms;
  e.video_ms = watch_ms ? 15000 : 0;
  return e;
}
AdEvent Click(std::string ad, int64_t t, std::string user, std::string click_id) {
  return Touch(AdEventType::kClick, std::move(ad), t, std::move(user), std::move(click_id));
}
AdEvent View(std::string ad, int64_t t, std::string user) {
  return Touch(AdEventType::kImpression, std::move(ad), t, std::move(user));
}

SiteEvent Site(std::string name, int64_t t, std::string ttp, std::string ttclid = "",
               double value = 0, std::string email = "") {
  SiteEvent e;
  e.pixel_id = "P";
  e.event = std::move(name);
  e.event_time_ms = t;
  e.user.ttp = std::move(ttp);
  e.user.ttclid = std::move(ttclid);
  if (!email.empty()) e.user.email_sha256 = {email};
  if (value) e.value = value;
  return e;
}

Catalog TwoAdCatalog(CountMode mode = CountMode::kEvery) {
  Catalog c;
  AdGroup g{
      "g1", "G1",
      7,    1,
      mode, {Ad{"a1", "A1", "https://x.example/1", {}}, Ad{"a2", "A2", "https://x.example/2", {}}}};
  AdGroup h{"g2", "G2", 7, 1, mode, {Ad{"b1", "B1", "https://x.example/3", {}}}};
  c.campaigns.push_back(Campaign{"c1", "C1", {g, h}});
  return c;
}

class AttributionTest : public ::testing::Test {
 protected:
  void SetUp() override { data_.SetCatalog(std::make_shared<Catalog>(TwoAdCatalog())); }
  void Add(store::StoredEvent e) { data_.Append(++seq_, e); }
  // Conversions per ad under the query; absent ads map to 0.
  std::map<std::string, query::Metrics> ByAd(ReportQuery q = {}) {
    q.dims = {Dim::kAd};
    if (q.to_ms == 0) {
      q.from_ms = kT0 - 60 * kDayMs;
      q.to_ms = kT0 + 60 * kDayMs;
    }
    data_.Cluster();
    auto r = query::RunReport(data_, q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    std::map<std::string, query::Metrics> out;
    for (auto& row : r->rows) out[row.dims[0]] = row.metrics;
    last_ = *r;
    return out;
  }
  Dataset data_;
  uint64_t seq_ = 0;
  query::ReportResult last_;
};

TEST_F(AttributionTest, ClickBeatsLaterView) {
  Add(Click("a1", kT0, "u1", "K1"));
  Add(View("a2", kT0 + kHourMs, "u1"));
  Add(Site("PageView", kT0 + kMinuteMs, "c1", "K1"));
  Add(Site("CompletePayment", kT0 + 2 * kHourMs, "c1", "", 30));
  auto by_ad = ByAd();
  EXPECT_DOUBLE_EQ(by_ad["a1"].conversions_click, 1);
  EXPECT_DOUBLE_EQ(by_ad["a1"].value, 30);
  EXPECT_DOUBLE_EQ(by_ad["a2"].conversions(), 0);
}

TEST_F(AttributionTest, ViewThroughOnlyInsideViewWindow) {
  // u1 saw a2 23 h before buying (in the 1-day view window); u2 saw it 25 h before (outside).
  Add(View("a2", kT0, "u1"));
  Add(Click("a2", kT0 - kDayMs, "u1", "K1"));  // a click 8 days before the purchase: out of 7 d
  Add(Site("PageView", kT0 - kDayMs, "c1", "K1"));
  Add(Site("CompletePayment", kT0 + 23 * kHourMs, "c1", "", 10));
  Add(Site("CompletePayment", kT0 + 23 * kHourMs - 8 * kDayMs + kDayMs, "c9"));  // unrelated
  Add(View("a1", kT0, "u2"));
  Add(Click("a1", kT0 - 10 * kDayMs, "u2", "K2"));
  Add(Site("PageView", kT0 - 10 * kDayMs, "c2", "K2"));
  Add(Site("CompletePayment", kT0 + 25 * kHourMs, "c2"));
  auto by_ad = ByAd();
  EXPECT_DOUBLE_EQ(by_ad["a2"].conversions_view, 0)
      << "the click was in the 7 d window: click wins";
  EXPECT_DOUBLE_EQ(by_ad["a2"].conversions_click, 1);
  EXPECT_DOUBLE_EQ(by_ad["a1"].conversions(), 0);
  EXPECT_DOUBLE_EQ(last_.unattributed_conversions, 2);  // c9, and u2 (view 25 h before)
}

TEST_F(AttributionTest, ViewThroughWithinOneDay) {
  Add(View("a2", kT0, "u1"));
  Add(Site("CompletePayment", kT0 + kDayMs, "c1", "", 5, std::string(64, 'e')));
  // Link the cookie to the ad platform's user via a hashed email on an ad event.
  AdEvent imp = View("b1", kT0 - 30 * kDayMs, "u1");
  imp.email_sha256 = {std::string(64, 'e')};
  Add(imp);
  auto by_ad = ByAd();
  EXPECT_DOUBLE_EQ(by_ad["a2"].conversions_view, 1);  // exactly 1 day: inside the window
  EXPECT_DOUBLE_EQ(by_ad["b1"].conversions(), 0);     // 31 days before: outside
}

TEST_F(AttributionTest, ClickWindowEdgeIsInclusiveAtExactlySevenDays) {
  Add(Click("a1", kT0, "u1", "K1"));
  Add(Site("PageView", kT0, "c1", "K1"));
  Add(Site("CompletePayment", kT0 + 7 * kDayMs, "c1"));
  Add(Click("a2", kT0, "u2", "K2"));
  Add(Site("PageView", kT0, "c2", "K2"));
  Add(Site("CompletePayment", kT0 + 7 * kDayMs + 1000, "c2"));
  auto by_ad = ByAd();
  EXPECT_DOUBLE_EQ(by_ad["a1"].conversions_click, 1);
  EXPECT_DOUBLE_EQ(by_ad["a2"].conversions(), 0);
  EXPECT_DOUBLE_EQ(last_.unattributed_conversions, 1);
  // A 14-day query window takes the second one in.
  ReportQuery q;
  q.click_window_days = 14;
  by_ad = ByAd(q);
  EXPECT_DOUBLE_EQ(by_ad["a2"].conversions_click, 1);
}

TEST_F(AttributionTest, TouchAfterTheConversionGetsNothing) {
  Add(Site("PageView", kT0, "c1", "K1"));
  Add(Site("CompletePayment", kT0 + kHourMs, "c1"));
  Add(Click("a1", kT0 + 2 * kHourMs, "u1", "K1"));
  EXPECT_DOUBLE_EQ(ByAd()["a1"].conversions(), 0);
}

TEST_F(AttributionTest, MultiTouchWeights) {
  // Three clicks on a1, a2, b1 at 3, 2 and 1 days before one purchase of value 70.
  Add(Click("a1", kT0 - 3 * kDayMs, "u1", "K1"));
  Add(Click("a2", kT0 - 2 * kDayMs, "u1", "K2"));
  Add(Click("b1", kT0 - 1 * kDayMs, "u1", "K3"));
  Add(Site("PageView", kT0 - 3 * kDayMs, "c1", "K1"));
  Add(Site("CompletePayment", kT0, "c1", "", 70));
  ReportQuery q;
  q.model = "linear";
  auto m = ByAd(q);
  EXPECT_NEAR(m["a1"].conversions(), 1.0 / 3, 1e-12);
  EXPECT_NEAR(m["b1"].value, 70.0 / 3, 1e-9);
  q.model = "position_based";
  m = ByAd(q);
  EXPECT_NEAR(m["a1"].conversions(), 0.4, 1e-12);
  EXPECT_NEAR(m["a2"].conversions(), 0.2, 1e-12);
  EXPECT_NEAR(m["b1"].conversions(), 0.4, 1e-12);
  q.model = "time_decay";
  q.params.half_life_days = 1;  // weights 1/8, 1/4, 1/2 -> 1/7, 2/7, 4/7
  m = ByAd(q);
  EXPECT_NEAR(m["a1"].conversions(), 1.0 / 7, 1e-12);
  EXPECT_NEAR(m["a2"].conversions(), 2.0 / 7, 1e-12);
  EXPECT_NEAR(m["b1"].conversions(), 4.0 / 7, 1e-12);
  q.model = "first_touch";
  m = ByAd(q);
  EXPECT_DOUBLE_EQ(m["a1"].conversions(), 1);
  EXPECT_DOUBLE_EQ(m["b1"].conversions(), 0);
  q.model = "last_touch";
  m = ByAd(q);
  EXPECT_DOUBLE_EQ(m["b1"].conversions(), 1);
}

TEST_F(AttributionTest, CountOnceCountsTheFirstConversionPerPersonAndAdGroup) {
  Add(Click("a1", kT0, "u1", "K1"));
  Add(Site("PageView", kT0, "c1", "K1"));
  Add(Site("CompletePayment", kT0 + kHourMs, "c1", "", 10));
  Add(Site("CompletePayment", kT0 + 2 * kHourMs, "c1", "", 20));
  EXPECT_DOUBLE_EQ(ByAd()["a1"].conversions(), 2);
  ReportQuery q;
  q.count_mode = CountMode::kOnce;
  auto m = ByAd(q);
  EXPECT_DOUBLE_EQ(m["a1"].conversions(), 1);
  EXPECT_DOUBLE_EQ(m["a1"].value, 10);
  // The ad group's own setting applies when the query doesn't override it.
  data_.SetCatalog(std::make_shared<Catalog>(TwoAdCatalog(CountMode::kOnce)));
  EXPECT_DOUBLE_EQ(ByAd()["a1"].conversions(), 1);
}

TEST_F(AttributionTest, IdentityMergeBringsCrossDeviceClickIntoTheJourney) {
  const std::string email(64, 'a');
  Add(Click("a1", kT0, "u1", "K1"));                                           // phone: ad click
  Add(Site("PageView", kT0 + kMinuteMs, "phone-cookie", "K1"));                // phone: landing
  Add(Site("CompletePayment", kT0 + kDayMs, "laptop-cookie", "", 50, email));  // laptop
  EXPECT_DOUBLE_EQ(ByAd()["a1"].conversions(), 0);
  EXPECT_DOUBLE_EQ(last_.unattributed_conversions, 1);
  // A later login on the phone with the same email links the two devices: restated at once.
  Add(Site("CompleteRegistration", kT0 + 2 * kDayMs, "phone-cookie", "", 0, email));
  auto m = ByAd();
  EXPECT_DOUBLE_EQ(m["a1"].conversions_click, 1);
  EXPECT_DOUBLE_EQ(m["a1"].value, 50);
}

TEST_F(AttributionTest, LateAdLogRestatesTheReport) {
  Add(Site("PageView", kT0 + kMinuteMs, "c1", "K1"));
  Add(Site("CompletePayment", kT0 + kHourMs, "c1", "", 25));
  EXPECT_DOUBLE_EQ(ByAd()["a1"].conversions(), 0);
  Add(Click("a1", kT0, "u1", "K1"));  // the ad log arrives after the conversion
  EXPECT_DOUBLE_EQ(ByAd()["a1"].conversions_click, 1);
}

TEST_F(AttributionTest, EngagedViewThroughIsReportedApart) {
  Add(Touch(AdEventType::kVideoPlay, "a1", kT0, "u1", "", 7000));
  Add(Touch(AdEventType::kVideoPlay, "a2", kT0, "u2", "", 3000));
  AdEvent k1 = Click("b1", kT0 - 30 * kDayMs, "u1", "K1");
  AdEvent k2 = Click("b1", kT0 - 30 * kDayMs, "u2", "K2");
  Add(k1);
  Add(k2);
  Add(Site("PageView", kT0 - 30 * kDayMs, "c1", "K1"));
  Add(Site("PageView", kT0 - 30 * kDayMs, "c2", "K2"));
  Add(Site("CompletePayment", kT0 + kHourMs, "c1"));
  Add(Site("CompletePayment", kT0 + kHourMs, "c2"));
  auto m = ByAd();
  EXPECT_DOUBLE_EQ(m["a1"].conversions_view, 1);
  EXPECT_DOUBLE_EQ(m["a1"].conversions_engaged_view, 1);
  EXPECT_DOUBLE_EQ(m["a2"].conversions_view, 1);
  EXPECT_DOUBLE_EQ(m["a2"].conversions_engaged_view, 0);
}

TEST_F(AttributionTest, BasisMovesCreditToTheDayOfTouchOrConversion) {
  int64_t day = kT0 - kT0 % kDayMs;  // 2023-11-14 00:00 UTC
  Add(Click("a1", day + 20 * kHourMs, "u1", "K1"));
  Add(Site("PageView", day + 20 * kHourMs, "c1", "K1"));
  Add(Site("CompletePayment", day + kDayMs + 2 * kHourMs, "c1"));
  ReportQuery q;
  q.dims = {Dim::kDay};
  q.from_ms = day;
  q.to_ms = day + 2 * kDayMs;
  data_.Cluster();
  auto r = query::RunReport(data_, q);
  ASSERT_TRUE(r.ok());
  std::map<std::string, double> by_day;
  for (auto& row : r->rows) by_day[row.dims[0]] = row.metrics.conversions();
  EXPECT_DOUBLE_EQ(by_day["2023-11-14"], 1);
  EXPECT_DOUBLE_EQ(by_day["2023-11-15"], 0);
  q.basis = query::Basis::kConversion;
  r = query::RunReport(data_, q);
  by_day.clear();
  for (auto& row : r->rows) by_day[row.dims[0]] = row.metrics.conversions();
  EXPECT_DOUBLE_EQ(by_day["2023-11-14"], 0);
  EXPECT_DOUBLE_EQ(by_day["2023-11-15"], 1);
}

// --- Properties over random journeys -----------------------------------------------------------

TEST(AttributionProperty, CreditsSumToOneAndStayInsideWindows) {
  std::mt19937_64 rng(42);
  std::vector<std::unique_ptr<attribution::AttributionModel>> models;
  for (const auto& name : attribution::ModelNames())
    models.push_back(std::move(*attribution::MakeModel(name, {.half_life_days = 2})));
  for (int iter = 0; iter < 2000; ++iter) {
    size_t n = 1 + rng() % 12;
    std::vector<int64_t> t(n);
    std::vector<uint8_t> click(n);
    std::vector<attribution::TouchWindow> w(n);
    for (size_t i = 0; i < n; ++i) {
      t[i] = static_cast<int64_t>(rng() % (40 * kDayMs));
      click[i] = rng() % 3 == 0;
      w[i] = {(1 + static_cast<int64_t>(rng() % 28)) * kDayMs,
              static_cast<int64_t>(rng() % 8) * kDayMs};
    }
    std::sort(t.begin(), t.end());
    int64_t conv = static_cast<int64_t>(rng() % (45 * kDayMs));
    std::vector<uint32_t> j;
    bool clicks = attribution::BuildJourney({t, click, w}, conv, j);
    bool any_click = false, any_view = false;
    for (size_t i = 0; i < n; ++i) {
      if (t[i] > conv) continue;
      any_click |= click[i] && conv - t[i] <= w[i].click_ms;
      any_view |= !click[i] && w[i].view_ms > 0 && conv - t[i] <= w[i].view_ms;
    }
    ASSERT_EQ(j.empty(), !any_click && !any_view);
    if (j.empty()) continue;
    ASSERT_EQ(clicks, any_click);
    for (uint32_t k : j) {
      ASSERT_LE(t[k], conv);
      ASSERT_EQ(click[k], clicks ? 1 : 0);
      ASSERT_LE(conv - t[k], clicks ? w[k].click_ms : w[k].view_ms);
    }
    std::vector<int64_t> jt;
    for (uint32_t k : j) jt.push_back(t[k]);
    for (const auto& m : models) {
      std::vector<double> weights(j.size());
      m->Credit({conv, jt, clicks}, weights);
      double sum = 0;
      for (double x : weights) {
        ASSERT_GE(x, 0);
        sum += x;
      }
      ASSERT_NEAR(sum, 1.0, 1e-9) << m->Name();
    }
  }
}

TEST(AttributionProperty, TotalsDoNotDependOnTheDimensionsChosen) {
  std::mt19937_64 rng(7);
  Dataset data;
  data.SetCatalog(std::make_shared<Catalog>(TwoAdCatalog()));
  const char* ads[] = {"a1", "a2", "b1"};
  const char* ages[] = {"18-24", "25-34", "45-54", ""};
  uint64_t seq = 0;
  for (int u = 0; u < 300; ++u) {
    std::string user = "u" + std::to_string(u), cookie = "c" + std::to_string(u);
    int touches = static_cast<int>(rng() % 6);
    for (int k = 0; k < touches; ++k) {
      AdEvent e = View(ads[rng() % 3], kT0 + static_cast<int64_t>(rng() % (20 * kDayMs)), user);
      e.age = ages[rng() % 4];
      e.gender = rng() % 2 ? "female" : "male";
      if (rng() % 4 == 0) {
        e.type = AdEventType::kClick;
        e.click_id = "K" + std::to_string(u) + "_" + std::to_string(k);
        data.Append(++seq, Site("PageView", e.event_time_ms, cookie, e.click_id));
      }
      data.Append(++seq, e);
    }
    if (rng() % 2)
      data.Append(++seq, Site("CompletePayment", kT0 + static_cast<int64_t>(rng() % (25 * kDayMs)),
                              cookie, "", 10));
  }
  data.Cluster();
  for (const auto& model : attribution::ModelNames()) {
    std::optional<query::Metrics> first;
    for (auto dims : std::vector<std::vector<Dim>>{
             {}, {Dim::kAd}, {Dim::kAge, Dim::kGender}, {Dim::kCampaign, Dim::kDay}}) {
      ReportQuery q;
      q.model = model;
      q.dims = dims;
      q.from_ms = kT0;
      q.to_ms = kT0 + 20 * kDayMs;
      auto r = query::RunReport(data, q);
      ASSERT_TRUE(r.ok()) << r.status().message();
      double row_sum = 0;
      int64_t imp_sum = 0;
      for (auto& row : r->rows) {
        row_sum += row.metrics.conversions();
        imp_sum += row.metrics.impressions;
      }
      EXPECT_NEAR(row_sum, r->totals.conversions(), 1e-9);
      EXPECT_EQ(imp_sum, r->totals.impressions);
      if (!first) first = r->totals;
      EXPECT_NEAR(r->totals.conversions(), first->conversions(), 1e-9) << model;
      EXPECT_EQ(r->totals.impressions, first->impressions);
      EXPECT_EQ(r->totals.reach, first->reach);
    }
  }
}

}  // namespace
}  // namespace touchpoint
