// The live event debugger: GET /api/v1/debug/events over real loopback HTTP, after events sent to
// every collection endpoint, plus the ring buffer on its own.
#include <gtest/gtest.h>

#include <set>

#include "ingest/hashing.h"
#include "server/event_debugger.h"
#include "support/test_server.h"

namespace touchpoint::testing {
namespace {

using Headers = std::vector<std::pair<std::string, std::string>>;
Headers Admin() { return {{"Authorization", std::string("Bearer ") + kAdminToken}}; }

std::string Str(simdjson::dom::element e, const char* key) {
  auto v = e[key];
  if (v.error() || !v.is_string()) return "";
  return std::string(v.get_string().value());
}
int64_t Int(simdjson::dom::element e, const char* key) {
  auto v = e[key];
  if (v.error()) return -999;
  return v.get_int64().value();
}

class DebuggerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto r = srv_.Client().Request("POST", "/api/v1/pixels", R"({"name":"shop"})", Admin());
    ASSERT_EQ(r->status, 201) << r->body;
    Json p(r->body);
    pixel_ = std::string(p["pixel_id"].get_string().value());
    token_ = std::string(p["access_token"].get_string().value());
  }
  std::string Body(const std::string& pixel, const std::string& events) {
    return R"({"event_source":"web","event_source_id":")" + pixel + R"(","data":[)" + events + "]}";
  }
  std::string Now() const { return std::to_string(srv_.now_s()); }
  // The debugger's answer, checked for status 200.
  std::string Debug(const std::string& query) {
    auto r = srv_.Client().Request("GET", "/api/v1/debug/events?" + query, "", Admin());
    EXPECT_EQ(r->status, 200) << r->body;
    EXPECT_EQ(r->Header("cache-control"), "no-store");
    return r->body;
  }
  std::vector<simdjson::dom::element> Entries(const Json& j) {
    std::vector<simdjson::dom::element> out;
    simdjson::dom::array events = j["events"].get_array().value();
    for (auto e : events) out.push_back(e);
    return out;
  }

  TestServer srv_;
  std::string pixel_, token_;
};

TEST_F(DebuggerTest, NativeBatchShowsEachOutcomeNewestFirstWithHashedKeysOnly) {
  auto c = srv_.Client();
  std::string events =
      R"({"event":"CompletePayment","event_id":"o-1","event_time":)" + Now() +
      R"(,"user":{"email":" Jane@Example.com ","phone":"+1 555 010 0000"},"properties":{"value":42,"currency":"USD"}},)"
      R"({"event":"AddToCart","event_time":)" +
      Now() +
      R"(,"properties":{"value":"12"}},)"
      R"({"event":"CompletePayment","event_id":"o-1","event_time":)" +
      Now() + R"(,"user":{"ttp":"c-1"}})";
  auto r = c.Request("POST", "/api/v1/events", Body(pixel_, events), {{"Access-Token", token_}});
  ASSERT_EQ(r->status, 200) << r->body;

  std::string body = Debug("pixel_id=" + pixel_);
  EXPECT_EQ(body.find("Jane"), std::string::npos) << "clear email in the debugger: " << body;
  EXPECT_EQ(body.find("example.com"), std::string::npos);
  // The phone in any clear form. (Not "555" alone: random pixel ids and hashes may contain it.)
  for (const char* clear : {"+1 555 010 0000", "15550100000", "+15550100000", "555 010 0000"})
    EXPECT_EQ(body.find(clear), std::string::npos) << clear;
  Json j(body);
  EXPECT_EQ(Int(j.root, "capacity"), 200);
  auto e = Entries(j);
  ASSERT_EQ(e.size(), 3u) << body;
  // The rejection is known before the commit; the two written events after it, in batch order.
  // Newest first: duplicate (index 2), accepted (index 0), rejected (index 1).
  EXPECT_EQ(Str(e[2], "outcome"), "rejected");
  EXPECT_EQ(Int(e[2], "index"), 1);
  EXPECT_EQ(Str(e[2], "error"), "data[1].properties.value: must be a number");
  EXPECT_EQ(Str(e[2], "reason"), "data[].properties.value:type");
  EXPECT_EQ(Str(e[2], "endpoint"), "/api/v1/events");
  EXPECT_TRUE(e[2]["event"].error()) << "a rejected event must not be stored";

  EXPECT_EQ(Str(e[1], "outcome"), "accepted");
  EXPECT_EQ(Int(e[1], "index"), 0);
  EXPECT_EQ(Str(e[1], "name"), "CompletePayment");
  EXPECT_EQ(Str(e[1], "event_id"), "o-1");
  EXPECT_EQ(Str(e[1], "type"), "site");
  EXPECT_EQ(Str(e[1], "pixel_id"), pixel_);
  EXPECT_GT(Int(e[1], "seq"), 0);
  simdjson::dom::element ev = e[1]["event"].value();
  EXPECT_EQ(Str(ev, "event"), "CompletePayment");
  EXPECT_EQ(ev["properties"]["value"].get_double().value(), 42);
  EXPECT_EQ(std::string(ev["user"]["email"].at(0).get_string().value()),
            ingest::Sha256Hex("jane@example.com"));
  EXPECT_EQ(std::string(ev["user"]["phone"].at(0).get_string().value()),
            ingest::Sha256Hex("+15550100000"));

  EXPECT_EQ(Str(e[0], "outcome"), "duplicate");
  EXPECT_EQ(Int(e[0], "index"), 2);
  EXPECT_EQ(Int(e[0], "seq"), Int(e[1], "seq"));  // the stored first copy
  EXPECT_TRUE(e[0]["merged"].get_bool().value());
  EXPECT_GT(Int(e[0], "id"), Int(e[1], "id"));

  // Filters: outcome, and polling with after=.
  Json rejected(Debug("pixel_id=" + pixel_ + "&outcome=rejected"));
  ASSERT_EQ(Entries(rejected).size(), 1u);
  Json newer(Debug("after=" + std::to_string(Int(e[1], "id"))));
  ASSERT_EQ(Entries(newer).size(), 1u);
  EXPECT_EQ(Str(Entries(newer)[0], "outcome"), "duplicate");
  EXPECT_EQ(Int(newer.root, "last_id"), Int(e[0], "id"));
  Json one(Debug("limit=1"));
  ASSERT_EQ(Entries(one).size(), 1u);
}

TEST_F(DebuggerTest, TikTokBatchRefusedWholeNamesTheBadEventAndTheInnocentOnes) {
  std::string events = R"({"event":"ViewContent","event_time":)" + Now() +
                       R"(},)"
                       R"({"event":"Purchase","event_time":)" +
                       std::to_string(srv_.now_s() - 40 * 86400) + "}";
  auto r = srv_.Client().Request("POST", "/open_api/v1.3/event/track/", Body(pixel_, events),
                                 {{"Access-Token", token_}});
  ASSERT_EQ(Json(r->body)["code"].get_int64().value(), 40002) << r->body;
  Json j(Debug("pixel_id=" + pixel_));
  auto e = Entries(j);
  ASSERT_EQ(e.size(), 2u);
  std::map<int64_t, simdjson::dom::element> by_index = {{Int(e[0], "index"), e[0]},
                                                        {Int(e[1], "index"), e[1]}};
  EXPECT_EQ(Str(by_index[1], "error"), "data[1].event_time: more than 28 days old");
  EXPECT_EQ(Str(by_index[1], "reason"), "data[].event_time:too_old");
  EXPECT_EQ(Str(by_index[0], "outcome"), "rejected");
  EXPECT_EQ(Str(by_index[0], "name"), "ViewContent");
  EXPECT_EQ(Str(by_index[0], "reason"), "batch:failed_with_other_event");
  EXPECT_NE(Str(by_index[0], "error").find("data[1].event_time"), std::string::npos);
  EXPECT_EQ(Str(by_index[0], "endpoint"), "/open_api/v1.3/event/track/");
}

TEST_F(DebuggerTest, RequestsRefusedWholeAreOneEntryWithTheirReason) {
  auto c = srv_.Client();
  std::string one = R"({"event":"Lead","event_time":)" + Now() + "}";
  EXPECT_EQ(c.Request("POST", "/api/v1/events", Body(pixel_, one))->status, 401);  // no token
  EXPECT_EQ(c.Request("POST", "/api/v1/events", Body("TPNOSUCHPIXEL", one + "," + one),
                      {{"Access-Token", token_}})
                ->status,
            404);
  EXPECT_EQ(
      c.Request("POST", "/open_api/v1.3/event/track/", "{not json", {{"Access-Token", token_}})
          ->status,
      200);
  Json j(Debug("type=site"));
  auto e = Entries(j);
  ASSERT_EQ(e.size(), 3u) << j.root;
  EXPECT_EQ(Str(e[2], "reason"), "auth:missing_token");
  EXPECT_EQ(Str(e[2], "error"), "Access-Token header (or Authorization: Bearer): required");
  EXPECT_EQ(Str(e[2], "pixel_id"), "");
  EXPECT_EQ(Int(e[2], "index"), -999);  // the request as a whole
  EXPECT_EQ(Str(e[1], "reason"), "pixel:unknown");
  EXPECT_EQ(Str(e[1], "pixel_id"), "TPNOSUCHPIXEL");
  EXPECT_EQ(Int(e[1], "events"), 2);
  EXPECT_EQ(Str(e[0], "reason"), "body:invalid");
  EXPECT_EQ(Str(e[0], "error").rfind("body: malformed JSON", 0), 0u) << Str(e[0], "error");
  // The pixel filter is exact: refusals without a pixel do not show under ours.
  Json mine(Debug("pixel_id=" + pixel_));
  EXPECT_EQ(Entries(mine).size(), 0u);
}

TEST_F(DebuggerTest, BeaconGifAdEventsAndClicksAreRecordedInTheirRings) {
  auto c = srv_.Client();
  ASSERT_EQ(c.Request("PUT", "/api/v1/catalog", R"({"campaigns":[{"campaign_id":"c1","adgroups":[
      {"adgroup_id":"g1","ads":[{"ad_id":"a1","landing_url":"https://shop.example/a"}]}]}]})",
                      Admin())
                ->status,
            200);
  auto beacon =
      c.Request("POST", "/api/v1/pixel",
                R"({"pixel_id":")" + pixel_ +
                    R"(","events":[{"event":"PageView","user":{"ttp":"c.1"}},{"event":""}]})");
  ASSERT_EQ(beacon->status, 200) << beacon->body;
  ASSERT_EQ(
      c.Request("GET", "/api/v1/pixel.gif?pixel_id=" + pixel_ + "&event=ViewContent&email=a%40b.c")
          ->status,
      200);
  auto ads = c.Request("POST", "/api/v1/ad-events",
                       "{\"type\":\"impression\",\"ad_id\":\"a1\",\"event_time\":" + Now() +
                           ",\"user_key\":\"u1\"}\n"
                           "{\"type\":\"video_play\",\"ad_id\":\"a1\",\"event_time\":" +
                           Now() + "}\n",
                       Admin());
  ASSERT_EQ(ads->status, 200) << ads->body;
  ASSERT_EQ(c.Request("GET", "/c/a1?user_key=u1")->status, 302);
  ASSERT_EQ(c.Request("GET", "/c/nope")->status, 404);

  Json site_json(Debug("type=site"));
  auto site = Entries(site_json);
  ASSERT_EQ(site.size(), 3u);
  EXPECT_EQ(Str(site[0], "endpoint"), "/api/v1/pixel.gif");
  EXPECT_EQ(Str(site[0], "name"), "ViewContent");
  EXPECT_EQ(Str(site[0], "outcome"), "accepted");
  std::set<std::string> beacon_outcomes = {Str(site[1], "outcome"), Str(site[2], "outcome")};
  EXPECT_EQ(beacon_outcomes, (std::set<std::string>{"accepted", "rejected"}));
  for (auto e : site) {
    EXPECT_EQ(Str(e, "pixel_id"), pixel_);
    if (Str(e, "outcome") == "rejected") {
      EXPECT_EQ(Str(e, "error"), "events[1].event: required");
    }
  }

  Json ad_json(Debug("type=ad"));
  auto ad = Entries(ad_json);
  ASSERT_EQ(ad.size(), 4u);
  EXPECT_EQ(Str(ad[0], "endpoint"), "/c/nope");
  EXPECT_EQ(Str(ad[0], "reason"), "click:unknown_ad");
  EXPECT_EQ(Str(ad[0], "error"), "ad_id: unknown ad nope");
  EXPECT_EQ(Str(ad[1], "name"), "click");
  EXPECT_EQ(Str(ad[1], "outcome"), "accepted");
  EXPECT_EQ(Str(ad[1]["event"].value(), "ad_id"), "a1");
  // The rejection is known before the commit, the impression's outcome after it.
  EXPECT_EQ(Str(ad[2], "name"), "impression");
  EXPECT_EQ(Str(ad[2], "type"), "ad");
  EXPECT_EQ(Str(ad[3], "outcome"), "rejected");
  EXPECT_EQ(Str(ad[3], "error"), "events[1].watch_ms: required for a video_play");
  // Ad events belong to no pixel.
  Json mine(Debug("pixel_id=" + pixel_));
  for (auto e : Entries(mine)) EXPECT_EQ(Str(e, "type"), "site");
  // Both rings together, newest first.
  Json all_json(Debug("limit=200"));
  auto all = Entries(all_json);
  ASSERT_EQ(all.size(), 7u);
  for (size_t i = 1; i < all.size(); ++i) EXPECT_GT(Int(all[i - 1], "id"), Int(all[i], "id"));
}

TEST_F(DebuggerTest, KeepsOnlyTheNewestEntriesOfABigBatch) {
  std::string events;
  for (int i = 0; i < 250; ++i)
    events += (i ? "," : "") + (R"({"event":"PageView","event_id":"pv-)" + std::to_string(i) +
                                R"(","event_time":)" + Now() + "}");
  ASSERT_EQ(srv_.Client()
                .Request("POST", "/api/v1/events", Body(pixel_, events), {{"Access-Token", token_}})
                ->status,
            200);
  Json j(Debug("limit=200"));
  auto e = Entries(j);
  ASSERT_EQ(e.size(), 200u);
  EXPECT_EQ(Int(e.front(), "index"), 249);
  EXPECT_EQ(Str(e.front(), "event_id"), "pv-249");
  EXPECT_EQ(Int(e.back(), "index"), 50);
}

TEST_F(DebuggerTest, NeedsTheAdminTokenAndValidParameters) {
  auto c = srv_.Client();
  auto r = c.Request("GET", "/api/v1/debug/events");
  EXPECT_EQ(r->status, 401);
  EXPECT_EQ(
      c.Request("GET", "/api/v1/debug/events", "", {{"Authorization", "Bearer " + token_}})->status,
      401);
  auto bad = [&](const std::string& q) {
    return c.Request("GET", "/api/v1/debug/events?" + q, "", Admin())->body;
  };
  EXPECT_EQ(bad("limit=0"), R"({"error":"limit: must be an integer from 1 to 200"})");
  EXPECT_EQ(bad("limit=201"), R"({"error":"limit: must be an integer from 1 to 200"})");
  EXPECT_EQ(bad("type=pixel"), R"({"error":"type: must be site, ad or all"})");
  EXPECT_EQ(bad("outcome=ok"), R"({"error":"outcome: must be accepted, duplicate or rejected"})");
  EXPECT_EQ(bad("after=-1"), R"j({"error":"after: must be an entry id (an integer >= 0)"})j");
  EXPECT_EQ(bad("colour=red"), R"({"error":"colour: unknown parameter"})");
  Json empty(Debug(""));
  EXPECT_EQ(Int(empty.root, "last_id"), 0);
  EXPECT_EQ(empty["events"].get_array().value().size(), 0u);
}

// The ring on its own.
TEST(EventDebugger, RingDropsTheOldestAndCopiesOnlyWhatItCanKeep) {
  ManualClock clock(1700000000000);
  server::EventDebugger d(&clock, 3);
  auto newest = [](size_t n) {
    server::DebugQuery q;
    q.limit = n;
    return q;
  };
  for (int i = 0; i < 5; ++i) d.RecordRejected("/api/v1/events", "P", "e" + std::to_string(i), "x");
  auto got = d.Recent(newest(10));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].error, "e4");
  EXPECT_EQ(got[2].error, "e2");
  EXPECT_EQ(got[0].received_ms, 1700000000000);

  std::vector<store::StoredEvent> events;
  for (int i = 0; i < 10; ++i) {
    SiteEvent ev;
    ev.pixel_id = "P";
    ev.event = "E" + std::to_string(i);
    events.emplace_back(ev);
  }
  // Two parse errors in front: the written events are inputs 2..11.
  std::vector<Status> errors(12);
  errors[0] = InvalidArgument("data[0].event", ": required");
  errors[1] = InvalidArgument("data[1].event", ": required");
  auto pending = d.Prepare("/api/v1/events", "P", errors, events);
  EXPECT_EQ(pending.kept, 3u);  // of the 10 written, only what the ring can show
  store::WriteResult wr;
  wr.outcomes.assign(10, store::WriteOutcome::kAccepted);
  wr.outcomes[9] = store::WriteOutcome::kDuplicate;
  for (uint64_t s = 1; s <= 10; ++s) {
    wr.seqs.push_back(s);
    wr.bodies.push_back(R"({"event":"E)" + std::to_string(s - 1) + R"("})");
  }
  d.RecordWrite(pending, wr);
  got = d.Recent(newest(3));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, "E9");
  EXPECT_EQ(got[0].index, 11);
  EXPECT_EQ(got[0].outcome, server::DebugOutcome::kDuplicate);
  EXPECT_EQ(got[0].seq, 10u);
  EXPECT_EQ(got[0].event_json, R"({"event":"E9"})");  // taken from the write's result
  EXPECT_EQ(got[2].name, "E7");
  EXPECT_EQ(got[2].index, 9);  // input 9: the 8th event written, after 2 refused inputs
  EXPECT_EQ(got[2].event_json, R"({"event":"E7"})");
  EXPECT_EQ(got[1].index, 10);
  EXPECT_EQ(got[2].id + 2, got[0].id);  // ids follow the write order

  // Newer entries push the write's older events out one by one (the ring counts entries).
  d.RecordRejected("/api/v1/events", "P", "late", "x");
  got = d.Recent(newest(10));
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].error, "late");
  EXPECT_EQ(got[1].name, "E9");
  EXPECT_EQ(got[2].name, "E8");
  EXPECT_EQ(got[2].index, 10);

  store::WriteResult failed;
  failed.status = Internal("disk full");
  for (int i = 0; i < 10; ++i)
    failed.bodies.push_back(R"({"event":"F)" + std::to_string(i) + R"("})");
  auto again = d.Prepare("/api/v1/events", "P", errors, events);  // a Pending is recorded once
  d.RecordWrite(again, failed);
  got = d.Recent(newest(1));
  EXPECT_EQ(got[0].outcome, server::DebugOutcome::kRejected);
  EXPECT_EQ(got[0].error, "disk full");
  EXPECT_EQ(got[0].reason, "store:error");
  EXPECT_EQ(got[0].name, "F9");  // the name, but not the event: a rejection shows its error
  EXPECT_TRUE(got[0].event_json.empty());
  EXPECT_TRUE(got[0].event_id.empty());
  d.RecordWrite(again, failed);  // recorded already: nothing more
  EXPECT_EQ(d.Recent(newest(3)).front().id, got[0].id);
}

// A record that is no longer visible lets its events go (its slot is reused only later).
TEST(EventDebugger, ForgottenRecordsKeepNoEvents) {
  ManualClock clock(1700000000000);
  server::EventDebugger d(&clock, 3);
  std::vector<store::StoredEvent> events(3, store::StoredEvent(SiteEvent{}));
  for (int w = 0; w < 5; ++w) {
    auto pending = d.Prepare("/api/v1/events", "P", {}, events);
    store::WriteResult wr;
    wr.outcomes.assign(3, store::WriteOutcome::kAccepted);
    wr.seqs = {1, 2, 3};
    for (int i = 0; i < 3; ++i)
      wr.bodies.push_back(R"({"event":"W)" + std::to_string(w) + "-" + std::to_string(i) + R"("})");
    d.RecordWrite(pending, wr);
  }
  // Each write of 3 pushes the one before out: only the last one's 3 events are kept.
  EXPECT_EQ(d.RetainedEvents(), 3u);
  server::DebugQuery q;
  auto got = d.Recent(q);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[0].name, "W4-2");
  EXPECT_EQ(got[2].name, "W4-0");
  // One rejection pushes one of them out; the rest of that record stays visible and kept.
  d.RecordRejected("/api/v1/events", "P", "no", "x");
  EXPECT_EQ(d.RetainedEvents(), 3u);
  got = d.Recent(q);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_EQ(got[2].name, "W4-1");
  d.RecordRejected("/api/v1/events", "P", "no", "x");
  d.RecordRejected("/api/v1/events", "P", "no", "x");
  EXPECT_EQ(d.RetainedEvents(), 0u);  // the write is out of sight now
}

// Names and ids are read back from the events' JSON, for site and ad events.
TEST(EventDebugger, NamesAndIdsComeFromTheStoredJson) {
  ManualClock clock(1700000000000);
  server::EventDebugger d(&clock, 10);
  std::vector<store::StoredEvent> events;
  events.emplace_back(SiteEvent{});
  events.emplace_back(SiteEvent{});
  auto site = d.Prepare("/api/v1/events", "P", {}, events);
  store::WriteResult wr;
  wr.outcomes = {store::WriteOutcome::kAccepted, store::WriteOutcome::kMerged};
  wr.seqs = {7, 3};
  wr.bodies = {R"({"kind":"site","event":"Purchase","event_id":"o-1","test_event_code":"T1"})",
               R"({"kind":"site","event":"Purchase","event_id":"o-0"})"};
  d.RecordWrite(site, wr);
  std::vector<store::StoredEvent> ads;
  ads.emplace_back(AdEvent{});
  auto click = d.Prepare("/c/ad1", "", {}, ads);
  store::WriteResult cr;
  cr.outcomes = {store::WriteOutcome::kAccepted};
  cr.seqs = {8};
  cr.bodies = {R"({"kind":"ad","type":"click","event_id":"k1","ad_id":"ad1"})"};
  d.RecordWrite(click, cr);

  server::DebugQuery q;
  auto got = d.Recent(q);
  ASSERT_EQ(got.size(), 3u);
  EXPECT_TRUE(got[0].ad);
  EXPECT_EQ(got[0].name, "click");
  EXPECT_EQ(got[0].endpoint, "/c/ad1");
  EXPECT_TRUE(got[0].event_id.empty());  // ad events show no event_id, as before
  EXPECT_EQ(got[0].seq, 8u);
  EXPECT_EQ(got[1].name, "Purchase");
  EXPECT_EQ(got[1].event_id, "o-0");
  EXPECT_EQ(got[1].outcome, server::DebugOutcome::kDuplicate);
  EXPECT_TRUE(got[1].merged);
  EXPECT_EQ(got[1].seq, 3u);
  EXPECT_EQ(got[1].index, 1);
  EXPECT_EQ(got[2].event_id, "o-1");
  EXPECT_EQ(got[2].test_event_code, "T1");
  EXPECT_EQ(got[2].outcome, server::DebugOutcome::kAccepted);
  EXPECT_EQ(got[2].pixel_id, "P");
  q.ad = false;
  q.outcome = server::DebugOutcome::kDuplicate;
  got = d.Recent(q);
  ASSERT_EQ(got.size(), 1u);
  EXPECT_EQ(got[0].event_id, "o-0");
}

}  // namespace
}  // namespace touchpoint::testing
