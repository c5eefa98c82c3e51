// Integration tests over real loopback HTTP: every endpoint's happy path, every rejection with
// its error text, de-duplication across pixel and server, the click redirect, and auth.
#include <gtest/gtest.h>

#include <atomic>
#include <latch>
#include <set>
#include <thread>

#include "ingest/hashing.h"
#include "ingest/ip.h"
#include "support/raw_conn.h"
#include "support/test_server.h"

namespace touchpoint::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;

Headers Admin() { return {{"Authorization", std::string("Bearer ") + kAdminToken}}; }

struct PixelInfo {
  std::string id, token;
};

class ApiTest : public ::testing::Test {
 protected:
  PixelInfo CreatePixel(const std::string& name, const std::string& extra = "") {
    auto c = srv_.Client();
    auto r =
        c.Request("POST", "/api/v1/pixels", R"({"name":")" + name + "\"" + extra + "}", Admin());
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 201) << r->body;
    Json j(r->body);
    return {std::string(j["pixel_id"].get_string().value()),
            std::string(j["access_token"].get_string().value())};
  }
  std::string Track(const PixelInfo& p, const std::string& events, const std::string& token) {
    std::string body =
        R"({"event_source":"web","event_source_id":")" + p.id + R"(","data":[)" + events + "]}";
    auto r = srv_.Client().Request("POST", "/open_api/v1.3/event/track/", body,
                                   {{"Access-Token", token}, {"Content-Type", "application/json"}});
    EXPECT_TRUE(r.ok());
    last_status_ = r->status;
    return r->body;
  }
  std::vector<std::string> Export(const std::string& query) {
    auto r = srv_.Client().Request("GET", "/api/v1/export?" + query, "", Admin());
    EXPECT_TRUE(r.ok());
    EXPECT_EQ(r->status, 200) << r->body;
    std::vector<std::string> lines;
    size_t pos = 0;
    while (pos < r->body.size()) {
      size_t nl = r->body.find('\n', pos);
      lines.push_back(r->body.substr(pos, nl - pos));
      pos = nl + 1;
    }
    return lines;
  }
  std::string Event(const std::string& name, const std::string& event_id,
                    const std::string& extra = "") {
    return R"({"event":")" + name + R"(","event_time":)" + std::to_string(srv_.now_s() - 60) +
           (event_id.empty() ? "" : R"(,"event_id":")" + event_id + "\"") + extra + "}";
  }
  static int64_t Code(const std::string& body) { return Json(body)["code"].get_int64().value(); }
  static std::string Message(const std::string& body) {
    return std::string(Json(body)["message"].get_string().value());
  }

  TestServer srv_;
  int last_status_ = 0;
};

TEST_F(ApiTest, HealthzAndMetricsAnswer) {
  auto c = srv_.Client();
  auto h = c.Request("GET", "/healthz");
  EXPECT_EQ(h->status, 200);
  EXPECT_EQ(h->body, R"({"status":"ok"})");
  auto m = c.Request("GET", "/metrics");
  EXPECT_EQ(m->status, 200);
  EXPECT_NE(m->body.find("touchpoint_commit_queue_events 0"), std::string::npos);
  EXPECT_NE(m->body.find("touchpoint_wal_checkpoints_total 0"), std::string::npos);  // none yet
  EXPECT_NE(m->body.find("touchpoint_wal_restarts_total 0"), std::string::npos);
  EXPECT_NE(m->body.find("touchpoint_wal_restart_seconds_total 0.000000"), std::string::npos);
  EXPECT_NE(m->body.find("touchpoint_http_requests_total{route=\"/healthz\",status=\"200\"} 1"),
            std::string::npos);
}

// The store's latencies are Prometheus histograms: cumulative buckets ending in +Inf = _count.
TEST_F(ApiTest, MetricsHaveLatencyHistograms) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  for (int i = 0; i < 3; ++i) {
    auto r = c.Request(
        "GET", "/api/v1/pixel.gif?pixel_id=" + p.id + "&event=PageView&ttp=c" + std::to_string(i));
    ASSERT_EQ(r->status, 200);
  }
  auto m = c.Request("GET", "/metrics");
  ASSERT_EQ(m->status, 200);
  auto value = [&](const std::string& series) -> double {
    size_t at = m->body.find("\n" + series + " ");
    if (at == std::string::npos) return -1;
    return std::stod(m->body.substr(at + series.size() + 2));
  };
  for (std::string name :
       {"touchpoint_commit_seconds", "touchpoint_wal_sync_seconds", "touchpoint_write_seconds"}) {
    EXPECT_NE(m->body.find("# TYPE " + name + " histogram\n"), std::string::npos) << name;
    double previous = 0;
    size_t buckets = 0;
    for (size_t at = m->body.find(name + "_bucket{le=\""); at != std::string::npos;
         at = m->body.find(name + "_bucket{le=\"", at + 1)) {
      double v = std::stod(m->body.substr(m->body.find("} ", at) + 2));
      EXPECT_GE(v, previous) << name << ": buckets must be cumulative";
      previous = v;
      ++buckets;
    }
    EXPECT_EQ(buckets, store::LatencyHistogram::kBoundsMs.size() + 1) << name;
    EXPECT_EQ(value(name + "_bucket{le=\"+Inf\"}"), value(name + "_count")) << name;
  }
  EXPECT_GT(value("touchpoint_commit_seconds_sum"), 0);
  EXPECT_GT(value("touchpoint_write_seconds_sum"), 0);
  EXPECT_EQ(value("touchpoint_wal_sync_seconds_count"), 0);  // the test server does not fsync
  // Each of the three pixel requests was one write; commits and syncs as the store counted them.
  EXPECT_EQ(value("touchpoint_write_seconds_count"), 3);
  EXPECT_EQ(value("touchpoint_commit_seconds_count"), value("touchpoint_commits_total"));
  EXPECT_GT(value("touchpoint_write_seconds_max"), 0);
  EXPECT_NE(m->body.find("touchpoint_commit_seconds_bucket{le=\"5e-05\"}"), std::string::npos);
}

TEST_F(ApiTest, PixelsAreCreatedAndListedWithAdminTokenOnly) {
  auto p = CreatePixel("shop");
  EXPECT_EQ(p.id.size(), 20u);
  auto c = srv_.Client();
  auto list = c.Request("GET", "/api/v1/pixels", "", Admin());
  EXPECT_NE(list->body.find(p.id), std::string::npos);
  auto anon = c.Request("GET", "/api/v1/pixels");
  EXPECT_EQ(anon->status, 401);
  auto wrong =
      c.Request("POST", "/api/v1/pixels", R"({"name":"x"})", {{"Authorization", "Bearer nope"}});
  EXPECT_EQ(wrong->status, 401);
  auto noname = c.Request("POST", "/api/v1/pixels", R"({})", Admin());
  EXPECT_EQ(noname->status, 400);
  EXPECT_EQ(noname->body, R"({"error":"name: required"})");
}

TEST_F(ApiTest, EventsApi2AcceptsTikTokBodyAndExportShowsIt) {
  auto p = CreatePixel("shop");
  std::string body = Track(
      p,
      Event(
          "CompletePayment", "order_789",
          R"(,"user":{"email":"Jane@Example.com","ttp":"c1"},"properties":{"value":46,"currency":"USD","contents":[{"content_id":"1077218","price":23,"quantity":2}]},"page":{"url":"https://s.example/thanks?ttclid=CLK1"})"),
      p.token);
  EXPECT_EQ(last_status_, 200);
  EXPECT_EQ(Code(body), 0) << body;
  EXPECT_EQ(Message(body), "OK");
  EXPECT_FALSE(Json(body)["request_id"].get_string().value().empty());
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  Json e(lines[0]);
  EXPECT_EQ(e["event_id"].get_string().value(), "order_789");
  EXPECT_EQ(e["user"]["ttclid"].get_string().value(), "CLK1");
  EXPECT_EQ(e["user"]["email"].at(0).get_string().value(), ingest::Sha256Hex("jane@example.com"));
  EXPECT_EQ(e["properties"]["value"].get_double().value(), 46);
  // No clear-text PII at rest.
  EXPECT_EQ(lines[0].find("Jane"), std::string::npos);
}

TEST_F(ApiTest, LargeExportsAreStreamedInChunksAndComplete) {
  auto p = CreatePixel("big");
  const std::string url_tail(300, 'p');
  for (int b = 0; b < 3; ++b) {
    std::string events;
    for (int i = 0; i < 1000; ++i) {
      if (i) events += ',';
      events += Event("PageView", "e" + std::to_string(b * 1000 + i),
                      R"(,"page":{"url":"https://shop.example/)" + url_tail + "\"}");
    }
    EXPECT_EQ(Code(Track(p, events, p.token)), 0);
  }
  auto r = srv_.Client().Request("GET", "/api/v1/export?pixel_id=" + p.id, "", Admin());
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->status, 200);
  EXPECT_GT(r->body.size(), 1u << 20);  // well past one 64 KiB piece
  EXPECT_EQ(r->Header("transfer-encoding"), "chunked");
  EXPECT_EQ(r->Header("content-type"), "application/x-ndjson");
  std::set<std::string> ids;
  size_t lines = 0, pos = 0;
  while (pos < r->body.size()) {
    size_t nl = r->body.find('\n', pos);
    ASSERT_NE(nl, std::string::npos) << "the body ends mid-line";
    Json j(r->body.substr(pos, nl - pos));
    ids.insert(std::string(j["event_id"].get_string().value()));
    ++lines;
    pos = nl + 1;
  }
  EXPECT_EQ(lines, 3000u);
  EXPECT_EQ(ids.size(), 3000u);
  // A small export still comes whole, with its length.
  auto small =
      srv_.Client().Request("GET", "/api/v1/export?pixel_id=" + p.id + "&to=1", "", Admin());
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small->Header("content-length"), "0");
}

TEST_F(ApiTest, EventsApiRejectionsNameTheField) {
  auto p = CreatePixel("shop");
  struct Case {
    std::string events, message;
  } cases[] = {
      {R"({"event":"Purchase","event_time":1699999000,"event_id":123})",
       "data[0].event_id: must be a string"},
      {R"({"event":"Purchase","event_time":1699999000,"properties":{"contents":[{"content_id":7}]}})",
       "data[0].properties.contents[0].content_id: must be a string"},
      {Event("A", "") + "," + R"({"event":"B","event_time":1600000000})",
       "data[1].event_time: more than 28 days old"},
      {R"({"event":"B","event_time":1700000700})",
       "data[0].event_time: more than 10 minutes in the future"},
      {R"({"event":"B","event_time":"soon"})", "data[0].event_time: must be Unix seconds"},
      {R"({"event_time":1699999000})", "data[0].event: required"},
      {R"({"event":"B","event_time":1699999000,"user":{"ttp":")" + std::string(300, 'x') + "\"}}",
       "data[0].user.ttp: longer than 128 bytes"},
      {R"({"event":"B","event_time":1699999000,"properties":{"currency":"usd"}})",
       "data[0].properties.currency: must be an ISO 4217 code in capitals, like USD"},
  };
  for (const auto& c : cases) {
    std::string body = Track(p, c.events, p.token);
    EXPECT_EQ(last_status_, 200);
    EXPECT_EQ(Code(body), 40002) << c.events;
    EXPECT_EQ(Message(body), c.message);
  }
  // A rejected batch stores nothing, not even its valid events.
  EXPECT_TRUE(Export("pixel_id=" + p.id).empty());
}

TEST_F(ApiTest, MalformedJsonAndOversizedBatchAndBody) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  auto bad = c.Request("POST", "/open_api/v1.3/event/track/", R"({"event_source_id":)",
                       {{"Access-Token", p.token}});
  EXPECT_EQ(Code(bad->body), 40002);
  EXPECT_EQ(Message(bad->body).rfind("body: malformed JSON", 0), 0u) << bad->body;
  std::string many;
  for (int i = 0; i < 1001; ++i) many += (i ? "," : "") + Event("A", "");
  std::string body = Track(p, many, p.token);
  EXPECT_EQ(Code(body), 40002);
  EXPECT_EQ(Message(body), "data: more than 1000 events in one request");
  auto native = c.Request("POST", "/api/v1/events",
                          R"({"event_source_id":")" + p.id + R"(","data":[)" + many + "]}",
                          {{"Access-Token", p.token}});
  EXPECT_EQ(native->status, 413);
}

// A body over the limit is refused from its Content-Length, before it is read.
TEST_F(ApiTest, BodyOverLimitGets413) {
  RawConn c(static_cast<uint16_t>(std::stoi(srv_.url().substr(srv_.url().rfind(':') + 1))));
  ASSERT_TRUE(c.connected());
  c.Send("POST /api/v1/events HTTP/1.1\r\nHost: x\r\nContent-Length: " + std::to_string(5 << 20) +
         "\r\n\r\n{");
  std::string response = c.ReadAll();
  EXPECT_EQ(response.rfind("HTTP/1.1 413", 0), 0u) << response;
  EXPECT_NE(response.find("body: larger than 4194304 bytes"), std::string::npos);
}

TEST_F(ApiTest, AuthNoTokenWrongTokenAndAnotherPixelsToken) {
  auto a = CreatePixel("a");
  auto b = CreatePixel("b");
  auto c = srv_.Client();
  std::string body = R"({"event_source":"web","event_source_id":")" + a.id + R"(","data":[)" +
                     Event("A", "1") + "]}";
  auto none = c.Request("POST", "/open_api/v1.3/event/track/", body);
  EXPECT_EQ(Code(none->body), 40001);
  EXPECT_EQ(Message(none->body), "Access-Token header: required");
  auto wrong = c.Request("POST", "/open_api/v1.3/event/track/", body, {{"Access-Token", "nope"}});
  EXPECT_EQ(Code(wrong->body), 40001);
  EXPECT_EQ(Message(wrong->body), "Access-Token: not a valid access token");
  auto other = c.Request("POST", "/open_api/v1.3/event/track/", body, {{"Access-Token", b.token}});
  EXPECT_EQ(Code(other->body), 40001);
  EXPECT_EQ(Message(other->body).rfind("No permission to operate pixel code: " + a.id, 0), 0u);
  // Native endpoint: HTTP status codes.
  EXPECT_EQ(c.Request("POST", "/api/v1/events", body)->status, 401);
  EXPECT_EQ(c.Request("POST", "/api/v1/events", body, {{"Access-Token", "nope"}})->status, 401);
  EXPECT_EQ(c.Request("POST", "/api/v1/events", body, {{"Access-Token", b.token}})->status, 403);
  EXPECT_EQ(
      c.Request("POST", "/api/v1/events", body, {{"Authorization", "Bearer " + a.token}})->status,
      200);
  // Unknown pixel, with a valid token.
  std::string ghost = R"({"event_source":"web","event_source_id":"TPNOSUCHPIXEL","data":[)" +
                      Event("A", "1") + "]}";
  auto unknown =
      c.Request("POST", "/open_api/v1.3/event/track/", ghost, {{"Access-Token", a.token}});
  EXPECT_EQ(Code(unknown->body), 40002);
  EXPECT_EQ(Message(unknown->body), "event_source_id: unknown pixel TPNOSUCHPIXEL");
  // Admin-only endpoints refuse pixel tokens.
  EXPECT_EQ(c.Request("GET", "/api/v1/export?pixel_id=" + a.id, "",
                      {{"Authorization", "Bearer " + a.token}})
                ->status,
            401);
  EXPECT_EQ(c.Request("POST", "/api/v1/ad-events", "[]", {{"Authorization", "Bearer " + a.token}})
                ->status,
            401);
}

TEST_F(ApiTest, EventsApi2ExtrasAreStoredAndExportedAndTheRestIsWarnedAbout) {
  auto p = CreatePixel("shop");
  std::string body = Track(
      p,
      Event(
          "SubmitForm", "lead-1",
          R"(,"limited_data_use":true,"lead":{"lead_id":"L-9","lead_event_source":"HubSpot"},)"
          R"("user":{"first_name":"John","zip_code":"94107"},"ad":{"callback":"CB1","ad_id":"a"},)"
          R"("properties":{"shop_id":"s1","num_items":2,"predicted_ltv":80},"mood":"happy")"),
      p.token);
  EXPECT_EQ(last_status_, 200);
  EXPECT_EQ(Code(body), 0) << body;
  Json j(body);
  EXPECT_EQ(j["data"]["accepted"].get_int64().value(), 1);
  auto warnings = j["data"]["warnings"];
  ASSERT_EQ(warnings.get_array().size(), 2u) << body;
  EXPECT_EQ(warnings.at(0).get_string().value(),
            "data[0].ad.ad_id: not stored (not a field Touchpoint keeps)");
  EXPECT_EQ(warnings.at(1).get_string().value(),
            "data[0].mood: not stored (not a field Touchpoint keeps)");
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  Json e(lines[0]);
  EXPECT_TRUE(e["limited_data_use"].get_bool().value());
  EXPECT_EQ(e["lead"]["lead_id"].get_string().value(), "L-9");
  EXPECT_EQ(e["lead"]["lead_event_source"].get_string().value(), "HubSpot");
  EXPECT_EQ(e["user"]["ttclid"].get_string().value(), "CB1");
  // printf '%s' john | sha256sum; no clear-text name at rest.
  EXPECT_EQ(e["user"]["first_name"].get_string().value(),
            "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a");
  EXPECT_EQ(lines[0].find("John"), std::string::npos);
  EXPECT_EQ(e["properties"]["shop_id"].get_string().value(), "s1");
  EXPECT_EQ(e["properties"]["num_items"].get_int64().value(), 2);
  EXPECT_EQ(e["properties"]["predicted_ltv"].get_double().value(), 80);
  // The native endpoint answers the same warnings beside its per-event results.
  auto r = srv_.Client().Request(
      "POST", "/api/v1/events",
      R"({"event_source_id":")" + p.id + R"(","data":[)" + Event("A", "n1", R"(,"x":1)") + "]}",
      {{"Access-Token", p.token}});
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(Json(r->body)["warnings"].at(0).get_string().value(),
            "data[0].x: not stored (not a field Touchpoint keeps)");
}

TEST_F(ApiTest, OfflineEventSetWithANumericIdTakesEvents) {
  auto p = CreatePixel("store sales", R"(,"pixel_id":"7291234567890123456")");
  ASSERT_EQ(p.id, "7291234567890123456");
  std::string body = R"({"event_source":"offline","event_source_id":7291234567890123456,"data":[)" +
                     Event("CompletePayment", "o-1") + "]}";
  auto r = srv_.Client().Request("POST", "/open_api/v1.3/event/track/", body,
                                 {{"Access-Token", p.token}});
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(Code(r->body), 0) << r->body;
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Json(lines[0])["source"].get_string().value(), "offline");
}

TEST_F(ApiTest, NativeEventsReportsPerEventResults) {
  auto p = CreatePixel("shop");
  std::string body = R"({"event_source_id":")" + p.id + R"(","data":[)" + Event("A", "e1") + "," +
                     R"({"event":"B","event_time":1699999000,"event_id":5})" + "," +
                     Event("A", "e1") + "]}";
  auto r = srv_.Client().Request("POST", "/api/v1/events", body, {{"Access-Token", p.token}});
  EXPECT_EQ(r->status, 200);
  Json j(r->body);
  EXPECT_EQ(j["accepted"].get_int64().value(), 1);
  EXPECT_EQ(j["duplicate"].get_int64().value(), 1);
  EXPECT_EQ(j["rejected"].get_int64().value(), 1);
  EXPECT_EQ(j["results"].at(1)["error"].get_string().value(), "data[1].event_id: must be a string");
  EXPECT_EQ(j["results"].at(2)["status"].get_string().value(), "duplicate");
  auto all_bad =
      srv_.Client().Request("POST", "/api/v1/events",
                            R"({"event_source_id":")" + p.id +
                                R"(","data":[{"event":"B","event_time":1699999000,"event_id":5}]})",
                            {{"Access-Token", p.token}});
  EXPECT_EQ(all_bad->status, 400);
}

TEST_F(ApiTest, EventsApi1TrackAndBatch) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  auto t = c.Request(
      "POST", "/open_api/v1.3/pixel/track/",
      R"({"pixel_code":")" + p.id +
          R"(","event":"CompletePayment","event_id":"v1-1","timestamp":"2023-11-14T22:00:00Z","context":{"ad":{"callback":"CLK9"},"user":{"phone_number":"+1 650 555 1212"}},"properties":{"value":5,"currency":"EUR"}})",
      {{"Access-Token", p.token}});
  EXPECT_EQ(Code(t->body), 0) << t->body;
  auto b = c.Request(
      "POST", "/open_api/v1.3/pixel/batch/",
      R"({"pixel_code":")" + p.id +
          R"(","batch":[{"type":"track","event":"ViewContent","event_id":"v1-2","timestamp":"2023-11-14T22:01:00Z"},{"type":"track","event":"AddToCart","event_id":"v1-3"}]})",
      {{"Access-Token", p.token}});
  EXPECT_EQ(Code(b->body), 0) << b->body;
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 3u);
  Json first(lines[0]);
  EXPECT_EQ(first["user"]["ttclid"].get_string().value(), "CLK9");
  EXPECT_EQ(first["user"]["phone"].at(0).get_string().value(), ingest::Sha256Hex("+16505551212"));
  EXPECT_EQ(first["event_time"].get_int64().value(), 1699999200);
}

TEST_F(ApiTest, PixelAndServerCopiesOfOnePurchaseAreStoredOnceWithMergedKeys) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  // Browser first: cookie and click id.
  auto beacon = c.Request(
      "POST", "/api/v1/pixel",
      R"({"pixel_id":")" + p.id +
          R"(","event":"CompletePayment","event_id":"order-1","user":{"ttp":"cookieA","ttclid":"CLK1"},"properties":{"value":42,"currency":"USD"}})",
      {{"Content-Type", "text/plain;charset=UTF-8"}, {"Origin", "https://shop.example"}});
  EXPECT_EQ(beacon->status, 200) << beacon->body;
  // Readable from any origin, never with credentials (no call needs them).
  EXPECT_EQ(beacon->Header("access-control-allow-origin"), "*");
  EXPECT_EQ(beacon->Header("access-control-allow-credentials"), "");
  // Server copy two minutes later: hashed email and external id.
  srv_.clock().Advance(2 * kMinuteMs);
  std::string body = Track(
      p,
      Event(
          "CompletePayment", "order-1",
          R"(,"user":{"email":"buyer@example.com","external_id":"cust-7"},"properties":{"value":42,"currency":"USD"})"),
      p.token);
  EXPECT_EQ(Code(body), 0);
  EXPECT_EQ(Json(body)["data"]["duplicate"].get_int64().value(), 1);
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  Json e(lines[0]);
  EXPECT_EQ(e["user"]["ttp"].get_string().value(), "cookieA");
  EXPECT_EQ(e["user"]["ttclid"].get_string().value(), "CLK1");
  EXPECT_EQ(e["user"]["email"].at(0).get_string().value(), ingest::Sha256Hex("buyer@example.com"));
  EXPECT_EQ(e["user"]["external_id"].at(0).get_string().value(), ingest::Sha256Hex("cust-7"));
  // The server copy's fields are the stored ones now (it came with the pixel's access token).
  EXPECT_EQ(e["source"].get_string().value(), "web");
  EXPECT_EQ(e["properties"]["value"].get_double().value(), 42);
}

TEST_F(ApiTest, ABeaconThatGuessedAPurchasesEventIdCannotPreEmptTheServerCopy) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  auto beacon = c.Request(
      "POST", "/api/v1/pixel",
      R"({"pixel_id":")" + p.id +
          R"(","event":"CompletePayment","event_id":"order-9","properties":{"value":900,"currency":"USD"}})",
      {{"Content-Type", "text/plain;charset=UTF-8"}});
  ASSERT_EQ(beacon->status, 200) << beacon->body;
  srv_.clock().Advance(kHourMs);  // long after the 5-minute merge window
  std::string body = Track(
      p, Event("CompletePayment", "order-9", R"(,"properties":{"value":42,"currency":"USD"})"),
      p.token);
  EXPECT_EQ(Code(body), 0) << body;
  EXPECT_EQ(Json(body)["data"]["duplicate"].get_int64().value(), 1);  // still one purchase
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  Json e(lines[0]);
  EXPECT_EQ(e["properties"]["value"].get_double().value(), 42);
  EXPECT_EQ(e["source"].get_string().value(), "web");
  // The native endpoint says what happened to the copy.
  auto native = c.Request(
      "POST", "/api/v1/events",
      R"({"event_source":"web","event_source_id":")" + p.id + R"(","data":[)" +
          Event("CompletePayment", "order-9", R"(,"properties":{"value":42,"currency":"USD"})") +
          "]}",
      {{"Access-Token", p.token}});
  EXPECT_NE(native->body.find(R"("status":"duplicate")"), std::string::npos) << native->body;
}

TEST_F(ApiTest, TestEventsNeverTakeARealEventsPlace) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  auto test = c.Request(
      "POST", "/open_api/v1.3/event/track/",
      R"({"event_source":"web","event_source_id":")" + p.id +
          R"(","test_event_code":"TEST42","data":[)" +
          Event("CompletePayment", "order-5", R"(,"properties":{"value":10,"currency":"USD"})") +
          "]}",
      {{"Access-Token", p.token}});
  ASSERT_EQ(Code(test->body), 0) << test->body;
  std::string real = Track(
      p, Event("CompletePayment", "order-5", R"(,"properties":{"value":10,"currency":"USD"})"),
      p.token);
  EXPECT_EQ(Json(real)["data"]["accepted"].get_int64().value(), 1) << real;
  EXPECT_EQ(Export("pixel_id=" + p.id).size(), 2u);  // both kept; only the real one counts
  // The debugger filters by test code, like the ad platforms' "Test events" tabs.
  auto dbg = c.Request("GET", "/api/v1/debug/events?test_event_code=TEST42", "", Admin());
  ASSERT_EQ(dbg->status, 200) << dbg->body;
  Json j(dbg->body);
  auto events = j["events"].get_array().value();
  ASSERT_EQ(events.size(), 1u) << dbg->body;
  EXPECT_EQ(events.at(0)["test_event_code"].get_string().value(), "TEST42");
  auto none = c.Request("GET", "/api/v1/debug/events?test_event_code=OTHER", "", Admin());
  EXPECT_EQ(Json(none->body)["events"].get_array().value().size(), 0u);
}

TEST_F(ApiTest, PurchaseWithoutEventIdDeduplicatesOnOrderId) {
  auto p = CreatePixel("shop");
  std::string ev = R"({"event":"CompletePayment","event_time":)" + std::to_string(srv_.now_s()) +
                   R"(,"properties":{"order_id":"A-77","value":10,"currency":"USD"}})";
  Track(p, ev, p.token);
  srv_.clock().Advance(kHourMs);
  std::string body = Track(p, ev, p.token);
  EXPECT_EQ(Json(body)["data"]["duplicate"].get_int64().value(), 1);
  EXPECT_EQ(Export("pixel_id=" + p.id).size(), 1u);
}

TEST_F(ApiTest, PixelGifStoresEventAndAnswersGif) {
  auto p = CreatePixel("shop");
  auto r = srv_.Client().Request("GET",
                                 "/api/v1/pixel.gif?pixel_id=" + p.id +
                                     "&event=PageView&event_id=pv1&ttclid=abc&ttp=c9&url=https%3A%"
                                     "2F%2Fs.example%2F%3Fttclid%3Dabc&value=1.5&currency=USD",
                                 "", {{"User-Agent", "TestBrowser/1"}});
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "image/gif");
  EXPECT_EQ(r->body.substr(0, 6), "GIF89a");
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  Json e(lines[0]);
  EXPECT_EQ(e["user"]["ttp"].get_string().value(), "c9");
  EXPECT_EQ(e["user"]["user_agent"].get_string().value(), "TestBrowser/1");
  EXPECT_EQ(e["user"]["ip"].get_string().value(), "127.0.0.0");
  EXPECT_EQ(r->Header("x-touchpoint-not-stored"), "");  // every parameter was kept
  // Parameters not kept are named in a header (an image has no body to warn in), each once;
  // a name that is not a plain token is only counted.
  auto extra = srv_.Client().Request(
      "GET", "/api/v1/pixel.gif?pixel_id=" + p.id +
                 "&event=PageView&utm_source=tt&utm_source=x&lang=de&%C3%A9t%C3%A9=1");
  EXPECT_EQ(extra->status, 200);
  EXPECT_EQ(extra->Header("x-touchpoint-not-stored"), "utm_source, lang, 1 more");
  auto unknown = srv_.Client().Request("GET", "/api/v1/pixel.gif?pixel_id=NOPE&event=PageView");
  EXPECT_EQ(unknown->status, 404);
  EXPECT_EQ(unknown->body, R"({"error":"pixel_id: unknown pixel NOPE"})");
}

// A beacon's value once made revenue negative (-1e15) or, with two huge ones, inf: each is now
// rejected with its field, and the stored events (what revenue is summed from) are untouched.
TEST_F(ApiTest, BeaconWithNegativeOrHugeValueIsRejectedAndRevenueUntouched) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  auto beacon = [&](const std::string& value) {
    return c.Request("POST", "/api/v1/pixel",
                     R"({"pixel_id":")" + p.id + R"(","event":"CompletePayment","properties":)" +
                         R"({"currency":"USD","value":)" + value + "}}");
  };
  EXPECT_EQ(beacon("25")->status, 200);
  for (const char* bad : {"-1e15", "1e308"}) {
    auto r = beacon(bad);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->status, 400) << bad;
    Json j(r->body);
    EXPECT_EQ(j["rejected"].get_int64().value(), 1);
    EXPECT_EQ(j["results"].at(0)["error"].get_string().value(),
              std::string(bad) == "-1e15" ? "properties.value: must be a finite number >= 0"
                                          : "properties.value: must be at most 1000000000");
  }
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Json(lines[0])["properties"]["value"].get_double().value(), 25);
}

// The truncated client IP the server stores for a pixel GIF sent with `headers`.
std::string StoredGifIp(TestServer& srv, const Headers& headers) {
  auto c = srv.Client();
  auto px = c.Request("POST", "/api/v1/pixels", R"({"name":"ip"})", Admin());
  std::string id(Json(px->body)["pixel_id"].get_string().value());
  auto r = c.Request("GET", "/api/v1/pixel.gif?pixel_id=" + id + "&event=PageView", "", headers);
  EXPECT_EQ(r->status, 200) << r->body;
  auto e = c.Request("GET", "/api/v1/export?pixel_id=" + id, "", Admin());
  Json j(e->body.substr(0, e->body.find('\n')));
  return std::string(j["user"]["ip"].get_string().value());
}

server::ApiOptions Trusting(std::initializer_list<const char*> ranges) {
  server::ApiOptions o;
  for (const char* r : ranges) o.trusted_proxies.push_back(*ingest::ParseCidr(r));
  return o;
}

// A listener on [::] sees 127.0.0.1 as ::ffff:127.0.0.1, once truncated as IPv6 to "::".
TEST(ApiClientIp, Ipv4MappedPeerIsStoredAsTruncatedIpv4) {
  server::HttpServerOptions dual_stack;
  dual_stack.host = "::";
  TestServer srv(1700000000000, {}, {}, dual_stack);
  EXPECT_EQ(StoredGifIp(srv, {}), "127.0.0.0");
}

TEST(ApiClientIp, ForwardedForIsIgnoredWithoutTrustedProxies) {
  TestServer srv;
  EXPECT_EQ(StoredGifIp(srv, {{"X-Forwarded-For", "203.0.113.5"}}), "127.0.0.0");
}

TEST(ApiClientIp, ForwardedForIsIgnoredFromAnUntrustedPeer) {
  TestServer srv(1700000000000, {}, Trusting({"10.0.0.0/8"}));  // the peer is 127.0.0.1
  EXPECT_EQ(StoredGifIp(srv, {{"X-Forwarded-For", "203.0.113.5"}}), "127.0.0.0");
}

TEST(ApiClientIp, TrustedProxyGivesTheRightMostUntrustedHop) {
  TestServer srv(1700000000000, {}, Trusting({"127.0.0.0/8", "10.0.0.0/8"}));
  // "6.6.6.6" is what the client claimed; 198.51.100.7 is who the edge proxy saw; 10.1.2.3 an
  // inner proxy.
  EXPECT_EQ(StoredGifIp(srv, {{"X-Forwarded-For", "6.6.6.6, 198.51.100.7, 10.1.2.3"}}),
            "198.51.100.0");
  // Two header lines are one list: the client's own line comes first.
  EXPECT_EQ(StoredGifIp(srv, {{"X-Forwarded-For", "6.6.6.6"}, {"X-Forwarded-For", "198.51.100.7"}}),
            "198.51.100.0");
  // A hop with a port.
  EXPECT_EQ(StoredGifIp(srv, {{"X-Forwarded-For", "198.51.100.7:50123"}}), "198.51.100.0");
  EXPECT_EQ(StoredGifIp(srv, {{"X-Forwarded-For", "[2001:db8:aa:bb::1]:443"}}), "2001:db8:aa::");
}

// Identifiers that arrive in URLs and free text are not kept in clear: the export (the stored
// form) holds the markers, from the Events API and from the GIF alike.
TEST_F(ApiTest, EmailsInUrlsReferrersAndDescriptionsAreNotStored) {
  auto p = CreatePixel("shop");
  Track(p,
        Event("CompletePayment", "o1",
              R"(,"page":{"url":"https://s.example/thanks?email=jane.doe%40mail.example",)"
              R"("referrer":"https://news.example/?u=jane.doe@mail.example"},)"
              R"("properties":{"description":"gift for jane.doe@mail.example"})"),
        p.token);
  EXPECT_EQ(last_status_, 200);
  auto gif = srv_.Client().Request(
      "GET", "/api/v1/pixel.gif?pixel_id=" + p.id +
                 "&event=PageView&url=https%3A%2F%2Fs.example%2Fu%2Fjane.doe%2540mail.example");
  EXPECT_EQ(gif->status, 200);
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 2u);
  for (const auto& line : lines) {
    EXPECT_EQ(line.find("jane.doe"), std::string::npos) << line;
    EXPECT_EQ(line.find("mail.example"), std::string::npos) << line;
  }
  Json e(lines[0]);
  EXPECT_EQ(e["page"]["url"].get_string().value(), "https://s.example/thanks?email=%5Bredacted%5D");
  EXPECT_EQ(e["page"]["referrer"].get_string().value(), "https://news.example/?u=%5Bredacted%5D");
  EXPECT_EQ(e["properties"]["description"].get_string().value(), "gift for [redacted]");
  EXPECT_EQ(Json(lines[1])["page"]["url"].get_string().value(),
            "https://s.example/u/%5Bredacted%5D");
}

// Percent-decoding can spell any bytes. A GIF parameter that is not UTF-8 is rejected with its
// name; one whose *name* is not UTF-8 is named by position, so that the bad bytes never reach
// the answer, the debugger or /metrics (they once put raw 0xFF into both); a User-Agent that is
// not UTF-8 is kept, repaired. Afterwards both pages are valid UTF-8.
TEST_F(ApiTest, InvalidUtf8IsRejectedOrRepairedAndNeverServed) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  const std::string gif = "/api/v1/pixel.gif?pixel_id=" + p.id + "&event=PageView";
  auto bad_value = c.Request("GET", gif + "&url=https%3A%2F%2Fs.example%2F%FF");
  EXPECT_EQ(bad_value->status, 400);
  EXPECT_EQ(bad_value->body, R"({"error":"url: not valid UTF-8"})");
  auto bad_name = c.Request("GET", gif + "&%FF%FE=1");
  EXPECT_EQ(bad_name->status, 400);
  EXPECT_EQ(bad_name->body, R"({"error":"query: parameter 3's name is not valid UTF-8"})");
  auto bad_body =
      c.Request("POST", "/api/v1/pixel", R"({"pixel_id":")" + p.id + "\",\"event\":\"A\xFF\"}");
  EXPECT_EQ(bad_body->status, 400);
  EXPECT_EQ(bad_body->body, R"({"error":"body: not valid UTF-8"})");
  auto ua = c.Request("POST", "/api/v1/pixel", R"({"pixel_id":")" + p.id + R"(","event":"A"})",
                      {{"User-Agent", "Bot\xFF\xFE/1"}});
  EXPECT_EQ(ua->status, 200);
  auto lines = Export("pixel_id=" + p.id);
  ASSERT_EQ(lines.size(), 1u);
  EXPECT_EQ(Json(lines[0])["user"]["user_agent"].get_string().value(),
            "Bot\xEF\xBF\xBD\xEF\xBF\xBD/1");
  EXPECT_EQ(c.Request("GET", "/c/%FF")->status, 404);
  for (const char* page : {"/metrics", "/api/v1/debug/events"}) {
    auto r = c.Request("GET", page, "", Admin());
    ASSERT_EQ(r->status, 200) << page;
    EXPECT_TRUE(simdjson::validate_utf8(r->body.data(), r->body.size())) << page << ": " << r->body;
  }
}

TEST_F(ApiTest, BeaconFromDisallowedOriginIsRefused) {
  auto p = CreatePixel("shop", R"(,"allowed_origins":["https://shop.example"])");
  auto c = srv_.Client();
  std::string body = R"({"pixel_id":")" + p.id + R"(","event":"PageView"})";
  auto ok = c.Request("POST", "/api/v1/pixel", body, {{"Origin", "https://shop.example"}});
  EXPECT_EQ(ok->status, 200);
  auto evil = c.Request("POST", "/api/v1/pixel", body, {{"Origin", "https://evil.example"}});
  EXPECT_EQ(evil->status, 403);
  EXPECT_EQ(evil->body,
            R"({"error":"origin https://evil.example: not allowed for pixel )" + p.id + "\"}");
  auto pre = c.Request("OPTIONS", "/api/v1/pixel", "", {{"Origin", "https://shop.example"}});
  EXPECT_EQ(pre->status, 204);
  EXPECT_EQ(pre->Header("access-control-allow-origin"), "*");
  EXPECT_EQ(pre->Header("access-control-allow-credentials"), "");
}

TEST_F(ApiTest, EveryAnswerCarriesSecurityHeaders) {
  auto p = CreatePixel("shop");
  auto c = srv_.Client();
  auto page = c.Request("GET", "/", "");
  ASSERT_EQ(page->status, 200);
  const std::string csp(page->Header("content-security-policy"));
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-eval"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_NE(csp.find("default-src 'none'"), std::string::npos) << csp;
  EXPECT_EQ(page->Header("x-content-type-options"), "nosniff");
  EXPECT_EQ(page->Header("x-frame-options"), "DENY");
  EXPECT_EQ(page->Header("referrer-policy"), "strict-origin-when-cross-origin");
  for (auto r : {c.Request("GET", "/api/v1/pixels", ""),  // 401
                 c.Request("GET", "/healthz", ""), c.Request("GET", "/metrics", ""),
                 c.Request("GET", "/no/such/path", ""),
                 c.Request("GET", "/api/v1/pixel.gif?pixel_id=" + p.id + "&event=PageView", "")}) {
    EXPECT_EQ(r->Header("x-content-type-options"), "nosniff") << r->status;
    EXPECT_EQ(r->Header("content-security-policy"), "default-src 'none'; frame-ancestors 'none'");
    EXPECT_EQ(r->Header("referrer-policy"), "strict-origin-when-cross-origin");
  }
  auto gif = c.Request("GET", "/api/v1/pixel.gif?pixel_id=" + p.id + "&event=PageView", "");
  EXPECT_EQ(gif->Header("content-type"), "image/gif");
  EXPECT_EQ(gif->Header("cache-control"), "no-store, max-age=0");
}

constexpr const char* kCatalog = R"({"campaigns":[{"campaign_id":"c1","name":"Spring","adgroups":[
  {"adgroup_id":"g1","name":"Young","click_window_days":7,"view_window_days":1,"count_mode":"every",
   "ads":[{"ad_id":"a1","name":"Funny","landing_url":"https://shop.example/p?x=1#top",
           "creative":{"format":"video","video_ms":15000,"call_to_action":"shop_now","tags":["humor"]}}]}]}]})";

TEST_F(ApiTest, CatalogPutGetAndClickRedirectOnlyToLandingUrl) {
  auto c = srv_.Client();
  auto put = c.Request("PUT", "/api/v1/catalog", kCatalog, Admin());
  EXPECT_EQ(put->status, 200) << put->body;
  EXPECT_EQ(put->body, R"({"campaigns":1,"ads":1})");
  auto get = c.Request("GET", "/api/v1/catalog", "", Admin());
  EXPECT_NE(get->body.find("\"landing_url\":\"https://shop.example/p?x=1#top\""),
            std::string::npos);

  auto click =
      c.Request("GET",
                "/c/a1?user_key=u42&age=18-24&url=https%3A%2F%2Fevil.example%2F&redirect=https://"
                "evil.example");
  EXPECT_EQ(click->status, 302);
  std::string loc = click->Header("location");
  EXPECT_EQ(loc.rfind("https://shop.example/p?x=1&ttclid=TPC.", 0), 0u) << loc;
  EXPECT_EQ(loc.substr(loc.size() - 4), "#top");
  EXPECT_EQ(loc.find("evil"), std::string::npos);
  std::string click_id =
      loc.substr(loc.find("ttclid=") + 7, loc.find('#') - loc.find("ttclid=") - 7);
  auto ads = Export("type=ad");
  ASSERT_EQ(ads.size(), 1u);
  Json e(ads[0]);
  EXPECT_EQ(e["type"].get_string().value(), "click");
  EXPECT_EQ(e["click_id"].get_string().value(), click_id);
  EXPECT_EQ(e["user_key"].get_string().value(), "u42");
  EXPECT_EQ(e["age"].get_string().value(), "18-24");

  // Two clicks mint two different ids.
  auto again = c.Request("GET", "/c/a1");
  EXPECT_NE(again->Header("location"), loc);
  // Unknown ads and path tricks never redirect.
  for (const char* path : {"/c/nope", "/c/", "/c/a1%2F..%2Fx", "/c/https%3A%2F%2Fevil.example"}) {
    auto r = c.Request("GET", path);
    EXPECT_EQ(r->status, 404) << path;
    EXPECT_EQ(r->Header("location"), "") << path;
  }
  // A catalog with a non-http landing URL is refused, so it can never be a redirect target.
  auto bad = c.Request(
      "PUT", "/api/v1/catalog",
      R"json({"campaigns":[{"campaign_id":"c","adgroups":[{"adgroup_id":"g","ads":[{"ad_id":"x","landing_url":"javascript:alert(1)"}]}]}]})json",
      Admin());
  EXPECT_EQ(bad->status, 400);
  EXPECT_EQ(
      bad->body,
      R"json({"error":"campaigns[0].adgroups[0].ads[0].landing_url: must be an absolute http(s) URL"})json");
}

TEST_F(ApiTest, AdEventsBatchesJsonAndNdjson) {
  auto c = srv_.Client();
  std::string t = std::to_string(srv_.now_s() - 100);
  auto arr = c.Request(
      "POST", "/api/v1/ad-events",
      R"([{"type":"impression","ad_id":"a1","event_time":)" + t +
          R"(,"user_key":"u1","age":"25-34","gender":"male","country":"US","placement":"tiktok","os":"android","device":"phone"},
                           {"type":"video_play","ad_id":"a1","event_time":)" +
          t + R"(,"user_key":"u1","watch_ms":7000,"video_ms":15000}])",
      Admin());
  EXPECT_EQ(arr->status, 200) << arr->body;
  EXPECT_EQ(Json(arr->body)["accepted"].get_int64().value(), 2);
  auto nd = c.Request("POST", "/api/v1/ad-events",
                      "{\"type\":\"click\",\"ad_id\":\"a1\",\"event_time\":" + t +
                          ",\"user_key\":\"u1\",\"click_id\":\"K1\",\"event_id\":\"clk-1\"}\n"
                          "{\"type\":\"click\",\"ad_id\":\"a1\",\"event_time\":" +
                          t +
                          ",\"user_key\":\"u1\",\"click_id\":\"K1\",\"event_id\":\"clk-1\"}\n"
                          "{\"type\":\"video_play\",\"ad_id\":\"a1\",\"event_time\":" +
                          t + "}\n",
                      Admin());
  EXPECT_EQ(nd->status, 200) << nd->body;
  Json j(nd->body);
  EXPECT_EQ(j["accepted"].get_int64().value(), 1);
  EXPECT_EQ(j["duplicate"].get_int64().value(), 1);
  EXPECT_EQ(j["rejected"].get_int64().value(), 1);
  EXPECT_EQ(j["results"].at(2)["error"].get_string().value(),
            "events[2].watch_ms: required for a video_play");
  EXPECT_EQ(Export("type=ad").size(), 3u);
}

TEST_F(ApiTest, TikTokAndMetaReportsImportAsSpendAndPlatformCounts) {
  auto c = srv_.Client();
  // The TikTok spend row that was refused before (issue 21 point 6).
  auto s = c.Request("PUT", "/api/v1/spend",
                     R"({"code":0,"data":{"list":[{"dimensions":{"ad_id":"a1",
                        "stat_time_day":"2026-12-01 00:00:00"},"metrics":{"spend":"12.30",
                        "impressions":"1840","clicks":"37","video_play_actions":"912"}}]}})",
                     Admin());
  ASSERT_EQ(s->status, 200) << s->body;
  EXPECT_EQ(s->body, R"({"rows":1,"format":"tiktok_report","platform_rows":1})");
  auto m = c.Request("PUT", "/api/v1/spend",
                     R"({"data":[{"ad_id":"m1","date_start":"2026-12-01","date_stop":"2026-12-01",
                        "spend":"15.42","impressions":"2210","clicks":"41",
                        "account_currency":"EUR"}]})",
                     Admin());
  ASSERT_EQ(m->status, 200) << m->body;
  auto g = c.Request("GET", "/api/v1/spend", "", Admin());
  ASSERT_EQ(g->status, 200);
  Json j(g->body);
  EXPECT_EQ(j["spend"].get_array().size(), 2u);
  EXPECT_EQ(j["spend"].at(0)["date"].get_string().value(), "2026-12-01");
  EXPECT_EQ(j["spend"].at(0)["ad_id"].get_string().value(), "a1");
  EXPECT_EQ(j["spend"].at(0)["spend"].get_double().value(), 12.30);
  auto tiktok = j["platform_stats"].at(0);
  EXPECT_EQ(tiktok["platform"].get_string().value(), "tiktok");
  EXPECT_EQ(tiktok["impressions"].get_int64().value(), 1840);
  EXPECT_EQ(tiktok["clicks"].get_int64().value(), 37);
  EXPECT_EQ(tiktok["video_views"].get_int64().value(), 912);
  auto meta = j["platform_stats"].at(1);
  EXPECT_EQ(meta["platform"].get_string().value(), "meta");
  EXPECT_EQ(meta["currency"].get_string().value(), "EUR");
  EXPECT_TRUE(meta["video_views"].is_null());  // not in the file: none, not 0
  // A bad row is refused whole, naming the row and field; nothing of it is stored.
  auto bad = c.Request("PUT", "/api/v1/spend",
                       "Ad ID,Date,Cost\nb1,2026-12-02,4\nb2,2026-12-02,x\n", Admin());
  EXPECT_EQ(bad->status, 400);
  EXPECT_NE(bad->body.find("line 3.Cost: must be a number >= 0"), std::string::npos) << bad->body;
  EXPECT_EQ(srv_.store().GetSpend()->size(), 2u);
  EXPECT_EQ(c.Request("GET", "/api/v1/spend", "", {})->status, 401);
}

TEST_F(ApiTest, SpendImportAndExportTimeFilters) {
  auto c = srv_.Client();
  auto s = c.Request("PUT", "/api/v1/spend", "date,ad_id,spend\n2023-11-14,a1,12.5\n", Admin());
  EXPECT_EQ(s->status, 200) << s->body;
  EXPECT_EQ(srv_.store().GetSpend()->size(), 1u);
  auto p = CreatePixel("shop");
  Track(p, R"({"event":"A","event_time":1699990000},{"event":"B","event_time":1699995000})",
        p.token);
  EXPECT_EQ(Export("pixel_id=" + p.id + "&from=1699994000").size(), 1u);
  EXPECT_EQ(Export("pixel_id=" + p.id + "&to=2023-11-14T19:30:00Z").size(), 1u);
  auto bad = c.Request("GET", "/api/v1/export?pixel_id=" + p.id + "&from=yesterday", "", Admin());
  EXPECT_EQ(bad->status, 400);
  auto unknown = c.Request("GET", "/api/v1/export?pixel_id=NOPE", "", Admin());
  EXPECT_EQ(unknown->status, 404);
}

TEST_F(ApiTest, TpJsIsServed) {
  auto r = srv_.Client().Request("GET", "/tp.js");
  EXPECT_EQ(r->status, 200);
  EXPECT_EQ(r->Header("content-type"), "application/javascript; charset=utf-8");
  EXPECT_FALSE(r->body.empty());
  EXPECT_EQ(srv_.Client().Request("GET", "/no/such/thing")->status, 404);
}

TEST_F(ApiTest, DashboardAssetsAreGzippedAndRevalidated) {
  auto c = srv_.Client();
  auto plain = c.Request("GET", "/app.js");
  ASSERT_EQ(plain->status, 200);
  EXPECT_EQ(plain->Header("content-encoding"), "");
  auto gz = c.Request("GET", "/app.js", "", {{"Accept-Encoding", "gzip, deflate"}});
  ASSERT_EQ(gz->status, 200);
  EXPECT_EQ(gz->Header("content-encoding"), "gzip");
  EXPECT_EQ(gz->body.substr(0, 2), "\x1f\x8b");
  EXPECT_LT(gz->body.size() * 2, plain->body.size());  // at least halves the bytes on the wire
  std::string etag = plain->Header("etag");
  ASSERT_FALSE(etag.empty());
  EXPECT_EQ(gz->Header("etag"), etag);
  auto again = c.Request("GET", "/app.js", "", {{"If-None-Match", etag}});
  EXPECT_EQ(again->status, 304);
  EXPECT_TRUE(again->body.empty());
  EXPECT_EQ(c.Request("GET", "/", "")->Header("content-type"), "text/html; charset=utf-8");
}

// Overload: the writer is held; the bounded queue fills; further requests get 503 + Retry-After.
TEST(ApiOverload, FullCommitQueueAnswers503WithRetryAfter) {
  std::mutex mu;
  std::condition_variable cv;
  bool hold = true;
  std::atomic<int> groups{0};
  store::StoreOptions opts;
  opts.max_queued_events = 4;  // events in the commit being written count too
  opts.before_group_for_testing = [&] {
    groups++;
    std::unique_lock lock(mu);
    cv.wait(lock, [&] { return !hold; });
  };
  TestServer srv(1700000000000, opts);
  auto pixel = srv.store().CreatePixel("p", {});
  ASSERT_TRUE(pixel.ok());
  auto send = [&](int i) {
    auto c = srv.Client();
    std::string body = R"({"event_source":"web","event_source_id":")" + pixel->pixel.pixel_id +
                       R"(","data":[{"event":"A","event_id":"e)" + std::to_string(i) +
                       R"(","event_time":1699999000},{"event":"A","event_id":"f)" +
                       std::to_string(i) + R"(","event_time":1699999000}]})";
    return c.Request("POST", "/open_api/v1.3/event/track/", body,
                     {{"Access-Token", pixel->access_token}});
  };
  // First request: taken by the writer, which then blocks in the hook.
  std::thread first([&] { EXPECT_EQ(send(0)->status, 200); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (groups.load() == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  ASSERT_EQ(groups.load(), 1);
  // Second request: queued (2 + 2 events fill the bound).
  std::thread second([&] { EXPECT_EQ(send(1)->status, 200); });
  deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (srv.store().Stats().queued_events < 4 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  // Third: refused.
  auto third = send(2);
  ASSERT_TRUE(third.ok());
  EXPECT_EQ(third->status, 503);
  EXPECT_EQ(third->Header("retry-after"), "1");
  EXPECT_EQ(Json(third->body)["code"].get_int64().value(), 40100);
  // The pixel GET, refused the same way: its responder, moved into the store's callback, comes
  // back to answer (the callback is left with the caller when the store refuses).
  auto gif = srv.Client().Request(
      "GET", "/api/v1/pixel.gif?pixel_id=" + pixel->pixel.pixel_id + "&event=PageView&event_id=g1",
      "");
  ASSERT_TRUE(gif.ok());
  EXPECT_EQ(gif->status, 503);
  EXPECT_EQ(gif->Header("retry-after"), "1");
  auto metrics = srv.Client().Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find(R"(touchpoint_events_rejected_total{reason="queue:full"} 3)"),
            std::string::npos)
      << metrics->body;  // the Events API's two events and the pixel's one
  {
    std::lock_guard lock(mu);
    hold = false;
  }
  cv.notify_all();
  first.join();
  second.join();
}

}  // namespace
}  // namespace touchpoint::testing
