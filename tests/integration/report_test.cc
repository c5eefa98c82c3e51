// Events sent over HTTP -> GET /api/v1/report, checked against numbers worked out by hand.
#include <gtest/gtest.h>

#include "ingest/hashing.h"
#include "query/report_format.h"
#include "support/test_server.h"

namespace touchpoint::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
Headers Admin() { return {{"Authorization", std::string("Bearer ") + kAdminToken}}; }

// 2023-11-14T00:00:00Z = 1699920000.
constexpr int64_t kDay = 1699920000;
std::string At(int hour, int minute = 0) {
  return std::to_string(kDay + hour * 3600 + minute * 60);
}

class ReportTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = srv_.Client();
    ASSERT_EQ(c.Request("PUT", "/api/v1/catalog",
                        R"({"campaigns":[{"campaign_id":"c1","name":"Launch","adgroups":[
      {"adgroup_id":"g1","click_window_days":7,"view_window_days":1,"ads":[
        {"ad_id":"a1","landing_url":"https://shop.example/a","creative":{"format":"video","video_ms":15000,"tags":["humor"]}},
        {"ad_id":"a2","landing_url":"https://shop.example/b","creative":{"format":"image","tags":["straight-pitch"]}}]}]}]})",
                        Admin())
                  ->status,
              200);
    ASSERT_EQ(
        c.Request("PUT", "/api/v1/spend",
                  "date,ad_id,spend\n2023-11-14,a1,100\n2023-11-14,a2,50\n2023-11-13,a1,999\n",
                  Admin())
            ->status,
        200);
    auto pr = c.Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Admin());
    Json p(pr->body);
    pixel_ = std::string(p["pixel_id"].get_string().value());
    token_ = std::string(p["access_token"].get_string().value());
    const std::string e2 = ingest::Sha256Hex("two@example.com");
    auto ads = c.Request(
        "POST", "/api/v1/ad-events",
        "{\"type\":\"impression\",\"ad_id\":\"a1\",\"event_time\":" + At(10) +
            ",\"user_key\":\"u1\",\"age\":\"18-24\",\"gender\":\"female\"}\n"
            "{\"type\":\"click\",\"ad_id\":\"a1\",\"event_time\":" +
            At(10, 1) +
            ",\"user_key\":\"u1\",\"click_id\":\"K1\",\"age\":\"18-24\",\"gender\":\"female\"}\n"
            "{\"type\":\"impression\",\"ad_id\":\"a1\",\"event_time\":" +
            At(10) + ",\"user_key\":\"u2\",\"age\":\"25-34\",\"gender\":\"male\",\"email\":\"" +
            e2 +
            "\"}\n"
            "{\"type\":\"video_play\",\"ad_id\":\"a1\",\"event_time\":" +
            At(10) +
            ",\"user_key\":\"u2\",\"watch_ms\":7000,\"video_ms\":15000,\"age\":\"25-34\","
            "\"gender\":\"male\"}\n"
            "{\"type\":\"impression\",\"ad_id\":\"a2\",\"event_time\":" +
            At(11) +
            ",\"user_key\":\"u3\",\"age\":\"18-24\",\"gender\":\"female\"}\n"
            "{\"type\":\"impression\",\"ad_id\":\"a2\",\"event_time\":" +
            At(11, 30) + ",\"user_key\":\"u3\",\"age\":\"18-24\",\"gender\":\"female\"}\n",
        Admin());
    ASSERT_EQ(Json(ads->body)["accepted"].get_int64().value(), 6) << ads->body;
    std::string body =
        R"({"event_source":"web","event_source_id":")" + pixel_ + R"(","data":[
      {"event":"PageView","event_time":)" +
        At(10, 2) + R"(,"user":{"ttp":"c1"},"page":{"url":"https://shop.example/a?ttclid=K1"}},
      {"event":"CompletePayment","event_id":"o1","event_time":)" +
        At(12) + R"(,"user":{"ttp":"c1"},"properties":{"value":40,"currency":"USD"}},
      {"event":"CompletePayment","event_id":"o2","event_time":)" +
        At(12) +
        R"(,"user":{"ttp":"c2","email":"two@example.com"},"properties":{"value":20,"currency":"USD"}},
      {"event":"CompletePayment","event_id":"o3","event_time":)" +
        At(12) + R"(,"user":{"ttp":"c3"},"properties":{"value":99,"currency":"USD"}}]})";
    auto tr = c.Request("POST", "/open_api/v1.3/event/track/", body, {{"Access-Token", token_}});
    ASSERT_EQ(Json(tr->body)["code"].get_int64().value(), 0) << tr->body;
  }
  Json Report(const std::string& query) {
    auto r = srv_.Client().Request("GET", "/api/v1/report?" + query, "", Admin());
    EXPECT_EQ(r->status, 200) << r->body;
    return Json(r->body);
  }
  static double M(simdjson::dom::element row, const char* name) {
    auto v = row["metrics"][name];
    return v.is_null() ? -1 : v.get_double().value();
  }

  TestServer srv_;
  std::string pixel_, token_;
};

TEST_F(ReportTest, ByAdMatchesHandComputedNumbers) {
  Json j = Report("from=2023-11-14&to=2023-11-14&dimensions=ad&sort=ad");
  EXPECT_EQ(j["model"].get_string().value(), "last_touch");
  EXPECT_EQ(j["basis"].get_string().value(), "touch");
  auto rows = j["rows"].get_array().value();
  ASSERT_EQ(rows.size(), 2u);
  auto a1 = rows.at(0).value(), a2 = rows.at(1).value();
  EXPECT_EQ(a1["dimensions"]["ad"].get_string().value(), "a1");
  EXPECT_EQ(M(a1, "impressions"), 2);
  EXPECT_EQ(M(a1, "reach"), 2);
  EXPECT_EQ(M(a1, "clicks"), 1);
  EXPECT_EQ(M(a1, "ctr"), 50);
  EXPECT_EQ(M(a1, "spend"), 100);  // the 999 of the day before is outside the range
  EXPECT_EQ(M(a1, "video_plays"), 1);
  EXPECT_EQ(M(a1, "video_views_6s"), 1);
  EXPECT_EQ(M(a1, "average_watch_ms"), 7000);
  EXPECT_EQ(M(a1, "conversions"), 2);
  EXPECT_EQ(M(a1, "conversions_click"), 1);
  EXPECT_EQ(M(a1, "conversions_view"), 1);
  EXPECT_EQ(M(a1, "conversions_engaged_view"), 1);
  EXPECT_EQ(M(a1, "value"), 60);
  EXPECT_EQ(M(a1, "cpa"), 50);
  EXPECT_EQ(M(a1, "roas"), 0.6);
  EXPECT_EQ(M(a1, "cvr_click"), 200);
  EXPECT_EQ(M(a2, "impressions"), 2);
  EXPECT_EQ(M(a2, "reach"), 1);
  EXPECT_EQ(M(a2, "frequency"), 2);
  EXPECT_EQ(M(a2, "spend"), 50);
  EXPECT_EQ(M(a2, "conversions"), 0);
  EXPECT_EQ(M(a2, "cpa"), -1);  // null: no conversions
  auto totals = j["totals"];
  EXPECT_EQ(totals["impressions"].get_double().value(), 4);
  EXPECT_EQ(totals["reach"].get_double().value(), 3);
  EXPECT_EQ(totals["spend"].get_double().value(), 150);
  EXPECT_EQ(totals["value"].get_double().value(), 60);
  EXPECT_EQ(j["unattributed_conversions"].get_double().value(), 1);
}

TEST_F(ReportTest, AudienceSplitAllocatesSpendByImpressionShare) {
  Json j = Report("from=2023-11-14&to=2023-11-14&dimensions=ad,age,gender&sort=ad&filter=ad:a1");
  auto rows = j["rows"].get_array().value();
  ASSERT_EQ(rows.size(), 2u);
  std::map<std::string, simdjson::dom::element> by_age;
  for (auto row : rows) by_age[std::string(row["dimensions"]["age"].get_string().value())] = row;
  EXPECT_EQ(M(by_age["18-24"], "spend"), 50);  // 1 of a1's 2 impressions that day
  EXPECT_EQ(M(by_age["18-24"], "conversions_click"), 1);
  EXPECT_EQ(M(by_age["25-34"], "spend"), 50);
  EXPECT_EQ(M(by_age["25-34"], "conversions_view"), 1);
  EXPECT_EQ(j["totals"]["spend"].get_double().value(), 100);
}

TEST_F(ReportTest, ChangingModelWindowsAndBasisIsEchoedAndApplied) {
  Json j = Report(
      "from=2023-11-14&to=2023-11-14&dimensions=ad&model=linear&click_window=1&view_window=0&basis="
      "real_time");
  EXPECT_EQ(j["model"].get_string().value(), "linear");
  EXPECT_EQ(j["click_window_days"].get_int64().value(), 1);
  EXPECT_EQ(j["view_window_days"].get_int64().value(), 0);
  EXPECT_EQ(j["basis"].get_string().value(), "real_time");
  // Views off: only the click-through purchase is attributed.
  EXPECT_EQ(j["totals"]["conversions"].get_double().value(), 1);
  EXPECT_EQ(j["unattributed_conversions"].get_double().value(), 2);
}

// The data-driven models over the API. Journeys by ad: u1 [a1] converts (40: the click beats
// the view), u2 [a1 a1] converts (20, view-through), u3 [a2 a2] does not (c3's 99 has no touch).
// Markov: start->a1 2/3, start->a2 1/3; a1->conv 1, a2->null 1: P = 2/3; without a1 0 (effect
// 1), without a2 still 2/3 (effect 0): a1 takes both conversions and all 60 of their value.
// Shapley: each converting journey has the one channel a1: a1 2 and 60. Either way the rows
// sum to the conversions (2) and the value (60) attributed, as the totals say.
TEST_F(ReportTest, DataDrivenModelsCreditEveryConversionAndItsValue) {
  for (const char* model : {"markov", "shapley"}) {
    SCOPED_TRACE(model);
    auto j = Report(std::string("from=2023-11-14&to=2023-11-14&dimensions=ad&model=") + model);
    EXPECT_EQ(j["model"].get_string().value(), model);
    double conv = 0, value = 0;
    for (auto row : j["rows"].get_array()) {
      const std::string_view ad = row["dimensions"]["ad"].get_string().value();
      EXPECT_DOUBLE_EQ(M(row, "conversions"), ad == "a1" ? 2 : 0) << ad;
      conv += M(row, "conversions");
      value += M(row, "value");
    }
    EXPECT_DOUBLE_EQ(conv, 2);
    EXPECT_DOUBLE_EQ(value, 60);
    EXPECT_DOUBLE_EQ(j["totals"]["conversions"].get_double().value(), 2);
    EXPECT_DOUBLE_EQ(j["totals"]["value"].get_double().value(), 60);
    EXPECT_DOUBLE_EQ(j["unattributed_conversions"].get_double().value(), 1);
    auto fit = j["model_fit"];
    EXPECT_EQ(fit["channel"].get_string().value(), "ad");
    EXPECT_EQ(fit["journeys_converting"].get_int64().value(), 2);
    // Only the chain learns from u3's journey; Shapley's game counts conversions alone.
    if (std::string_view(model) == "markov")
      EXPECT_EQ(fit["journeys_not_converting"].get_int64().value(), 1);
    else
      EXPECT_TRUE(fit["journeys_not_converting"].error());
  }
  auto j = Report("from=2023-11-14&to=2023-11-14&dimensions=ad&model=markov");
  EXPECT_DOUBLE_EQ(j["model_fit"]["conversion_probability"].get_double().value(), 2.0 / 3);
  EXPECT_EQ(
      srv_.Client().Request("GET", "/api/v1/report?model=markov&channel=day", "", Admin())->body,
      R"x({"error":"channel: must be an ad-side dimension (campaign, adgroup, ad, format, length, cta, tag, placement)"})x");
}

TEST_F(ReportTest, CsvHasTheSameNumbers) {
  auto r = srv_.Client().Request("GET",
                                 "/api/v1/"
                                 "report?from=2023-11-14&to=2023-11-14&dimensions=ad&metrics="
                                 "impressions,spend,conversions,value,cpa&sort=ad&format=csv",
                                 "", Admin());
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "text/csv; charset=utf-8");
  EXPECT_EQ(r->body,
            "ad,impressions,spend,conversions,value,cpa\na1,2,100,2,60,50\na2,2,50,0,0,\n");
}

TEST_F(ReportTest, CsvCellsThatWouldRunAsFormulasAreDefused) {
  // An anonymous click can name its own region: it must come out of the CSV as text.
  auto click = srv_.Client().Request(
      "GET", "/c/a1?user_key=u9&region=%3DHYPERLINK(%22https%3A%2F%2Fevil.example%22%2C%22x%22)",
      "");
  ASSERT_EQ(click->status, 302) << click->body;
  auto r = srv_.Client().Request("GET",
                                 "/api/v1/report?from=2023-11-14&to=2023-11-14&dimensions=region"
                                 "&metrics=clicks&sort=region&format=csv",
                                 "", Admin());
  ASSERT_EQ(r->status, 200) << r->body;
  EXPECT_NE(r->body.find("\n\"'=HYPERLINK(\"\"https://evil.example\"\",\"\"x\"\")\",1\n"),
            std::string::npos)
      << r->body;
  EXPECT_EQ(r->body.find("\n=HYPERLINK"), std::string::npos);
  EXPECT_EQ(query::CsvField("@SUM(A1)"), "'@SUM(A1)");
  EXPECT_EQ(query::CsvField("-2+3"), "'-2+3");
  EXPECT_EQ(query::CsvField("+1 555"), "'+1 555");
  EXPECT_EQ(query::CsvField("\tx"), "'\tx");
  EXPECT_EQ(query::CsvField("a,b"), "\"a,b\"");
  EXPECT_EQ(query::CsvField("plain"), "plain");
  EXPECT_EQ(query::CsvField(""), "");
}

TEST_F(ReportTest, CreativeTagsAndBadParameters) {
  Json j = Report(
      "from=2023-11-14&to=2023-11-14&dimensions=tag&metrics=conversions,impressions&sort=tag");
  auto rows = j["rows"].get_array().value();
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows.at(0).value()["dimensions"]["tag"].get_string().value(), "humor");
  EXPECT_EQ(M(rows.at(0).value(), "conversions"), 2);
  auto c = srv_.Client();
  auto bad = c.Request("GET", "/api/v1/report?dimensions=colour", "", Admin());
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, R"({"error":"dimensions: unknown dimension colour"})");
  EXPECT_EQ(
      c.Request("GET", "/api/v1/report?model=magic", "", Admin())->body,
      R"({"error":"model: must be one of last_touch, first_touch, linear, time_decay, position_based, markov, shapley"})");
  EXPECT_EQ(c.Request("GET", "/api/v1/report?click_window=0", "", Admin())->status, 400);
  EXPECT_EQ(c.Request("GET", "/api/v1/report")->status, 401);
}

TEST_F(ReportTest, LateClickRestatesTheReportAtOnce) {
  Json before = Report("from=2023-11-14&to=2023-11-14&dimensions=ad");
  EXPECT_EQ(before["unattributed_conversions"].get_double().value(), 1);
  // The ad log for c3's click arrives late: a click with the click id that c3's landing carried.
  std::string body = R"({"event_source":"web","event_source_id":")" + pixel_ + R"(","data":[
      {"event":"PageView","event_time":)" +
                     At(9) + R"(,"user":{"ttp":"c3","ttclid":"K3"}}]})";
  srv_.Client().Request("POST", "/open_api/v1.3/event/track/", body, {{"Access-Token", token_}});
  srv_.Client().Request("POST", "/api/v1/ad-events",
                        "{\"type\":\"click\",\"ad_id\":\"a2\",\"event_time\":" + At(8, 59) +
                            ",\"user_key\":\"u3\",\"click_id\":\"K3\"}\n",
                        Admin());
  Json after = Report("from=2023-11-14&to=2023-11-14&dimensions=ad&sort=ad");
  EXPECT_EQ(after["unattributed_conversions"].get_double().value(), 0);
  EXPECT_EQ(M(after["rows"].at(1).value(), "conversions_click"), 1);
  EXPECT_EQ(M(after["rows"].at(1).value(), "value"), 99);
}

}  // namespace
}  // namespace touchpoint::testing
