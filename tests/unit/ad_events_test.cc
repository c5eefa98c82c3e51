#include "ingest/ad_events.h"

#include <gtest/gtest.h>

namespace touchpoint::ingest {
namespace {

ParseContext Ctx() {
  ParseContext c;
  c.now_ms = 1700000000000;
  return c;
}

TEST(AdEvents, ParsesJsonArrayOfAllThreeTypes) {
  auto r = ParseAdEvents(R"([
    {"type":"impression","ad_id":"a1","event_time":1699990000,"user_key":"u1","age":"18-24",
     "gender":"female","country":"US","placement":"tiktok","os":"ios"},
    {"type":"video_play","ad_id":"a1","event_time":1699990001.5,"user_key":"u1","watch_ms":6500,
     "video_ms":15000},
    {"type":"click","ad_id":"a1","event_time":1699990002,"user_key":"u1","click_id":"C1",
     "email":"A@B.com"}])",
                         Ctx());
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->size(), 3u);
  for (auto& e : *r) ASSERT_TRUE(e.status.ok()) << e.status.message();
  EXPECT_EQ((*r)[0].event->age, "18-24");
  EXPECT_EQ((*r)[1].event->type, AdEventType::kVideoPlay);
  EXPECT_EQ((*r)[1].event->watch_ms, 6500);
  EXPECT_EQ((*r)[1].event->event_time_ms, 1699990001500);
  EXPECT_EQ((*r)[2].event->click_id, "C1");
  EXPECT_EQ((*r)[2].event->email_sha256.size(), 1u);
}

TEST(AdEvents, NdjsonRejectsBadLinesAlone) {
  auto r = ParseAdEvents(
      "{\"type\":\"impression\",\"ad_id\":\"a1\",\"event_time\":1699990000}\n"
      "{\"type\":\"click\",\"ad_id\":\"a1\",\"event_time\":1699990000}\n"
      "not json\n"
      "\n"
      "{\"type\":\"video_play\",\"ad_id\":\"a1\",\"event_time\":1699990000,\"watch_ms\":\"6s\"}\n"
      "{\"type\":\"impression\",\"ad_id\":\"a1\",\"event_time\":1699990000,\"age\":\"30\"}\n",
      Ctx());
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 5u);
  EXPECT_TRUE((*r)[0].status.ok());
  EXPECT_EQ((*r)[1].status.message(), "events[1].click_id: required for a click");
  EXPECT_NE((*r)[2].status.message().find("events[2]: malformed JSON"), std::string::npos);
  EXPECT_EQ((*r)[3].status.message(), "events[3].watch_ms: must be an integer");
  EXPECT_EQ((*r)[4].status.message(),
            "events[4].age: must be one of 13-17, 18-24, 25-34, 35-44, 45-54, 55+");
}

TEST(AdEvents, UnknownTypeAndOldTimes) {
  auto r = ParseAdEvents(R"([{"type":"view","ad_id":"a","event_time":1699990000},
                              {"type":"impression","ad_id":"a","event_time":1000}])",
                         Ctx());
  ASSERT_TRUE(r.ok());
  EXPECT_EQ((*r)[0].status.message(), "events[0].type: must be impression, video_play or click");
  EXPECT_EQ((*r)[1].status.message(), "events[1].event_time: more than 28 days old");
}

}  // namespace
}  // namespace touchpoint::ingest
