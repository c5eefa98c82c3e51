#include "ingest/events_api.h"

#include <gtest/gtest.h>

#include "format/json_fields.h"
#include "ingest/hashing.h"

namespace touchpoint::ingest {
namespace {

using namespace format;  // JsonPath (src/format/)

constexpr int64_t kNowS = 1700000000;

ParseContext Ctx() {
  ParseContext c;
  c.now_ms = kNowS * 1000;
  return c;
}

std::string Body(const std::string& event_json) {
  return R"({"event_source":"web","event_source_id":"PIX1","data":[)" + event_json + "]}";
}

std::string FirstError(const std::string& body) {
  auto b = ParseEventsApi2(body, Ctx());
  if (!b.ok()) return b.status().message();
  const Status* e = b->FirstError();
  return e ? e->message() : "";
}

TEST(EventsApi2, ParsesTikTokShapedBody) {
  auto b = ParseEventsApi2(
      R"({"event_source":"web","event_source_id":"PIX1","test_event_code":"T1","partner_name":"X",
          "data":[{"event":"CompletePayment","event_time":1699999000,"event_id":"order_789",
          "user":{"ttclid":"E.C.P.abc","ttp":"cookie","email":"Jane@Example.com",
                  "phone":["+1 650 555 1212"],"external_id":"u1","ip":"13.57.97.131",
                  "user_agent":"UA"},
          "properties":{"contents":[{"content_id":"1077218","content_name":"Socks","price":8,
                        "quantity":2}],"content_type":"product","currency":"USD","value":46,
                        "order_id":"o-1"},
          "page":{"url":"http://shop.example/p","referrer":"http://shop.example"}}]})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->pixel_id, "PIX1");
  EXPECT_EQ(b->test_event_code, "T1");
  ASSERT_EQ(b->events.size(), 1u);
  ASSERT_TRUE(b->events[0].status.ok()) << b->events[0].status.message();
  const SiteEvent& e = *b->events[0].event;
  EXPECT_EQ(e.pixel_id, "PIX1");
  EXPECT_EQ(e.event, "CompletePayment");
  EXPECT_EQ(e.event_id, "order_789");
  EXPECT_EQ(e.event_time_ms, 1699999000000);
  EXPECT_EQ(e.user.ttclid, "E.C.P.abc");
  EXPECT_EQ(e.user.email_sha256, std::vector<std::string>{Sha256Hex("jane@example.com")});
  EXPECT_EQ(e.user.phone_sha256, std::vector<std::string>{Sha256Hex("+16505551212")});
  EXPECT_EQ(e.user.external_id_sha256, std::vector<std::string>{Sha256Hex("u1")});
  EXPECT_EQ(e.user.ip, "13.57.97.0");
  ASSERT_TRUE(e.value.has_value());
  EXPECT_DOUBLE_EQ(*e.value, 46);
  EXPECT_EQ(e.currency, "USD");
  ASSERT_EQ(e.contents.size(), 1u);
  EXPECT_EQ(e.contents[0].content_id, "1077218");
  EXPECT_EQ(e.contents[0].quantity, 2);
  EXPECT_EQ(e.page_url, "http://shop.example/p");
}

TEST(EventsApi2, NumericEventIdIsRejectedAsTikTokDoes) {
  EXPECT_EQ(FirstError(Body(R"({"event":"Purchase","event_time":1699999000,"event_id":123})")),
            "data[0].event_id: must be a string");
}

TEST(EventsApi2, NumericContentIdIsRejected) {
  EXPECT_EQ(FirstError(Body(R"({"event":"Purchase","event_time":1699999000,
                               "properties":{"contents":[{"content_id":1077218}]}})")),
            "data[0].properties.contents[0].content_id: must be a string");
}

TEST(EventsApi2, EventTimeMustBeUnixSeconds) {
  EXPECT_EQ(FirstError(Body(R"({"event":"Purchase","event_time":"yesterday"})")),
            "data[0].event_time: must be Unix seconds");
  EXPECT_EQ(FirstError(Body(R"({"event":"Purchase"})")),
            "data[0].event_time: required (Unix seconds)");
  EXPECT_EQ(FirstError(Body(R"({"event":"Purchase","event_time":1699999000000})")),
            "data[0].event_time: must be Unix seconds (this looks like milliseconds)");
}

TEST(EventsApi2, EventOlderThan28DaysIsRejected) {
  int64_t old_s = kNowS - 28 * 86400 - 1;
  EXPECT_EQ(FirstError(Body(R"({"event":"Purchase","event_time":)" + std::to_string(old_s) + "}")),
            "data[0].event_time: more than 28 days old");
  int64_t edge_s = kNowS - 28 * 86400;  // exactly 28 days is still accepted
  EXPECT_EQ(FirstError(Body(R"({"event":"Purchase","event_time":)" + std::to_string(edge_s) + "}")),
            "");
}

TEST(EventsApi2, EventMoreThanTenMinutesAheadIsRejected) {
  EXPECT_EQ(
      FirstError(Body(R"({"event":"Purchase","event_time":)" + std::to_string(kNowS + 601) + "}")),
      "data[0].event_time: more than 10 minutes in the future");
  EXPECT_EQ(
      FirstError(Body(R"({"event":"Purchase","event_time":)" + std::to_string(kNowS + 600) + "}")),
      "");
}

TEST(EventsApi2, MalformedJsonFailsTheBody) {
  auto b = ParseEventsApi2(R"({"event_source_id":"P","data":[{"event":)", Ctx());
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("body: malformed JSON"), std::string::npos);
}

TEST(EventsApi2, BatchOver1000EventsIsRejected) {
  std::string data;
  for (int i = 0; i < 1001; ++i)
    data += (i ? "," : "") + std::string(R"({"event":"A","event_time":1699999000})");
  auto b = ParseEventsApi2(Body(data), Ctx());
  ASSERT_FALSE(b.ok());
  EXPECT_EQ(b.status().message(), "data: more than 1000 events in one request");
  EXPECT_EQ(b.status().code(), StatusCode::kTooLarge);
}

TEST(EventsApi2, OverlongStringsAreRejectedWithTheirField) {
  std::string ua(2000, 'x');
  EXPECT_EQ(FirstError(Body(R"({"event":"A","event_time":1699999000,"user":{"user_agent":")" + ua +
                            "\"}}")),
            "data[0].user.user_agent: longer than 1024 bytes");
}

TEST(EventsApi2, MissingPixelAndWrongSource) {
  auto b = ParseEventsApi2(R"({"data":[]})", Ctx());
  EXPECT_EQ(b.status().message(), "event_source_id: required");
  b = ParseEventsApi2(R"({"event_source":"tv","event_source_id":"P","data":[{}]})", Ctx());
  EXPECT_EQ(b.status().message(), "event_source: must be one of web, app, offline, crm");
}

TEST(EventsApi2, ClickIdComesFromLandingUrlWhenNotGiven) {
  auto b = ParseEventsApi2(Body(R"({"event":"PageView","event_time":1699999000,
                                   "page":{"url":"https://s.example/?a=b&ttclid=CLK%2E1#x"}})"),
                           Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(b->events[0].event->user.ttclid, "CLK.1");
}

TEST(EventsApi2, ValueDefaultsToSumOfContents) {
  auto b = ParseEventsApi2(Body(R"({"event":"Purchase","event_time":1699999000,"properties":
      {"contents":[{"content_id":"a","price":2.5,"quantity":2},{"content_id":"b","price":1}]}})"),
                           Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_DOUBLE_EQ(*b->events[0].event->value, 6.0);
}

TEST(JsonPath, RendersKeysAndIndices) {
  EXPECT_EQ(JsonPath().str(), "");
  EXPECT_EQ(JsonPath().Key("name").str(), "name");  // no leading dot at the top level
  EXPECT_EQ(JsonPath().Index(0).str(), "[0]");
  EXPECT_EQ(JsonPath("data").Index(12).Key("user").Key("email").Index(3).str(),
            "data[12].user.email[3]");
  const std::string rendered = "campaigns[0].adgroups";
  const JsonPath adgroups(rendered);  // a root already rendered (it must outlive the path)
  EXPECT_EQ(adgroups.Index(1).Key("ads").Index(2).str(), "campaigns[0].adgroups[1].ads[2]");
  EXPECT_EQ(FieldPath("", "name"), "name");
  EXPECT_EQ(FieldPath("data[1]", "page"), "data[1].page");
  EXPECT_EQ(IndexPath(JsonPath("spend"), 7), "spend[7]");
}

// Every level of nesting names its field in the error: paths are built lazily (only for the
// error), so each level's rendering is checked here, in all the shapes the parsers accept.
TEST(EventsApi2, ErrorsNameTheFieldAtEveryDepth) {
  const std::string ok = R"({"event":"A","event_time":1699999000})";
  auto nth = [&](const std::string& bad) {  // the bad event is data[2], behind two good ones
    auto b = ParseEventsApi2(R"({"event_source":"web","event_source_id":"PIX1","data":[)" + ok +
                                 "," + ok + "," + bad + "]}",
                             Ctx());
    if (!b.ok()) return b.status().message();
    EXPECT_EQ(b->RejectedCount(), 1u);
    return b->FirstError() ? b->FirstError()->message() : std::string("(accepted)");
  };
  EXPECT_EQ(nth("7"), "data[2]: must be an object");
  EXPECT_EQ(nth(R"({"event_time":1699999000})"), "data[2].event: required");
  EXPECT_EQ(nth(R"({"event":"A","event_time":1699999000,"user":{"phone":"no digits"}})"),
            "data[2].user.phone: not a valid value");
  EXPECT_EQ(nth(R"({"event":"A","event_time":1699999000,"user":{"external_id":["u1",2]}})"),
            "data[2].user.external_id[1]: must be a string");
  EXPECT_EQ(nth(R"({"event":"A","event_time":1699999000,"user":[]})"),
            "data[2].user: must be an object");
  EXPECT_EQ(nth(R"({"event":"A","event_time":1699999000,"properties":{"contents":[{},5]}})"),
            "data[2].properties.contents[1]: must be an object");
  EXPECT_EQ(
      nth(R"({"event":"A","event_time":1699999000,"properties":{"contents":[{"price":"1"}]}})"),
      "data[2].properties.contents[0].price: must be a number");
  EXPECT_EQ(nth(R"({"event":"A","event_time":1699999000,"properties":{"contents":{}}})"),
            "data[2].properties.contents: must be an array");
  EXPECT_EQ(nth(R"({"event":"A","event_time":1699999000,"page":{"referrer":1}})"),
            "data[2].page.referrer: must be a string");
  // Top-level fields have no prefix.
  EXPECT_EQ(FirstError(R"({"event_source_id":"PIX1","test_event_code":1,"data":[]})"),
            "test_event_code: must be a string");
}

TEST(EventsApi1, ErrorsNameTheFieldAtEveryDepth) {
  auto b = ParseEventsApi1Batch(
      R"({"pixel_code":"PIX1","batch":[{"event":"A"},
          {"event":"B","context":{"ad":{"callback":7}}},
          {"event":"C","context":{"user":{"email":["a@b.co",{}]}}},
          {"event":"D","context":{"page":{"url":false}}}]})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->events.size(), 4u);
  EXPECT_TRUE(b->events[0].status.ok());
  EXPECT_EQ(b->events[1].status.message(), "batch[1].context.ad.callback: must be a string");
  EXPECT_EQ(b->events[2].status.message(), "batch[2].context.user.email[1]: must be a string");
  EXPECT_EQ(b->events[3].status.message(), "batch[3].context.page.url: must be a string");
  auto beacon = ParsePixelBeacon(
      R"({"pixel_id":"PIX1","events":[{"event":"A"},{"event":"B","properties":{"value":"x"}}]})",
      Ctx());
  ASSERT_TRUE(beacon.ok()) << beacon.status().message();
  EXPECT_EQ(beacon->events[1].status.message(), "events[1].properties.value: must be a number");
  auto single = ParsePixelBeacon(R"({"pixel_id":"PIX1","event":"A","user":{"ttp":1}})", Ctx());
  ASSERT_TRUE(single.ok()) << single.status().message();
  EXPECT_EQ(single->events[0].status.message(), "user.ttp: must be a string");
}

TEST(EventsApi1, TrackBodyMapsRenamedFields) {
  auto b = ParseEventsApi1Track(
      R"({"pixel_code":"PIX1","event":"CompletePayment","event_id":"e1",
          "timestamp":"2023-11-14T22:00:00Z",
          "context":{"ad":{"callback":"CLICK1"},"user":{"phone_number":"+16505551212","ttp":"c"},
                     "ip":"1.2.3.4","user_agent":"UA","page":{"url":"https://x.example"}},
          "properties":{"value":3,"currency":"EUR"}})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_TRUE(b->events[0].status.ok()) << b->events[0].status.message();
  const SiteEvent& e = *b->events[0].event;
  EXPECT_EQ(e.pixel_id, "PIX1");
  EXPECT_EQ(e.user.ttclid, "CLICK1");
  EXPECT_EQ(e.user.phone_sha256[0], Sha256Hex("+16505551212"));
  EXPECT_EQ(e.user.ip, "1.2.3.0");
  // 1700000000 is 2023-11-14T22:13:20Z, so 22:00:00Z is 800 s earlier.
  EXPECT_EQ(e.event_time_ms, 1700000000000 - 800000);
}

TEST(EventsApi1, BatchBodyReportsBadTimestampByIndex) {
  auto b = ParseEventsApi1Batch(
      R"({"pixel_code":"PIX1","batch":[{"type":"track","event":"A"},
          {"type":"track","event":"B","timestamp":"last tuesday"}]})",
      Ctx());
  ASSERT_TRUE(b.ok());
  ASSERT_EQ(b->events.size(), 2u);
  EXPECT_TRUE(b->events[0].status.ok());
  EXPECT_EQ(b->events[0].event->event_time_ms, Ctx().now_ms);
  EXPECT_EQ(b->events[1].status.message(),
            "batch[1].timestamp: must be ISO 8601 with a zone, like 2024-05-01T12:00:00Z");
}

TEST(PixelBeacon, UsesServerTimeAndHashesIdentify) {
  auto b = ParsePixelBeacon(
      R"({"pixel_id":"PIX1","event":"CompletePayment","event_id":"o1","event_time":1,
          "user":{"ttp":"c1","ttclid":"k1","email":"a@b.co"},"properties":{"value":5}})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  const SiteEvent& e = *b->events[0].event;
  EXPECT_EQ(e.source, "pixel");
  EXPECT_EQ(e.event_time_ms, Ctx().now_ms);
  EXPECT_EQ(e.user.email_sha256[0], Sha256Hex("a@b.co"));
}

TEST(PixelQuery, ParsesImgFallback) {
  auto b = ParsePixelQuery(
      "pixel_id=PIX1&event=CompletePayment&event_id=o1&ttclid=k&ttp=c&url=https%3A%2F%2Fs.example%"
      "2F&value=12.5&currency=USD",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  const SiteEvent& e = *b->events[0].event;
  EXPECT_EQ(b->pixel_id, "PIX1");
  EXPECT_EQ(e.page_url, "https://s.example/");
  EXPECT_DOUBLE_EQ(*e.value, 12.5);
}

TEST(PixelQuery, RejectsBadValueAndMissingEvent) {
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&event=A&value=abc", Ctx()).status().message(),
            "value: must be a number");
  EXPECT_EQ(ParsePixelQuery("pixel_id=P", Ctx()).status().message(), "event: required");
  EXPECT_EQ(ParsePixelQuery("event=A", Ctx()).status().message(), "pixel_id: required");
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&event=%zz", Ctx()).status().message(),
            "query: malformed percent-encoding");
}

// Values, prices and quantities are bounded in every parser: a negative value would subtract
// revenue, and two values near DBL_MAX would sum to inf (revenue "null").
TEST(Values, NegativeHugeAndOverLimitAmountsAreRejectedWithTheField) {
  auto err = [](const std::string& props) {
    return FirstError(Body(R"({"event":"A","event_time":1699999000,"properties":)" + props + "}"));
  };
  EXPECT_EQ(err(R"({"value":-1e15})"), "data[0].properties.value: must be a finite number >= 0");
  EXPECT_EQ(err(R"({"value":-0.01})"), "data[0].properties.value: must be a finite number >= 0");
  EXPECT_EQ(err(R"({"value":1e308})"), "data[0].properties.value: must be at most 1000000000");
  EXPECT_EQ(err(R"({"value":1000000000.5})"),
            "data[0].properties.value: must be at most 1000000000");
  EXPECT_EQ(err(R"({"value":1000000000})"), "");  // the limit itself is allowed
  EXPECT_EQ(err(R"({"value":0})"), "");
  EXPECT_EQ(err(R"({"contents":[{"price":-5}]})"),
            "data[0].properties.contents[0].price: must be a finite number >= 0");
  EXPECT_EQ(err(R"({"contents":[{"price":2e9}]})"),
            "data[0].properties.contents[0].price: must be at most 1000000000");
  EXPECT_EQ(err(R"({"contents":[{"price":1,"quantity":-1}]})"),
            "data[0].properties.contents[0].quantity: must be an integer from 0 to 1000000");
  EXPECT_EQ(err(R"({"contents":[{"price":1,"quantity":1000001}]})"),
            "data[0].properties.contents[0].quantity: must be an integer from 0 to 1000000");
  EXPECT_EQ(err(R"({"content_id":"x","price":-1})"),
            "data[0].properties.price: must be a finite number >= 0");
  EXPECT_EQ(err(R"({"content_id":"x","price":1,"quantity":2000000})"),
            "data[0].properties.quantity: must be an integer from 0 to 1000000");
  // Each price and quantity is in range, but 600,000,000 x 2 = 1.2e9 is not.
  EXPECT_EQ(err(R"({"contents":[{"price":6e8,"quantity":2}]})"),
            "data[0].properties.contents: price x quantity sums to more than 1000000000");
}

TEST(Values, EveryParserBoundsTheValue) {
  auto b1 =
      ParseEventsApi1Track(R"({"pixel_code":"PIX1","event":"A","properties":{"value":-3}})", Ctx());
  ASSERT_TRUE(b1.ok());
  EXPECT_EQ(b1->events[0].status.message(), "properties.value: must be a finite number >= 0");
  auto beacon =
      ParsePixelBeacon(R"({"pixel_id":"PIX1","event":"A","properties":{"value":-1e15}})", Ctx());
  ASSERT_TRUE(beacon.ok());
  EXPECT_EQ(beacon->events[0].status.message(), "properties.value: must be a finite number >= 0");
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&event=A&value=-1e15", Ctx()).status().message(),
            "value: must be a finite number >= 0");
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&event=A&value=1e308", Ctx()).status().message(),
            "value: must be at most 1000000000");
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&event=A&value=inf", Ctx()).status().message(),
            "value: must be a finite number >= 0");
}

TEST(Values, MaxValueIsTheCallersLimit) {
  ParseContext ctx = Ctx();
  ctx.limits.max_value = 100;
  auto b =
      ParsePixelBeacon(R"({"pixel_id":"PIX1","events":[{"event":"A","properties":{"value":100}},
      {"event":"A","properties":{"value":100.5}}]})",
                       ctx);
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->events[0].status.ok());
  EXPECT_EQ(b->events[1].status.message(), "events[1].properties.value: must be at most 100");
}

TEST(Ips, BodyIpsAreParsedTruncatedOrRejected) {
  auto ip = [](const std::string& user) {
    auto b = ParseEventsApi2(Body(R"({"event":"A","event_time":1699999000,"user":)" + user + "}"),
                             Ctx());
    if (!b.ok()) return b.status().message();
    if (!b->events[0].status.ok()) return b->events[0].status.message();
    return "stored " + b->events[0].event->user.ip;
  };
  EXPECT_EQ(ip(R"({"ip":"203.0.113.77"})"), "stored 203.0.113.0");
  EXPECT_EQ(ip(R"({"ip":"203.0.113.77:8080"})"), "stored 203.0.113.0");
  EXPECT_EQ(ip(R"({"ip":"::ffff:203.0.113.77"})"), "stored 203.0.113.0");
  EXPECT_EQ(ip(R"({"ip":"[2001:db8:1:2::3]:443"})"), "stored 2001:db8:1::");
  EXPECT_EQ(ip(R"({"ip":"203.0.113.77, 10.0.0.1"})"), "data[0].user.ip: not an IP address");
  EXPECT_EQ(ip(R"({"ip":"my-laptop"})"), "data[0].user.ip: not an IP address");
  auto b1 =
      ParseEventsApi1Track(R"({"pixel_code":"PIX1","event":"A","context":{"ip":"x.y"}})", Ctx());
  ASSERT_TRUE(b1.ok());
  EXPECT_EQ(b1->events[0].status.message(), "context.ip: not an IP address");
  auto beacon =
      ParsePixelBeacon(R"({"pixel_id":"PIX1","event":"A","user":{"ip":"1.2.3.4:5"}})", Ctx());
  ASSERT_TRUE(beacon.ok());
  EXPECT_EQ(beacon->events[0].event->user.ip, "1.2.3.0");
}

TEST(Utf8Input, QueryBytesThatAreNotTextAreRejectedByName) {
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&event=A&description=%C3%28", Ctx()).status().message(),
            "description: not valid UTF-8");
  // The name itself is bad: it is not echoed, its position is.
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&%FF=1&event=A", Ctx()).status().message(),
            "query: parameter 2's name is not valid UTF-8");
  EXPECT_EQ(ParsePixelQuery("pixel_id=P&event=A&url=%ED%A0%80", Ctx()).status().message(),
            "url: not valid UTF-8");  // an encoded UTF-16 surrogate
}

TEST(Utf8Input, JsonBodyThatIsNotUtf8SaysSo) {
  EXPECT_EQ(FirstError(Body("{\"event\":\"A\xC0\xAF\",\"event_time\":1699999000}")),
            "body: not valid UTF-8");
  auto beacon = ParsePixelBeacon("{\"pixel_id\":\"P\",\"event\":\"\xFF\"}", Ctx());
  EXPECT_EQ(beacon.status().message(), "body: not valid UTF-8");
}

// Every Events API 2.0 field the spec lists (ad-platform spec 2.2) is stored; none warns.
TEST(EventsApi2, StoresEveryDocumentedFieldWithoutAWarning) {
  auto b = ParseEventsApi2(
      R"({"event_source":"crm","event_source_id":"PIX1","partner_name":"MyServer",
          "data":[{"event":"SubmitForm","event_time":1699999000,"event_id":"lead-1",
          "user":{"email":"a@b.example","first_name":" John ","last_name":"O'Brien",
                  "zip_code":"94107-1234","city":"San Francisco","state":"CA","country":"US"},
          "properties":{"value":10,"currency":"USD","shop_id":"shop-9","num_items":3,
                        "predicted_ltv":120.5},
          "page":{"url":"https://shop.example/form"},
          "device":{"platform":"Android","model":"Pixel 8","mobile":true},
          "lead":{"lead_id":"7291234567890123456","lead_event_source":"HubSpot"},
          "app":{"app_id":"com.shop.app","app_name":"Shop","app_version":"2.1.0"},
          "ad":{"callback":"E.C.P.cb1"},
          "limited_data_use":true}]})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_TRUE(b->events[0].status.ok()) << b->events[0].status.message();
  EXPECT_EQ(b->Warnings(), std::vector<std::string>{});
  const SiteEvent& e = *b->events[0].event;
  EXPECT_EQ(e.source, "crm");
  EXPECT_EQ(e.partner_name, "MyServer");
  EXPECT_TRUE(e.limited_data_use);
  EXPECT_EQ(e.lead_id, "7291234567890123456");
  EXPECT_EQ(e.lead_event_source, "HubSpot");
  // printf '%s' john | sha256sum, and so on for obrien, 94107, sanfrancisco, ca, us.
  EXPECT_EQ(e.user.first_name_sha256,
            "96d9632f363564cc3032521409cf22a852f2032eec099ed5967c0d000cec607a");
  EXPECT_EQ(e.user.last_name_sha256,
            "b4cb6cb33fe4b865868de825023a1e2790dc12ac01ecc8d7c5afe8254071c8ba");
  EXPECT_EQ(e.user.zip_code_sha256,
            "c884a209ebe08750a7d13db63bd02233b375bd79786cbe329ab11586cc35dead");
  EXPECT_EQ(e.user.city_sha256, "1a6bd4d9d79dc0a79b53795c70d3349fa9e38968a3fbefbfe8783efb1d2b6aac");
  EXPECT_EQ(e.user.state_sha256,
            "6959097001d10501ac7d54c0bdb8db61420f658f2922cc26e46d536119a31126");
  EXPECT_EQ(e.user.country_sha256,
            "79adb2a2fce5c6ba215fe5f27f532d4e7edbac4b6a5e09e1ef3a08084a904621");
  EXPECT_EQ(e.user.ttclid, "E.C.P.cb1");  // ad.callback is the click id
  EXPECT_EQ(e.shop_id, "shop-9");
  EXPECT_EQ(e.num_items, 3);
  EXPECT_EQ(e.predicted_ltv, 120.5);
  EXPECT_EQ(e.app_id, "com.shop.app");
  EXPECT_EQ(e.app_name, "Shop");
  EXPECT_EQ(e.app_version, "2.1.0");
  EXPECT_EQ(e.device_platform, "Android");
  EXPECT_EQ(e.device_model, "Pixel 8");
  EXPECT_EQ(e.device_mobile, true);
}

TEST(EventsApi2, EveryFieldNotStoredIsNamedInAWarning) {
  auto b = ParseEventsApi2(
      R"({"event_source":"web","event_source_id":"PIX1","extra_top":1,
          "data":[{"event":"ViewContent","event_time":1699999000,"custom":"x",
          "user":{"ttp":"t","gender":"f"},
          "properties":{"brand":"Acme","contents":[{"content_id":"1","status":"in_stock"}]},
          "page":{"url":"https://a.example/","title":"Home"},
          "ad":{"campaign_id":"c1","ad_id":"a1"},
          "lead":{"lead_id":"1","score":5},
          "app":{"app_id":"x","bundle":"y"},
          "device":{"platform":"iOS","os_version":"17"}},
          {"event":"ViewContent","event_time":1699999000,"user":{"ttclid":"A"},
           "ad":{"callback":"B"}}]})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  ASSERT_EQ(b->RejectedCount(), 0u);
  const std::string kNot = ": not stored (not a field Touchpoint keeps)";
  EXPECT_EQ(b->Warnings(),
            (std::vector<std::string>{
                "extra_top" + kNot, "data[0].user.gender" + kNot,
                "data[0].properties.contents[0].status" + kNot, "data[0].properties.brand" + kNot,
                "data[0].page.title" + kNot, "data[0].ad.campaign_id" + kNot,
                "data[0].ad.ad_id" + kNot, "data[0].lead.score" + kNot, "data[0].app.bundle" + kNot,
                "data[0].device.os_version" + kNot, "data[0].custom" + kNot,
                "data[1].ad.callback: not stored (differs from user.ttclid, which is kept)"}));
  EXPECT_EQ(b->events[1].event->user.ttclid, "A");
  // The answer is bounded: past the maximum, one line counts the rest.
  auto few = b->Warnings(3);
  ASSERT_EQ(few.size(), 4u);
  EXPECT_EQ(few[3], "... and 9 more warnings");
}

TEST(EventsApi2, TheOneItemShortcutWithoutContentIdIsWarnedAbout) {
  auto b = ParseEventsApi2(Body(R"({"event":"AddToCart","event_time":1699999000,
                                    "properties":{"price":5,"content_name":"Socks"}})"),
                           Ctx());
  ASSERT_TRUE(b.ok());
  EXPECT_TRUE(b->events[0].event->contents.empty());
  EXPECT_EQ(b->Warnings(), (std::vector<std::string>{
                               "data[0].properties.content_name: not stored (an item needs "
                               "content_id)",
                               "data[0].properties.price: not stored (an item needs content_id)"}));
}

TEST(EventsApi2, AnInvalidCountryIsWarnedAboutAndNotStored) {
  auto b = ParseEventsApi2(Body(R"({"event":"Search","event_time":1699999000,
                                    "user":{"country":"USA","city":"1234"}})"),
                           Ctx());
  ASSERT_TRUE(b.ok());
  ASSERT_TRUE(b->events[0].status.ok());
  EXPECT_EQ(b->events[0].event->user.country_sha256, "");
  EXPECT_EQ(b->events[0].event->user.city_sha256, "");
  EXPECT_EQ(b->Warnings(),
            (std::vector<std::string>{
                "data[0].user.city: not stored (nothing left after normalization)",
                "data[0].user.country: not stored (not an ISO 3166-1 alpha-2 code like US)"}));
}

TEST(EventsApi2, OfflineEventSetIdsMayBeJsonIntegers) {
  auto b = ParseEventsApi2(
      R"({"event_source":"offline","event_source_id":7291234567890123456,
          "data":[{"event":"CompletePayment","event_time":1699999000,"event_id":"o1"}]})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->pixel_id, "7291234567890123456");
  EXPECT_EQ(b->event_source, "offline");
  EXPECT_EQ(b->events[0].event->source, "offline");
  auto s = ParseEventsApi2(
      R"({"event_source":"offline","event_source_id":"7291234567890123456",
          "data":[{"event":"CompletePayment","event_time":1699999000}]})",
      Ctx());
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->pixel_id, "7291234567890123456");
  // A number with a fraction or exponent is a double whose digits are lost: refused, not rounded.
  EXPECT_EQ(FirstError(R"({"event_source":"offline","event_source_id":7.291234567890123e18,
                           "data":[{"event":"X","event_time":1699999000}]})"),
            "event_source_id: must be a string (as a number this large it loses digits)");
}

TEST(EventsApi2, NewFieldsAreCheckedAndNamedWhenWrong) {
  EXPECT_EQ(FirstError(Body(R"({"event":"X","event_time":1699999000,"limited_data_use":"yes"})")),
            "data[0].limited_data_use: must be true or false");
  EXPECT_EQ(FirstError(Body(R"({"event":"X","event_time":1699999000,
                                "properties":{"num_items":-1}})")),
            "data[0].properties.num_items: must be an integer from 0 to 1000000");
  EXPECT_EQ(FirstError(Body(R"({"event":"X","event_time":1699999000,
                                "properties":{"predicted_ltv":-5}})")),
            "data[0].properties.predicted_ltv: must be a finite number >= 0");
  EXPECT_EQ(FirstError(Body(R"({"event":"X","event_time":1699999000,"device":{"mobile":1}})")),
            "data[0].device.mobile: must be true or false");
  EXPECT_EQ(FirstError(Body(R"({"event":"X","event_time":1699999000,"lead":{"lead_id":1.5}})")),
            "data[0].lead.lead_id: must be a string (as a number this large it loses digits)");
}

TEST(EventsApi1, FieldsNotStoredAreNamedInWarnings) {
  auto b = ParseEventsApi1Track(
      R"({"pixel_code":"PIX1","event":"ViewContent","partner_name":"P","sdk":"x",
          "context":{"ad":{"callback":"cb","campaign_id":"c"},"library":{"name":"x"},
                     "user":{"email":"a@b.example"}}})",
      Ctx());
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->events[0].event->user.ttclid, "cb");
  EXPECT_EQ(b->events[0].event->partner_name, "P");
  const std::string kNot = ": not stored (not a field Touchpoint keeps)";
  EXPECT_EQ(b->Warnings(), (std::vector<std::string>{"context.ad.campaign_id" + kNot,
                                                     "context.library" + kNot, "sdk" + kNot}));
}

}  // namespace
}  // namespace touchpoint::ingest
