// Lift studies through the API (docs/metrics.md#lift-studies): study fields on ad events, ghost
// impressions kept out of everything else, the people and conversions a study counts, the
// planner and the geo estimate. Every expected figure is worked out by hand below (the decimals
// with Python's math and statistics.NormalDist from the formulas in query/lift.h).
#include <gtest/gtest.h>

#include <cmath>
#include <cstdio>
#include <fstream>
#include <sstream>

#include "sim/child_process.h"
#include "support/api_helpers.h"

namespace touchpoint::testing {
namespace {

Headers Admin() { return AdminHeaders(); }
// 2023-11-14T00:00:00Z = 1699920000 (the test server's clock is 22:13 that day).
std::string At(int hour, int minute = 0) { return TimeOnDay(1699920000, hour, minute); }

double Num(simdjson::dom::element e) {
  double d = 0;
  if (e.get_double().get(d)) {
    int64_t i = 0;
    if (!e.get_int64().get(i)) return static_cast<double>(i);
    return NAN;  // null
  }
  return d;
}

// Study "st" on ad a1 (ad a2 is outside it). People by their ad platform user key:
//   test:    t1..t5 impressions at 10:00 with email t<i>@x.example; t6 without an email.
//   control: c1..c5 ghost impressions at 10:00 with email c<i>@x.example; c6 without.
//   c7:      an impression in the test cell AND a ghost in the control cell: left out.
// Conversions (CompletePayment through the Events API, matched by email):
//   t1 12:00 (30). t2 12:00 (10) and 13:00 (5). t3 09:00 (before entering: not counted).
//   t4 clicks a1 (click id K4) and buys at 12:00 with only ttclid=K4, no email: a click id
//      exists only where ads were shown, so lift does not match by it (t4 is no converter).
//   c1 12:00 (20). c3 a PageView only (not a conversion).
// So, people with a match key: test 5 (t1..t5), control 5 (c1..c5); unmatchable: 1 and 1.
//   test converters 2 (t1, t2), conversions 3, value 45, sum of squares 30^2 + 15^2 = 1125;
//   control converters 1, conversions 1, value 20, squares 400.
// Spend: a1 100 USD, a2 50 USD on 2023-11-14.
class LiftApiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = srv_.Client();
    auto pr = c.Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Admin());
    Json p(pr->body);
    pixel_ = std::string(p["pixel_id"].get_string().value());
    token_ = std::string(p["access_token"].get_string().value());
    std::string ads;
    auto ad = [&](const std::string& user, const std::string& extra) {
      ads += R"({"type":"impression","ad_id":"a1","event_time":)" + At(10) + R"(,"user_key":")" +
             user + "\"" + extra + "}\n";
    };
    for (int i = 1; i <= 6; ++i) {
      const std::string email =
          i <= 5 ? R"(,"email":"t)" + std::to_string(i) + R"(@x.example")" : "";
      ad("t" + std::to_string(i), email + R"(,"study_id":"st","cell":"test")");
    }
    for (int i = 1; i <= 6; ++i) {
      const std::string email =
          i <= 5 ? R"(,"email":"c)" + std::to_string(i) + R"(@x.example")" : "";
      ad("c" + std::to_string(i), email + R"(,"study_id":"st","cell":"control","ghost":true)");
    }
    ad("c7", R"(,"email":"c7@x.example","study_id":"st","cell":"test")");
    ad("c7", R"(,"email":"c7@x.example","study_id":"st","cell":"control","ghost":true)");
    ads += R"({"type":"click","ad_id":"a1","event_time":)" + At(10, 1) +
           R"(,"user_key":"t4","click_id":"K4","study_id":"st","cell":"test"})"
           "\n";
    ads += R"({"type":"impression","ad_id":"a2","event_time":)" + At(10) +
           R"(,"user_key":"t1"})"
           "\n";
    auto ar = c.Request("POST", "/api/v1/ad-events", ads, Admin());
    ASSERT_EQ(Json(ar->body)["accepted"].get_int64().value(), 16) << ar->body;

    std::string data;
    int n = 0;
    auto buy = [&](const std::string& user_json, const std::string& t, double value,
                   const char* event = "CompletePayment") {
      data += std::string(data.empty() ? "" : ",") + R"({"event":")" + event +
              R"(","event_id":"e)" + std::to_string(++n) + R"(","event_time":)" + t +
              R"(,"user":)" + user_json;
      if (value > 0)
        data += R"(,"properties":{"value":)" + std::to_string(value) + R"(,"currency":"USD"})";
      data += "}";
    };
    buy(R"({"email":"t1@x.example"})", At(12), 30);
    buy(R"({"email":"T2@x.example "})", At(12), 10);  // normalised as at ingest
    buy(R"({"email":"t2@x.example"})", At(13), 5);
    buy(R"({"email":"t3@x.example"})", At(9), 40);
    buy(R"({"ttclid":"K4","ttp":"cookie-t4"})", At(12), 25);
    buy(R"({"email":"c1@x.example"})", At(12), 20);
    buy(R"({"email":"c3@x.example"})", At(12), 0, "PageView");
    auto tr = c.Request(
        "POST", "/open_api/v1.3/event/track/",
        R"({"event_source":"web","event_source_id":")" + pixel_ + R"(","data":[)" + data + "]}",
        {{"Access-Token", token_}});
    ASSERT_EQ(Json(tr->body)["code"].get_int64().value(), 0) << tr->body;
    auto sr = c.Request("PUT", "/api/v1/spend",
                        "date,ad_id,spend,currency\n2023-11-14,a1,100,USD\n2023-11-14,a2,50,USD\n",
                        Admin());
    ASSERT_EQ(sr->status, 200) << sr->body;
  }
  server::ClientResponse Get(const std::string& path) {
    auto r = srv_.Client().Request("GET", path, "", Admin());
    EXPECT_TRUE(r.ok());
    return *r;
  }

  TestServer srv_;
  std::string pixel_, token_;
};

TEST_F(LiftApiTest, CountsTheStudysPeopleAndMatchedConversions) {
  auto r = Get("/api/v1/lift?study=st");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  EXPECT_EQ(j["test"]["people"].get_int64().value(), 5);
  EXPECT_EQ(j["test"]["converters"].get_int64().value(), 2);
  EXPECT_EQ(j["test"]["conversions"].get_int64().value(), 3);
  EXPECT_DOUBLE_EQ(Num(j["test"]["value"]), 45);
  EXPECT_EQ(j["test"]["unmatchable_people"].get_int64().value(), 1);
  EXPECT_EQ(j["control"]["people"].get_int64().value(), 5);
  EXPECT_EQ(j["control"]["converters"].get_int64().value(), 1);
  EXPECT_DOUBLE_EQ(Num(j["control"]["value"]), 20);
  EXPECT_EQ(j["control"]["unmatchable_people"].get_int64().value(), 1);
  EXPECT_EQ(j["people_in_both_cells"].get_int64().value(), 1);
  EXPECT_DOUBLE_EQ(Num(j["test"]["conversion_rate"]), 0.4);
  EXPECT_DOUBLE_EQ(Num(j["control"]["conversion_rate"]), 0.2);
  // lift 0.4 / 0.2 - 1 = 1; Katz se = sqrt(1/2 - 1/5 + 1/1 - 1/5) = sqrt(1.1).
  EXPECT_NEAR(Num(j["lift"]["value"]), 1, 1e-12);
  EXPECT_NEAR(Num(j["lift"]["ci95_low"]), -0.7439750526130946, 1e-9);
  EXPECT_NEAR(Num(j["lift"]["ci95_high"]), 14.623477480712818, 1e-7);
  // pooled p = 0.3, se = sqrt(0.3 * 0.7 * 2/5), z = 0.2 / se.
  EXPECT_NEAR(Num(j["p_value"]), 0.490152960415825, 1e-9);
  EXPECT_NEAR(Num(j["incremental_conversions"]["value"]), 1, 1e-12);  // (0.4 - 0.2) x 5
  // value per person 9 and 4, variances 180 and 80: (5 -+ 1.96 sqrt(36 + 16)) x 5.
  EXPECT_NEAR(Num(j["incremental_value"]["value"]), 25, 1e-9);
  EXPECT_NEAR(Num(j["incremental_value"]["ci95_low"]), -45.66750644321872, 1e-7);
  EXPECT_NEAR(Num(j["incremental_value"]["ci95_high"]), 95.66750644321871, 1e-7);
  EXPECT_DOUBLE_EQ(Num(j["spend"]), 100);  // a1's only: a2 is not the study's
  EXPECT_NEAR(Num(j["iroas"]["value"]), 0.25, 1e-12);
  EXPECT_NEAR(Num(j["iroas"]["ci95_low"]), -0.4566750644321872, 1e-9);
  EXPECT_EQ(j["ads"].get_array().value().size(), 1u);
}

TEST_F(LiftApiTest, GhostImpressionsAreNeverImpressionsOrTouches) {
  // a1's impressions: t1..t6 and c7's shown one (7); the 6 + 1 ghosts are not.
  auto r = Get("/api/v1/report?from=2023-11-14&to=2023-11-14&dimensions=ad&metrics=impressions");
  ASSERT_EQ(r.status, 200) << r.body;
  Json j(r.body);
  bool seen = false;
  simdjson::dom::array rows;
  ASSERT_FALSE(j.root["rows"].get_array().get(rows)) << r.body;
  for (auto row : rows) {
    if (row["dimensions"]["ad"].get_string().value() != "a1") continue;
    seen = true;
    EXPECT_DOUBLE_EQ(Num(row["metrics"]["impressions"]), 7) << r.body;
  }
  EXPECT_TRUE(seen) << r.body;
}

TEST_F(LiftApiTest, ListsStudiesAndNamesWhatIsMissing) {
  auto listed = Get("/api/v1/lift");
  Json list(listed.body);
  simdjson::dom::array studies;
  ASSERT_FALSE(list.root["studies"].get_array().get(studies)) << listed.body;
  ASSERT_EQ(studies.size(), 1u);
  EXPECT_EQ(studies.at(0)["study"].get_string().value(), "st");
  EXPECT_EQ(studies.at(0)["ghost_impressions"].get_int64().value(), 7);
  auto missing = Get("/api/v1/lift?study=nope");
  EXPECT_EQ(missing.status, 404);
  EXPECT_NE(missing.body.find("no ad event with study_id nope"), std::string::npos);
  EXPECT_EQ(Get("/api/v1/lift?study=st&bogus=1").status, 400);
  auto other_event = Get("/api/v1/lift?study=st&event=PageView");  // c3's page view counts
  Json o(other_event.body);
  EXPECT_EQ(o["control"]["converters"].get_int64().value(), 1) << other_event.body;
  EXPECT_EQ(o["test"]["converters"].get_int64().value(), 0) << other_event.body;
}

TEST_F(LiftApiTest, AdEventsWithBadStudyFieldsAreRefusedByName) {
  auto c = srv_.Client();
  auto check = [&](const std::string& extra, const std::string& want) {
    auto r = c.Request("POST", "/api/v1/ad-events",
                       R"({"type":"impression","ad_id":"a1","event_time":)" + At(11) +
                           R"(,"user_key":"z")" + extra + "}",
                       Admin());
    EXPECT_NE(r->body.find(want), std::string::npos) << extra << " -> " << r->body;
  };
  check(R"(,"cell":"test")", "study_id: required with cell");
  check(R"(,"study_id":"st")", "cell: required with study_id");
  check(R"(,"study_id":"st","cell":"both")", "cell: must be test or control");
  check(R"(,"study_id":"st","cell":"test","ghost":true)", "ghost: only the control cell");
  check(R"(,"study_id":"st","cell":"control","ghost":"yes")", "ghost: must be true or false");
}

TEST_F(LiftApiTest, PlannerAndGeoAnswer) {
  // The planner's formula worked by hand in tests/unit/lift_test.cc: 2 % -> 2.2 %: 80682 each.
  auto plan = Get("/api/v1/lift/plan?baseline_rate=0.02&min_lift=0.1&people_per_day=10000");
  ASSERT_EQ(plan.status, 200) << plan.body;
  Json p(plan.body);
  EXPECT_EQ(p["test_people"].get_int64().value(), 80682);
  EXPECT_EQ(p["control_people"].get_int64().value(), 80682);
  EXPECT_EQ(p["days"].get_int64().value(), 17);  // ceil(161364 / 10000)
  auto bad = Get("/api/v1/lift/plan?min_lift=0.1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("baseline_rate: required"), std::string::npos) << bad.body;
  EXPECT_EQ(Get("/api/v1/lift/plan?baseline_rate=2&min_lift=0.1").status, 400);

  // The geo example of tests/unit/lift_test.cc: DiD 10 per region, 40 in all, p = 2/70.
  std::string regions;
  for (int i = 1; i <= 4; ++i) {
    regions += std::string(regions.empty() ? "" : ",") + R"({"name":"c)" + std::to_string(i) +
               R"(","cell":"control","pre":100,"post":)" + std::to_string(100 + i) + "}";
    regions += R"(,{"name":"t)" + std::to_string(i) + R"(","cell":"test","pre":100,"post":)" +
               std::to_string(110 + i) + "}";
  }
  auto geo = srv_.Client().Request("POST", "/api/v1/lift/geo", R"({"regions":[)" + regions + "]}",
                                   Admin());
  ASSERT_EQ(geo->status, 200) << geo->body;
  Json g(geo->body);
  EXPECT_NEAR(Num(g["incremental"]["value"]), 40, 1e-9);
  EXPECT_NEAR(Num(g["p_value"]), 2.0 / 70, 1e-12);
  EXPECT_TRUE(g["exact"].get_bool().value());
  auto bad_geo = srv_.Client().Request(
      "POST", "/api/v1/lift/geo", R"({"regions":[{"name":"x","cell":"maybe","pre":1,"post":2}]})",
      Admin());
  EXPECT_EQ(bad_geo->status, 400);
  EXPECT_NE(bad_geo->body.find("regions[0].cell: must be test or control"), std::string::npos)
      << bad_geo->body;
}

}  // namespace
}  // namespace touchpoint::testing

namespace touchpoint::testing {
namespace {

std::string ReadAll(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The command line: `touchpoint lift` asks the server and prints the verdict; `lift plan` and
// `lift geo` compute locally.
TEST_F(LiftApiTest, CommandLineAsksTheServerAndPlans) {
  const std::string bin = sim::testing::TouchpointBinary();
  ASSERT_FALSE(bin.empty());
  const std::string out = ::testing::TempDir() + "lift_cli.out";
  std::remove(out.c_str());
  ASSERT_EQ(sim::testing::Run({bin, "lift", "--server", srv_.url(), "--admin-token", kAdminToken,
                               "--study", "st"},
                              out),
            0)
      << ReadAll(out);
  const std::string text = ReadAll(out);
  EXPECT_NE(text.find("lift +100.0% (95% interval -74.4% .. +1462.3%), p = 0.4902"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("No difference beyond chance yet"), std::string::npos) << text;
  EXPECT_NE(text.find("Left out: 1 people in both cells, 2 without an email or phone"),
            std::string::npos)
      << text;

  std::remove(out.c_str());
  ASSERT_EQ(
      sim::testing::Run({bin, "lift", "plan", "--baseline-rate", "0.02", "--min-lift", "0.1"}, out),
      0)
      << ReadAll(out);
  EXPECT_NE(ReadAll(out).find("\"test_people\":80682"), std::string::npos) << ReadAll(out);

  const std::string regions = ::testing::TempDir() + "lift_regions.json";
  {
    std::ofstream f(regions);
    f << R"({"regions":[{"name":"a","cell":"test","pre":10,"post":20},)"
         R"({"name":"b","cell":"test","pre":10,"post":21},)"
         R"({"name":"c","cell":"control","pre":10,"post":11},)"
         R"({"name":"d","cell":"control","pre":10,"post":12}]})";
  }
  std::remove(out.c_str());
  // Changes 10, 11 against 1, 2: DiD 9 per region, 18 over the two test regions; of the
  // C(4,2) = 6 assignments two reach |9|: p = 1/3.
  ASSERT_EQ(sim::testing::Run({bin, "lift", "geo", regions}, out), 0) << ReadAll(out);
  const std::string geo = ReadAll(out);
  EXPECT_NE(geo.find("\"incremental\":{\"value\":18"), std::string::npos) << geo;
  EXPECT_NE(geo.find("\"permutations\":6"), std::string::npos) << geo;
}

}  // namespace
}  // namespace touchpoint::testing
