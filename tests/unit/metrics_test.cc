#include "server/metrics.h"

#include <gtest/gtest.h>

#include <thread>
#include <vector>

namespace touchpoint::server {
namespace {

// The value of one sample line of the Prometheus text, or -1 when absent.
long long Sample(const std::string& text, const std::string& series) {
  size_t at = text.find("\n" + series + " ");
  if (at == std::string::npos) return -1;
  return std::stoll(text.substr(at + series.size() + 2));
}

TEST(Metrics, CountsRequestsByRouteAndStatusFromManyThreads) {
  Metrics m;
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([&m] {
      for (int i = 0; i < 10000; ++i) {
        m.CountRequest("/api/v1/pixel.gif", 200);
        if (i % 10 == 0) m.CountRequest("/api/v1/pixel.gif", 400);
        m.CountEvents("accepted", 2);
        if (i % 100 == 0) m.CountEvents("duplicate", 1);
      }
    });
  for (auto& t : threads) t.join();
  std::string text = m.Render("");
  EXPECT_EQ(
      Sample(text, R"(touchpoint_http_requests_total{route="/api/v1/pixel.gif",status="200"})"),
      40000);
  EXPECT_EQ(
      Sample(text, R"(touchpoint_http_requests_total{route="/api/v1/pixel.gif",status="400"})"),
      4000);
  EXPECT_EQ(Sample(text, R"(touchpoint_events_total{outcome="accepted"})"), 80000);
  EXPECT_EQ(Sample(text, R"(touchpoint_events_total{outcome="duplicate"})"), 400);
  EXPECT_EQ(m.Accepted(), 80000u);
  EXPECT_EQ(Sample(text, R"(touchpoint_http_requests_total{route="/healthz",status="200"})"), -1);
}

TEST(Metrics, ManyStatusesAndNewRoutesAreStillCounted) {
  Metrics m;
  for (int status = 200; status < 240; ++status) {  // more statuses than a route has slots
    m.CountRequest("/api/v1/events", status);
    m.CountRequest("/api/v1/events", status);
  }
  m.CountRequest("/some/new/route", 418);
  m.CountRejected("data[].event:missing", 3);
  m.CountEvents("merged", 5);
  std::string text = m.Render("extra_gauge 7\n");
  for (int status = 200; status < 240; ++status)
    EXPECT_EQ(Sample(text, R"(touchpoint_http_requests_total{route="/api/v1/events",status=")" +
                               std::to_string(status) + "\"}"),
              2)
        << status;
  EXPECT_EQ(Sample(text, R"(touchpoint_http_requests_total{route="/some/new/route",status="418"})"),
            1);
  EXPECT_EQ(Sample(text, R"(touchpoint_events_rejected_total{reason="data[].event:missing"})"), 3);
  EXPECT_EQ(Sample(text, R"(touchpoint_events_total{outcome="merged"})"), 5);
  EXPECT_EQ(Sample(text, "extra_gauge"), 7);
  // Sorted by route, then status, as before: 200 comes before 201.
  EXPECT_LT(text.find(R"(route="/api/v1/events",status="200")"),
            text.find(R"(route="/api/v1/events",status="201")"));
}

TEST(Metrics, ReasonLabelsComeFromTheParsersVocabularyOnly) {
  EXPECT_EQ(Metrics::ReasonLabel("data[3].event_time: must be Unix seconds"),
            "data[].event_time:type");
  EXPECT_EQ(Metrics::ReasonLabel("data[12].user.email: required"), "data[].user.email:missing");
  EXPECT_EQ(Metrics::ReasonLabel("url: longer than 4096 bytes"), "url:too_long");
  // Names a client makes up (GIF parameters, custom properties) all fall into one label.
  EXPECT_EQ(Metrics::ReasonLabel("utm_xyz123: longer than 1024 bytes"), "other:invalid");
  EXPECT_EQ(Metrics::ReasonLabel("data[0].properties.my_field: must be a string"), "other:invalid");
  EXPECT_EQ(Metrics::ReasonLabel("data[x].event: required"), "other:invalid");
  EXPECT_EQ(Metrics::ReasonLabel(std::string("\xff\xfe: not valid UTF-8")), "other:invalid");
  EXPECT_EQ(Metrics::ReasonLabel("no colon at all"), "other");
}

TEST(Metrics, ManyDistinctParameterNamesAddNoSeries) {
  Metrics m;
  for (int i = 0; i < 5000; ++i)
    m.CountRejected(Metrics::ReasonLabel("p" + std::to_string(i) + ": longer than 1024 bytes"), 1);
  // And even labels passed as they are stop adding series past the cap.
  for (int i = 0; i < 5000; ++i) m.CountRejected("made-up:" + std::to_string(i), 1);
  std::string text = m.Render("");
  size_t series = 0;
  for (size_t at = text.find("touchpoint_events_rejected_total{"); at != std::string::npos;
       at = text.find("touchpoint_events_rejected_total{", at + 1))
    ++series;
  EXPECT_LE(series, 1001u);
  EXPECT_EQ(Sample(text, "touchpoint_events_rejected_total{reason=\"other:invalid\"}"), 5000);
  EXPECT_EQ(Sample(text, "touchpoint_events_rejected_total{reason=\"other:overflow\"}"), 4001);
}

}  // namespace
}  // namespace touchpoint::server
