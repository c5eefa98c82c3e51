#include "ingest/scrub.h"

#include <gtest/gtest.h>

#include "ingest/events_api.h"

namespace touchpoint::ingest {
namespace {

TEST(ScrubUrl, IdentifierParamValuesAreReplacedInQueryAndFragment) {
  EXPECT_EQ(ScrubUrl("https://s.example/thanks?order=1001&email=jane&Phone=%2B4915112345678"),
            "https://s.example/thanks?order=1001&email=%5Bredacted%5D&Phone=%5Bredacted%5D");
  EXPECT_EQ(ScrubUrl("https://s.example/#tel=0301234567&x=1"),
            "https://s.example/#tel=%5Bredacted%5D&x=1");
  EXPECT_EQ(ScrubUrl("https://s.example/?a=1#/signup?E-Mail=j&step=2"),
            "https://s.example/?a=1#/signup?E-Mail=%5Bredacted%5D&step=2");
  // A name written percent-encoded is still the name: "e%2Dmail" is "e-mail".
  EXPECT_EQ(ScrubUrl("https://s.example/?e%2Dmail=j"),
            "https://s.example/?e%2Dmail=%5Bredacted%5D");
  // Other names, empty values and a path that merely says "email" are left alone.
  EXPECT_EQ(ScrubUrl("https://s.example/email/?emails_sent=3&email=&ttclid=E.1"),
            "https://s.example/email/?emails_sent=3&email=&ttclid=E.1");
}

TEST(ScrubUrl, EmailShapesAnywhereIncludingPercentEncoded) {
  EXPECT_EQ(ScrubUrl("https://s.example/u/jane.doe@mail.example.com/orders"),
            "https://s.example/u/%5Bredacted%5D/orders");
  EXPECT_EQ(ScrubUrl("https://s.example/?q=jane%2Bshop%40Example.ORG&page=2"),
            "https://s.example/?q=%5Bredacted%5D&page=2");
  // Not an address: no dot in the domain, a one-letter or digit last label, nothing before '@'.
  EXPECT_EQ(ScrubUrl("https://s.example/@shop?x=a@localhost&y=b@c.d&z=c@d.e1"),
            "https://s.example/@shop?x=a@localhost&y=b@c.d&z=c@d.e1");
}

TEST(ScrubText, EmailsAndPlusPhonesButNotOrdinaryNumbers) {
  EXPECT_EQ(ScrubText("Gift for Jane <jane_doe@example.co.uk>, call +44 20 7946 0958."),
            "Gift for Jane <[redacted]>, call [redacted].");
  EXPECT_EQ(ScrubText("phone: +1 (650) 555-1212"), "phone: [redacted]");
  EXPECT_EQ(ScrubText("jane%40example.com"), "[redacted]");
  // Order ids, prices, SKUs and short or over-long '+' numbers are not phones.
  for (const char* keep :
       {"Order 4921847365 for 1299.00", "+1234567 items", "+1234567890123456 items",
        "SKU C+123456789", "2 + 2 = 4", "1+49301234567"}) {
    EXPECT_EQ(ScrubText(keep), keep);
  }
}

TEST(Scrub, IsIdempotentOnTheHardCases) {
  for (const char* s : {"a@b.co@c.de", "+4912345678+4912345678", "a%40b.com%40c.com",
                        "x@a.com.y@b.com", "+49 1234 5678@x.com"}) {
    std::string once = ScrubText(s);
    EXPECT_EQ(ScrubText(once), once) << s;
    std::string url = ScrubUrl(s);
    EXPECT_EQ(ScrubUrl(url), url) << s;
  }
  EXPECT_EQ(ScrubText("a@b.co@c.de"), "[redacted]@c.de");
  EXPECT_EQ(ScrubText("+4912345678+4912345678"), "[redacted][redacted]");
  // The second address's local part would run back into the first marker: it stops there.
  EXPECT_EQ(ScrubUrl("a%40b.com%40c.com"), "%5Bredacted%5D%40c.com");
}

TEST(Scrub, EveryParserScrubsBeforeTheEventIsStored) {
  ParseContext ctx;
  ctx.now_ms = 1700000000000;
  auto b = ParseEventsApi2(
      R"({"event_source_id":"P","data":[{"event":"Search","event_time":1699999000,
          "page":{"url":"https://s.example/?email=j%40x.io","referrer":"https://m.example/r/j@x.io"},
          "properties":{"query":"j@x.io","description":"call +33 1 23 45 67 89",
                        "contents":[{"content_name":"for j@x.io","brand":"b@x.io"}]}}]})",
      ctx);
  ASSERT_TRUE(b.ok()) << b.status().message();
  const SiteEvent& e = *b->events[0].event;
  EXPECT_EQ(e.page_url, "https://s.example/?email=%5Bredacted%5D");
  EXPECT_EQ(e.page_referrer, "https://m.example/r/%5Bredacted%5D");
  EXPECT_EQ(e.query, "[redacted]");
  EXPECT_EQ(e.description, "call [redacted]");
  EXPECT_EQ(e.contents[0].content_name, "for [redacted]");
  EXPECT_EQ(e.contents[0].brand, "[redacted]");
  auto gif = ParsePixelQuery(
      "pixel_id=P&event=PageView&url=https%3A%2F%2Fs.example%2F%3Fmail%3Dj%2540x.io&referrer="
      "https%3A%2F%2Fm.example%2F%3Fq%3Dj%40x.io",
      ctx);
  ASSERT_TRUE(gif.ok()) << gif.status().message();
  EXPECT_EQ(gif->events[0].event->page_url, "https://s.example/?mail=%5Bredacted%5D");
  EXPECT_EQ(gif->events[0].event->page_referrer, "https://m.example/?q=%5Bredacted%5D");
}

}  // namespace
}  // namespace touchpoint::ingest
