// Conversion events (docs/metrics.md#conversion-events): each campaign judged on its own event
// by default, a pixel's configured events, the explicit override, several events side by side,
// and funnels' "conversion" step. Numbers worked out by hand from the journeys below.
#include <gtest/gtest.h>

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

// Two campaigns: "shop" (no optimisation event: judged on what the pixel counts, purchases by
// default) with ad s1, and "signup" (optimization_event CompleteRegistration) with ad r1.
//   u1: clicks s1 10:00; AddToCart 11:00; CompletePayment 12:00 (40).
//   u2: clicks r1 10:00; AddToCart 10:30; CompleteRegistration 11:00.
//   u3: clicks s1 10:00, then r1 10:30; CompleteRegistration 11:00; CompletePayment 12:00 (10).
// Last touch. Judged by campaign, u3's payment goes to s1 (r1's campaign does not count
// payments, so r1's later click is not in its journey) and u3's sign-up to r1.
class ConversionEventsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto c = srv_.Client();
    ASSERT_EQ(c.Request("PUT", "/api/v1/catalog",
                        R"({"campaigns":[
      {"campaign_id":"shop","adgroups":[{"adgroup_id":"gs","ads":[
        {"ad_id":"s1","landing_url":"https://shop.example/s"}]}]},
      {"campaign_id":"signup","optimization_event":"CompleteRegistration","adgroups":[
        {"adgroup_id":"gr","ads":[{"ad_id":"r1","landing_url":"https://shop.example/r"}]}]}]})",
                        Admin())
                  ->status,
              200);
    auto pr = c.Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Admin());
    Json p(pr->body);
    pixel_ = std::string(p["pixel_id"].get_string().value());
    token_ = std::string(p["access_token"].get_string().value());
    std::string ads;
    auto click = [&](const char* user, const char* ad, const char* id, std::string t) {
      ads += std::string("{\"type\":\"click\",\"ad_id\":\"") + ad + "\",\"event_time\":" + t +
             ",\"user_key\":\"" + user + "\",\"click_id\":\"" + id + "\"}\n";
    };
    click("u1", "s1", "K1", At(10));
    click("u2", "r1", "K2", At(10));
    click("u3", "s1", "K3", At(10));
    click("u3", "r1", "K4", At(10, 30));
    auto ar = c.Request("POST", "/api/v1/ad-events", ads, Admin());
    ASSERT_EQ(Json(ar->body)["accepted"].get_int64().value(), 4) << ar->body;
    std::string data;
    int n = 0;
    auto event = [&](const char* name, const char* cookie, std::string t, const char* extra) {
      data += std::string(data.empty() ? "" : ",") + R"({"event":")" + name + R"(","event_id":"e)" +
              std::to_string(++n) + R"(","event_time":)" + t + R"(,"user":{"ttp":")" + cookie +
              "\"}" + extra + "}";
    };
    event("PageView", "c1", At(10, 1), R"(,"page":{"url":"https://shop.example/s?ttclid=K1"})");
    event("AddToCart", "c1", At(11), "");
    event("CompletePayment", "c1", At(12), R"(,"properties":{"value":40,"currency":"USD"})");
    event("PageView", "c2", At(10, 1), R"(,"page":{"url":"https://shop.example/r?ttclid=K2"})");
    event("AddToCart", "c2", At(10, 30), "");
    event("CompleteRegistration", "c2", At(11), "");
    event("PageView", "c3", At(10, 1), R"(,"page":{"url":"https://shop.example/s?ttclid=K3"})");
    event("PageView", "c3", At(10, 31), R"(,"page":{"url":"https://shop.example/r?ttclid=K4"})");
    event("CompleteRegistration", "c3", At(11), "");
    event("CompletePayment", "c3", At(12), R"(,"properties":{"value":10,"currency":"USD"})");
    auto tr = c.Request(
        "POST", "/open_api/v1.3/event/track/",
        R"({"event_source":"web","event_source_id":")" + pixel_ + R"(","data":[)" + data + "]}",
        {{"Access-Token", token_}});
    ASSERT_EQ(Json(tr->body)["code"].get_int64().value(), 0) << tr->body;
  }
  Json Get(const std::string& path) {
    auto r = srv_.Client().Request("GET", path, "", Admin());
    EXPECT_EQ(r->status, 200) << r->body;
    return Json(r->body);
  }
  // ad -> metric, from a report by ad.
  std::map<std::string, double> ByAd(const std::string& extra, const char* metric) {
    Json j = Get("/api/v1/report?from=2023-11-14&to=2023-11-14&dimensions=ad" + extra);
    std::map<std::string, double> out;
    simdjson::dom::array rows = j["rows"].get_array().value();  // kept: value() of a temporary
    for (auto row : rows)
      out[std::string(row["dimensions"]["ad"].get_string().value())] =
          row["metrics"][metric].get_double().value();
    return out;
  }

  TestServer srv_;
  std::string pixel_, token_;
};

TEST_F(ConversionEventsTest, EachCampaignIsJudgedOnItsOwnEventByDefault) {
  auto conv = ByAd("", "conversions");
  EXPECT_EQ(conv["s1"], 2);  // u1's and u3's payments
  EXPECT_EQ(conv["r1"], 2);  // u2's and u3's sign-ups
  auto value = ByAd("", "value");
  EXPECT_EQ(value["s1"], 50);
  EXPECT_EQ(value["r1"], 0);
  Json j = Get("/api/v1/report?from=2023-11-14&to=2023-11-14");
  EXPECT_EQ(j["conversion_events"].get_string().value(), "campaign");
}

TEST_F(ConversionEventsTest, AnExplicitEventOverridesEveryCampaignsOwn) {
  auto conv = ByAd("&event=CompletePayment", "conversions");
  EXPECT_EQ(conv["s1"], 1);  // u1
  EXPECT_EQ(conv["r1"], 1);  // u3's payment: r1 was the last click
  conv = ByAd("&events=CompleteRegistration,AddToCart", "conversions");
  EXPECT_EQ(conv["s1"], 1);  // u1's cart
  EXPECT_EQ(conv["r1"], 3);  // u2's cart and sign-up, u3's sign-up
  auto r = srv_.Client().Request("GET", "/api/v1/report?event=A,B", "", Admin());
  EXPECT_EQ(r->status, 400) << r->body;
}

TEST_F(ConversionEventsTest, APixelsConversionEventsAreSetThroughTheApi) {
  auto c = srv_.Client();
  const std::string path = "/api/v1/pixels/" + pixel_ + "/conversion_events";
  Json before = Get(path);
  EXPECT_TRUE(before["default"].get_bool().value());
  auto put = c.Request("PUT", path, R"({"events":["AddToCart"]})", Admin());
  ASSERT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(Json(put->body)["events"].at(0).get_string().value(), "AddToCart");
  // The shop campaign now counts carts; the sign-up campaign keeps its own event.
  auto conv = ByAd("", "conversions");
  EXPECT_EQ(conv["s1"], 1);  // u1's cart (u2's cart has no touch of the shop campaign)
  EXPECT_EQ(conv["r1"], 2);
  Json pixels = Get("/api/v1/pixels");
  EXPECT_EQ(pixels["pixels"].at(0)["conversion_events"].at(0).get_string().value(), "AddToCart");
  // Bad bodies and unknown pixels are refused; an empty list restores purchases.
  EXPECT_EQ(c.Request("PUT", path, R"({"events":"AddToCart"})", Admin())->status, 400);
  EXPECT_EQ(c.Request("PUT", path, R"({"events":[""]})", Admin())->status, 400);
  EXPECT_EQ(c.Request("PUT", path, R"({"event":[]})", Admin())->status, 400);
  EXPECT_EQ(c.Request("PUT", path, R"({"events":[]})")->status, 401);
  EXPECT_EQ(c.Request("GET", "/api/v1/pixels/nope/conversion_events", "", Admin())->status, 404);
  ASSERT_EQ(c.Request("PUT", path, R"({"events":[]})", Admin())->status, 200);
  EXPECT_EQ(ByAd("", "conversions")["s1"], 2);
}

TEST_F(ConversionEventsTest, SeveralEventsAreColumnsSideBySide) {
  Json j =
      Get("/api/v1/report?from=2023-11-14&to=2023-11-14&dimensions=ad&sort=ad"
          "&event_columns=CompletePayment,CompleteRegistration,AddToCart");
  auto rows = j["rows"].get_array().value();
  ASSERT_EQ(rows.size(), 2u);
  auto col = [](simdjson::dom::element row, const char* event, const char* what) {
    return row["by_event"][event][what].get_double().value();
  };
  auto r1 = rows.at(0).value(), s1 = rows.at(1).value();
  ASSERT_EQ(s1["dimensions"]["ad"].get_string().value(), "s1");
  // Each column counts its event for every campaign, as event= would.
  EXPECT_EQ(col(s1, "CompletePayment", "conversions"), 1);
  EXPECT_EQ(col(s1, "CompletePayment", "value"), 40);
  EXPECT_EQ(col(s1, "CompleteRegistration", "conversions"), 0);
  EXPECT_EQ(col(s1, "AddToCart", "conversions"), 1);
  EXPECT_EQ(col(r1, "CompletePayment", "conversions"), 1);
  EXPECT_EQ(col(r1, "CompletePayment", "value"), 10);
  EXPECT_EQ(col(r1, "CompleteRegistration", "conversions"), 2);
  EXPECT_EQ(col(r1, "AddToCart", "conversions"), 1);
  EXPECT_EQ(j["totals_by_event"]["CompleteRegistration"]["conversions"].get_double().value(), 2);
  // The main conversions column still judges each campaign on its own event.
  EXPECT_EQ(s1["metrics"]["conversions"].get_double().value(), 2);

  auto csv = srv_.Client().Request(
      "GET",
      "/api/v1/report?from=2023-11-14&to=2023-11-14&dimensions=ad&sort=ad&format=csv"
      "&metrics=conversions&event_columns=CompletePayment,AddToCart",
      "", Admin());
  ASSERT_EQ(csv->status, 200);
  EXPECT_EQ(csv->body,
            "ad,conversions,conversions:CompletePayment,value:CompletePayment,"
            "conversions:AddToCart,value:AddToCart\n"
            "r1,2,1,10,1,0\n"
            "s1,2,1,40,1,0\n");
}

TEST_F(ConversionEventsTest, FunnelsConversionStepIsTheCampaignsOwnEvent) {
  auto counts = [&](const std::string& extra) {
    Json j = Get(
        "/api/v1/funnel?from=2023-11-14&to=2023-11-14&steps=click,conversion&breakdown=campaign" +
        extra);
    std::map<std::string, int64_t> out;
    simdjson::dom::array groups = j["groups"].get_array().value();
    for (auto g : groups)
      out[std::string(g["value"].get_string().value())] =
          g["steps"].at(1)["count"].get_int64().value();
    return out;
  };
  auto own = counts("");
  EXPECT_EQ(own["shop"], 2);    // u1 and u3 (entered on s1) paid
  EXPECT_EQ(own["signup"], 1);  // u2 signed up
  auto paid = counts("&event=CompletePayment");
  EXPECT_EQ(paid["shop"], 2);
  EXPECT_EQ(paid["signup"], 0);
}

}  // namespace
}  // namespace touchpoint::testing
