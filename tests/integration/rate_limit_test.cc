// Rate limits of the collection endpoints (docs/operations.md#rate-limits): a flood from one
// client, or through one pixel, is answered 429 with Retry-After and not stored; the limits
// refill with time (the test's clock), and a pixel's own limits come from the management API.
#include <gtest/gtest.h>

#include "server/rate_limiter.h"
#include "support/test_server.h"

namespace touchpoint::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
Headers Admin() { return {{"Authorization", std::string("Bearer ") + kAdminToken}}; }

TEST(RateLimiter, TakesFromAFullBucketThenRefillsAtTheRate) {
  server::RateLimiter limiter;
  const server::RateLimit limit{2, 5};  // 2/s, burst 5
  for (int i = 0; i < 5; ++i) EXPECT_FALSE(limiter.Take("a", limit, 1, 0)) << i;
  auto wait = limiter.Take("a", limit, 1, 0);
  ASSERT_TRUE(wait);
  EXPECT_EQ(*wait, 1);  // one token at 2/s: half a second, rounded up to a whole one
  EXPECT_FALSE(limiter.Take("b", limit, 1, 0));    // another key has its own bucket
  EXPECT_FALSE(limiter.Take("a", limit, 1, 500));  // refilled by one token
  EXPECT_TRUE(limiter.Take("a", limit, 1, 500));
  EXPECT_FALSE(limiter.Take("a", limit, 3, 2000));  // 3 tokens back after 1.5 s
  // A request bigger than the burst passes on a full bucket (and empties it).
  EXPECT_FALSE(limiter.Take("c", limit, 50, 0));
  EXPECT_EQ(limiter.Take("c", limit, 50, 0).value_or(0), 3);     // 5 tokens at 2/s
  EXPECT_FALSE(limiter.Take("d", server::RateLimit{}, 1e9, 0));  // no limit
}

TEST(RateLimiter, HoldsABoundedNumberOfBuckets) {
  server::RateLimiter limiter(1000);
  const server::RateLimit limit{1, 1};
  for (int i = 0; i < 100000; ++i) (void)limiter.Take("10.0." + std::to_string(i), limit, 1, 0);
  EXPECT_LE(limiter.size(), 1000u + 16u);
}

class RateLimitTest : public ::testing::Test {
 protected:
  static server::ApiOptions Limits() {
    server::ApiOptions o;
    o.rate_limits.per_client = {5, 20};            // 5/s, burst 20
    o.rate_limits.anonymous_per_pixel = {10, 40};  // per pixel, through the browser
    o.rate_limits.server_per_pixel = {100, 150};   // per pixel, with the access token
    o.limit_loopback_clients = true;               // the test's client is on loopback
    return o;
  }
  RateLimitTest() : srv_(1700000000000, {}, Limits()) {}
  void SetUp() override {
    auto r = srv_.Client().Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Admin());
    ASSERT_EQ(r->status, 201) << r->body;
    Json p(r->body);
    pixel_ = std::string(p["pixel_id"].get_string().value());
    token_ = std::string(p["access_token"].get_string().value());
  }
  std::string Beacon(const std::string& event_id) {
    return R"({"pixel_id":")" + pixel_ + R"(","event":"PageView","event_id":")" + event_id + "\"}";
  }
  size_t Stored() {
    auto r = srv_.Client().Request("GET", "/api/v1/export?pixel_id=" + pixel_, "", Admin());
    return static_cast<size_t>(std::count(r->body.begin(), r->body.end(), '\n'));
  }
  long long Rejected(const std::string& reason) {
    auto m = srv_.Client().Request("GET", "/metrics", "");
    std::string series = "touchpoint_events_rejected_total{reason=\"" + reason + "\"} ";
    size_t at = m->body.find(series);
    return at == std::string::npos ? 0 : std::stoll(m->body.substr(at + series.size()));
  }

  TestServer srv_;
  std::string pixel_, token_;
};

TEST_F(RateLimitTest, ABeaconFloodFromOneClientIsAnswered429AndNotStored) {
  auto c = srv_.Client();
  int ok = 0, limited = 0;
  std::string retry_after;
  for (int i = 0; i < 60; ++i) {
    auto r = c.Request("POST", "/api/v1/pixel", Beacon("e" + std::to_string(i)));
    if (r->status == 200) ++ok;
    if (r->status == 429) {
      ++limited;
      retry_after = r->Header("retry-after");
      EXPECT_NE(r->body.find("rate limit: more than 5 events/s from this client address"),
                std::string::npos)
          << r->body;
      EXPECT_EQ(r->Header("access-control-allow-origin"), "*");
    }
  }
  EXPECT_EQ(ok, 20);  // the burst; the clock does not move
  EXPECT_EQ(limited, 40);
  EXPECT_EQ(retry_after, "1");
  EXPECT_EQ(Stored(), 20u);
  EXPECT_EQ(Rejected("rate_limited:client"), 40);
  // The limit refills with time: 2 s at 5/s is 10 more.
  srv_.clock().Advance(2000);
  for (int i = 0; i < 12; ++i)
    (void)c.Request("POST", "/api/v1/pixel", Beacon("later" + std::to_string(i)));
  EXPECT_EQ(Stored(), 30u);
  // /healthz is never limited.
  EXPECT_EQ(c.Request("GET", "/healthz", "")->status, 200);
}

TEST_F(RateLimitTest, TheGifStillAnswersAGifAndTheClickStillRedirects) {
  auto c = srv_.Client();
  ASSERT_EQ(c.Request("PUT", "/api/v1/catalog",
                      R"({"campaigns":[{"campaign_id":"c1","adgroups":[{"adgroup_id":"g1","ads":[
                        {"ad_id":"a1","landing_url":"https://shop.example/p"}]}]}]})",
                      Admin())
                ->status,
            200);
  for (int i = 0; i < 20; ++i)
    ASSERT_EQ(
        c.Request("GET", "/api/v1/pixel.gif?pixel_id=" + pixel_ + "&event=PageView", "")->status,
        200)
        << i;
  auto gif = c.Request("GET", "/api/v1/pixel.gif?pixel_id=" + pixel_ + "&event=PageView", "");
  EXPECT_EQ(gif->status, 429);
  EXPECT_EQ(gif->Header("content-type"), "image/gif");
  EXPECT_EQ(gif->body.substr(0, 6), "GIF89a");
  EXPECT_EQ(gif->Header("retry-after"), "1");
  auto click = c.Request("GET", "/c/a1?user_key=u1", "");
  EXPECT_EQ(click->status, 302);  // the person still lands
  EXPECT_EQ(click->Header("location").rfind("https://shop.example/p?ttclid=", 0), 0u);
  auto ads = c.Request("GET", "/api/v1/export?type=ad", "", Admin());
  EXPECT_EQ(ads->body, "");  // but the click was not stored
  EXPECT_EQ(Rejected("rate_limited:client"), 2);
}

TEST_F(RateLimitTest, APixelsAnonymousLimitHoldsAcrossClientsAndIsSetThroughTheApi) {
  auto c = srv_.Client();
  // The pixel's own limit, set through the API, below the client's burst (20): the pixel's is
  // the one that refuses.
  auto get = c.Request("GET", "/api/v1/pixels/" + pixel_ + "/limits", "", Admin());
  ASSERT_EQ(get->status, 200) << get->body;
  EXPECT_EQ(get->body, R"({"pixel_id":")" + pixel_ +
                           R"(","anonymous":{"per_s":10,"burst":40},"server":{"per_s":100,)"
                           R"("burst":150},"max_value":1000000000,"per_client":{"per_s":5,)"
                           R"("burst":20}})");
  auto put = c.Request("PUT", "/api/v1/pixels/" + pixel_ + "/limits",
                       R"({"anonymous":{"per_s":1,"burst":3}})", Admin());
  ASSERT_EQ(put->status, 200) << put->body;
  int ok = 0;
  for (int i = 0; i < 10; ++i)
    ok += c.Request("POST", "/api/v1/pixel", Beacon("p" + std::to_string(i)))->status == 200;
  EXPECT_EQ(ok, 3);
  EXPECT_EQ(Rejected("rate_limited:pixel"), 7);
  // Bad limits are refused with the field named; unknown pixels are 404; admin only.
  auto bad = c.Request("PUT", "/api/v1/pixels/" + pixel_ + "/limits", R"({"server":{"per_s":-1}})",
                       Admin());
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(bad->body, R"({"error":"server.per_s: must be from 0 (no limit) to 10000000"})");
  EXPECT_EQ(
      c.Request("PUT", "/api/v1/pixels/" + pixel_ + "/limits", R"({"burst":1})", Admin())->body,
      R"x({"error":"burst: unknown field (anonymous, server or max_value)"})x");
  EXPECT_EQ(c.Request("GET", "/api/v1/pixels/TPNOPE/limits", "", Admin())->status, 404);
  EXPECT_EQ(c.Request("GET", "/api/v1/pixels/" + pixel_ + "/limits", "")->status, 401);
}

TEST_F(RateLimitTest, ServerTrafficHasItsOwnHigherLimitAndTikTokAnswers40100) {
  auto c = srv_.Client();
  // Exhaust the browser side first: the server side is not affected.
  for (int i = 0; i < 30; ++i)
    (void)c.Request("POST", "/api/v1/pixel", Beacon("b" + std::to_string(i)));
  std::string data;
  for (int i = 0; i < 100; ++i)
    data += std::string(i ? "," : "") +
            R"({"event":"PageView","event_time":1700000000,"event_id":"s)" + std::to_string(i) +
            "\"}";
  auto track = [&] {
    return c.Request(
        "POST", "/open_api/v1.3/event/track/",
        R"({"event_source":"web","event_source_id":")" + pixel_ + R"(","data":[)" + data + "]}",
        {{"Access-Token", token_}});
  };
  auto first = track();  // 100 of the burst of 150
  EXPECT_EQ(first->status, 200) << first->body;
  EXPECT_NE(first->body.find(R"("code":0)"), std::string::npos) << first->body;
  auto second = track();  // 100 more: over
  EXPECT_EQ(second->status, 429);
  EXPECT_NE(second->body.find(R"("code":40100)"), std::string::npos) << second->body;
  EXPECT_EQ(second->Header("retry-after"), "1");
  EXPECT_EQ(Rejected("rate_limited:server"), 100);
}

TEST(RateLimitBehindAProxy, EachClientBehindATrustedProxyHasItsOwnBucket) {
  server::ApiOptions o;
  o.rate_limits.per_client = {5, 20};
  o.trusted_proxies = {*ingest::ParseCidr("127.0.0.0/8")};  // limit_loopback_clients stays off
  TestServer srv(1700000000000, {}, o);
  auto c = srv.Client();
  auto r = c.Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Admin());
  const std::string pixel(Json(r->body)["pixel_id"].get_string().value());
  auto beacon = [&](const std::string& client, int i) {
    return c
        .Request("POST", "/api/v1/pixel",
                 R"({"pixel_id":")" + pixel + R"(","event":"PageView","event_id":")" + client +
                     std::to_string(i) + "\"}",
                 {{"X-Forwarded-For", client}})
        ->status;
  };
  int a_ok = 0;
  for (int i = 0; i < 30; ++i) a_ok += beacon("203.0.113.7", i) == 200;
  EXPECT_EQ(a_ok, 20);  // the proxy's own address is exempt, its clients are not
  EXPECT_EQ(beacon("203.0.113.8", 0), 200);  // another client, its own bucket
  // IPv6 clients are limited by their /64.
  int v6_ok = 0;
  for (int i = 0; i < 30; ++i) v6_ok += beacon("2001:db8:1:2::" + std::to_string(i + 1), i) == 200;
  EXPECT_EQ(v6_ok, 20);
}

TEST_F(RateLimitTest, APixelsMaximumValueIsSetThroughTheApi) {
  auto c = srv_.Client();
  auto beacon = [&](const std::string& value) {
    return c.Request("POST", "/api/v1/pixel",
                     R"({"pixel_id":")" + pixel_ + R"(","event":"CompletePayment","event_id":"v)" +
                         value + R"(","properties":{"value":)" + value + R"(,"currency":"USD"}})");
  };
  EXPECT_EQ(beacon("5000")->status, 200);  // under the default (1e9)
  ASSERT_EQ(
      c.Request("PUT", "/api/v1/pixels/" + pixel_ + "/limits", R"({"max_value":1000})", Admin())
          ->status,
      200);
  auto big = beacon("5001");
  EXPECT_EQ(big->status, 400);
  EXPECT_NE(big->body.find("properties.value: must be at most 1000"), std::string::npos)
      << big->body;
  EXPECT_EQ(beacon("999")->status, 200);
  auto track = c.Request("POST", "/open_api/v1.3/event/track/",
                         R"({"event_source":"web","event_source_id":")" + pixel_ +
                             R"(","data":[{"event":"CompletePayment","event_time":1700000000,)"
                             R"("properties":{"value":2000}}]})",
                         {{"Access-Token", token_}});
  EXPECT_NE(track->body.find("must be at most 1000"), std::string::npos) << track->body;
  EXPECT_EQ(c.Request("PUT", "/api/v1/pixels/" + pixel_ + "/limits", R"({"max_value":-1})", Admin())
                ->status,
            400);
}

}  // namespace
}  // namespace touchpoint::testing
