#pragma once
// Counters for GET /metrics (Prometheus text format 0.0.4).

#include <array>
#include <atomic>
#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

#include "server/http_server.h"

namespace touchpoint::server {

// Appends the HTTP listener's counters (HttpServer::Stats) in the text format, labels fixed.
void AppendListenerMetrics(std::string& out, const HttpServerStats& s);

class Metrics {
 public:
  // `route` is one of a fixed set of labels (the Api's route table); after a route's first
  // request, counted without a lock for the first kStatusSlots distinct statuses of each route.
  void CountRequest(std::string_view route, int status);
  void CountEvents(std::string_view outcome, uint64_t n);  // accepted / duplicate
  void CountRejected(std::string_view reason, uint64_t n);

  // `extra` is appended as is (gauges owned by others: queue depth, commit latency).
  std::string Render(std::string_view extra) const;

  uint64_t Accepted() const;

  // Reduces an error message to a label from a bounded set: "data[3].event_time: must be ..." ->
  // "data[].event_time:type". Field names not in the parsers' vocabulary give "other:invalid".
  static std::string ReasonLabel(std::string_view message);

 private:
  static constexpr size_t kStatusSlots = 16;
  struct StatusSlot {
    std::atomic<int> status{0};  // 0: free
    std::atomic<uint64_t> count{0};
  };
  struct RouteCounters {
    std::string route;
    std::array<StatusSlot, kStatusSlots> slots;
  };
  RouteCounters* FindRoute(std::string_view route);

  std::atomic<uint64_t> accepted_{0}, duplicate_{0};
  // Routes are added (under mu_, published by n_routes_) and never removed.
  static constexpr size_t kMaxRoutes = 64;
  std::array<RouteCounters, kMaxRoutes> routes_;
  std::atomic<size_t> n_routes_{0};
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;  // past a route's status slots
  std::map<std::string, uint64_t> events_;                    // outcomes other than the two
  static constexpr size_t kMaxReasons = 1000;                 // distinct rejection labels kept
  std::map<std::string, uint64_t, std::less<>> rejected_;
};

}  // namespace touchpoint::server
