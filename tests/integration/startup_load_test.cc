// Listening at once (docs/operations.md#start-up): a server starts on a data directory holding
// events and serves ingest, management and the event debugger while its query side is still
// loading them; reports, funnels and insights answer 503 + Retry-After with the load's progress,
// /healthz says "loading" (200: the collector stays in rotation) and /metrics shows it. Once the
// load is done, the report counts the stored events and those sent meanwhile, each exactly once.
//
// The load is held between two chunks by LoadOptions::before_chunk_for_testing until the test
// releases it, so what is seen "during the load" is deterministic.
#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <future>
#include <random>

#include "support/test_server.h"

namespace touchpoint::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
Headers Admin() { return {{"Authorization", std::string("Bearer ") + kAdminToken}}; }

constexpr int64_t kNowMs = 1700000000000;  // 2023-11-14T22:13:20Z
constexpr int kStoredImpressions = 39;     // + 1 stored purchase: 40 events
const std::string kDay = "from=2023-11-14&to=2023-11-14";

std::string At(int64_t seconds_before_now) {
  return std::to_string(kNowMs / 1000 - seconds_before_now);
}

std::string Impression(const std::string& user, int64_t seconds_before_now) {
  return R"({"type":"impression","ad_id":"a1","event_time":)" + At(seconds_before_now) +
         R"(,"user_key":")" + user + R"("})";
}

std::string Purchase(const std::string& pixel, const std::string& order, const std::string& ttp) {
  return R"({"event_source":"web","event_source_id":")" + pixel +
         R"(","data":[{"event":"CompletePayment","event_id":")" + order + R"(","event_time":)" +
         At(600) + R"(,"user":{"ttp":")" + ttp +
         R"("},"properties":{"value":10,"currency":"USD"}}]})";
}

class StartupLoadTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = std::filesystem::temp_directory_path() /
           ("tp_startup_load_" + std::to_string(std::random_device{}()));
    // A first run stores 39 impressions and a purchase (with no ad touch: unattributed).
    TestServer first(kNowMs, store::StoreOptions{.data_dir = dir_.string()});
    auto c = first.Client();
    auto p = c.Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Admin());
    ASSERT_EQ(p->status, 201) << p->body;
    Json pj(p->body);
    pixel_ = std::string(pj["pixel_id"].get_string().value());
    token_ = std::string(pj["access_token"].get_string().value());
    std::string ndjson;
    for (int i = 0; i < kStoredImpressions; ++i)
      ndjson += Impression("stored" + std::to_string(i), 3600 + i) + "\n";
    auto ads = c.Request("POST", "/api/v1/ad-events", ndjson, Admin());
    ASSERT_EQ(Json(ads->body)["accepted"].get_int64().value(), kStoredImpressions) << ads->body;
    auto pay = c.Request("POST", "/open_api/v1.3/event/track/", Purchase(pixel_, "o1", "c1"),
                         {{"Access-Token", token_}});
    ASSERT_EQ(Json(pay->body)["code"].get_int64().value(), 0) << pay->body;
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  // What the server answers while its load is held at 16 of the 40 stored events.
  void DuringTheLoad(TestServer& srv) {
    auto c = srv.Client();

    // Ingest is accepted: ad events, the Events API (a new purchase and a copy of the stored one),
    // and the pixel's GIF.
    std::string ndjson = Impression("late1", 60) + "\n" + Impression("late2", 50) + "\n" +
                         Impression("late3", 40) + "\n";
    auto ads = c.Request("POST", "/api/v1/ad-events", ndjson, Admin());
    ASSERT_EQ(ads->status, 200) << ads->body;
    EXPECT_EQ(Json(ads->body)["accepted"].get_int64().value(), 3) << ads->body;
    auto pay = c.Request("POST", "/open_api/v1.3/event/track/", Purchase(pixel_, "o2", "c2"),
                         {{"Access-Token", token_}});
    ASSERT_EQ(pay->status, 200) << pay->body;
    EXPECT_EQ(Json(pay->body)["code"].get_int64().value(), 0) << pay->body;
    auto copy = c.Request("POST", "/open_api/v1.3/event/track/", Purchase(pixel_, "o1", "c1"),
                          {{"Access-Token", token_}});
    EXPECT_EQ(Json(copy->body)["code"].get_int64().value(), 0) << copy->body;
    auto gif = c.Request("GET", "/api/v1/pixel.gif?pixel_id=" + pixel_ + "&event=PageView&ttp=c9");
    EXPECT_EQ(gif->status, 200) << gif->body;

    // Reports, funnels and insights: 503, Retry-After, and how far the load is.
    for (std::string path : {"/api/v1/report?" + kDay + "&metrics=impressions",
                             "/api/v1/funnel?" + kDay + "&steps=PageView,CompletePayment",
                             "/api/v1/insights?" + kDay}) {
      auto r = c.Request("GET", path, "", Admin());
      ASSERT_EQ(r->status, 503) << path << ": " << r->body;
      EXPECT_EQ(r->Header("retry-after"), "1") << path;
      Json j(r->body);
      EXPECT_EQ(std::string(j["error"].get_string().value()).rfind("loading: ", 0), 0u) << r->body;
      EXPECT_EQ(j["loading"]["percent"].get_double().value(), 40.0) << r->body;
      EXPECT_EQ(j["loading"]["events_loaded"].get_int64().value(), 16) << r->body;
      EXPECT_EQ(j["loading"]["events_total"].get_int64().value(), 40) << r->body;
    }
    // Still 401 without the token: the loading answer says nothing to strangers.
    EXPECT_EQ(c.Request("GET", "/api/v1/report?metrics=impressions")->status, 401);

    // /healthz: 200 (keep the collector in rotation), "loading" with the percentage.
    auto h = c.Request("GET", "/healthz");
    EXPECT_EQ(h->status, 200);
    Json hj(h->body);
    EXPECT_EQ(hj["status"].get_string().value(), "loading") << h->body;
    EXPECT_EQ(hj["loading"]["percent"].get_double().value(), 40.0) << h->body;
    auto m = c.Request("GET", "/metrics");
    EXPECT_NE(m->body.find("\ntouchpoint_query_loading 1\n"), std::string::npos);
    EXPECT_NE(m->body.find("\ntouchpoint_query_load_events 16\n"), std::string::npos);
    EXPECT_NE(m->body.find("\ntouchpoint_query_load_events_total 40\n"), std::string::npos);
    EXPECT_NE(m->body.find("\ntouchpoint_query_load_ratio 0.4000\n"), std::string::npos);

    // Management and the event debugger work.
    EXPECT_EQ(c.Request("GET", "/api/v1/pixels", "", Admin())->status, 200);
    auto dbg = c.Request("GET", "/api/v1/debug/events", "", Admin());
    EXPECT_EQ(dbg->status, 200) << dbg->body;
    EXPECT_NE(dbg->body.find("late3"), std::string::npos) << dbg->body;
    EXPECT_FALSE(srv.live().loaded());
  }

  std::filesystem::path dir_;
  std::string pixel_, token_;
};

TEST_F(StartupLoadTest, IngestIsServedWhileReportsAnswerLoadingThenCountEveryEventOnce) {
  std::promise<void> reached, release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<Status> done;
  query::LoadOptions load;
  load.chunk_events = 8;
  load.before_chunk_for_testing = [&](uint64_t loaded, uint64_t) {
    if (loaded != 16) return;  // chunks start at 0, 8, 16, ...: hold at 16 of 40 (40 %)
    reached.set_value();
    released.wait();
  };
  load.done = [&](const Status& st) { done.set_value(st); };
  TestServer srv(kNowMs, store::StoreOptions{.data_dir = dir_.string()}, {}, {}, std::move(load));
  reached.get_future().wait();
  auto c = srv.Client();
  // The requests during the load run on a thread of their own: should one of them wait for the
  // load (the feature broken), the test fails after a minute instead of hanging.
  auto during = std::async(std::launch::async, [&] { DuringTheLoad(srv); });
  if (during.wait_for(std::chrono::seconds(60)) != std::future_status::ready)
    ADD_FAILURE() << "a request during the load got no answer: did it wait for the load?";
  release.set_value();
  during.wait();
  ASSERT_TRUE(done.get_future().get().ok());

  auto r =
      c.Request("GET", "/api/v1/report?" + kDay + "&metrics=impressions,conversions", "", Admin());
  ASSERT_EQ(r->status, 200) << r->body;
  Json j(r->body);
  EXPECT_EQ(j["totals"]["impressions"].get_double().value(), kStoredImpressions + 3) << r->body;
  // o1 (stored; its copy sent during the load was a duplicate) and o2 (sent during the load).
  EXPECT_EQ(j["unattributed_conversions"].get_double().value(), 2) << r->body;
  EXPECT_EQ(c.Request("GET", "/healthz")->body, R"({"status":"ok"})");
  auto m = c.Request("GET", "/metrics");
  EXPECT_NE(m->body.find("\ntouchpoint_query_loading 0\n"), std::string::npos);
  EXPECT_NE(m->body.find("\ntouchpoint_query_load_ratio 1.0000\n"), std::string::npos);
}

}  // namespace
}  // namespace touchpoint::testing
