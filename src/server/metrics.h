#pragma once
// Counters for GET /metrics (Prometheus text format 0.0.4).

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>

namespace touchpoint::server {

class Metrics {
 public:
  void CountRequest(std::string_view route, int status);
  void CountEvents(std::string_view outcome, uint64_t n);  // accepted / duplicate
  void CountRejected(std::string_view reason, uint64_t n);

  // `extra` is appended as is (gauges owned by others: queue depth, commit latency).
  std::string Render(std::string_view extra) const;

  uint64_t Accepted() const;

  // Reduces an error message to a bounded label: "data[3].event_time: ..." -> "data[].event_time".
  static std::string ReasonLabel(std::string_view message);

 private:
  mutable std::mutex mu_;
  std::map<std::pair<std::string, int>, uint64_t> requests_;
  std::map<std::string, uint64_t> events_;
  std::map<std::string, uint64_t> rejected_;
};

}  // namespace touchpoint::server
