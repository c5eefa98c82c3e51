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

}  // namespace
}  // namespace touchpoint::server
