#include "server/metrics.h"

#include "core/json_writer.h"

namespace touchpoint::server {

void Metrics::CountRequest(std::string_view route, int status) {
  std::lock_guard lock(mu_);
  requests_[{std::string(route), status}]++;
}

void Metrics::CountEvents(std::string_view outcome, uint64_t n) {
  if (!n) return;
  std::lock_guard lock(mu_);
  events_[std::string(outcome)] += n;
}

void Metrics::CountRejected(std::string_view reason, uint64_t n) {
  if (!n) return;
  std::lock_guard lock(mu_);
  rejected_[std::string(reason)] += n;
}

uint64_t Metrics::Accepted() const {
  std::lock_guard lock(mu_);
  auto it = events_.find("accepted");
  return it == events_.end() ? 0 : it->second;
}

std::string Metrics::ReasonLabel(std::string_view message) {
  size_t colon = message.find(": ");
  std::string_view field = message.substr(0, colon);
  std::string out;
  bool in_index = false;
  for (char c : field) {
    if (c == '[') {
      in_index = true;
      out += "[]";
    } else if (c == ']') {
      in_index = false;
    } else if (!in_index) {
      out += c;
    }
    if (out.size() > 64) break;
  }
  if (colon != std::string_view::npos) {
    // Keep the kind of problem, not its details.
    std::string_view what = message.substr(colon + 2);
    if (what.rfind("more than", 0) == 0 && what.find("old") != what.npos)
      out += ":too_old";
    else if (what.rfind("more than", 0) == 0 && what.find("future") != what.npos)
      out += ":future";
    else if (what.rfind("must be", 0) == 0)
      out += ":type";
    else if (what.rfind("required", 0) == 0)
      out += ":missing";
    else if (what.rfind("longer than", 0) == 0)
      out += ":too_long";
    else if (what.rfind("unknown", 0) == 0)
      out += ":unknown";
    else
      out += ":invalid";
  }
  return out.empty() ? "other" : out;
}

namespace {
std::string Label(std::string_view v) {
  std::string out;
  AppendJsonString(out, v);  // Prometheus label escaping is a subset of JSON's
  return out;
}
}  // namespace

std::string Metrics::Render(std::string_view extra) const {
  std::lock_guard lock(mu_);
  std::string out;
  out += "# HELP touchpoint_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE touchpoint_http_requests_total counter\n";
  for (const auto& [k, v] : requests_)
    out += "touchpoint_http_requests_total{route=" + Label(k.first) + ",status=\"" +
           std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP touchpoint_events_total Events received, by outcome.\n";
  out += "# TYPE touchpoint_events_total counter\n";
  for (const auto& [k, v] : events_)
    out += "touchpoint_events_total{outcome=" + Label(k) + "} " + std::to_string(v) + "\n";
  out += "# HELP touchpoint_events_rejected_total Events rejected, by reason (field:problem).\n";
  out += "# TYPE touchpoint_events_rejected_total counter\n";
  for (const auto& [k, v] : rejected_)
    out += "touchpoint_events_rejected_total{reason=" + Label(k) + "} " + std::to_string(v) + "\n";
  out += extra;
  return out;
}

}  // namespace touchpoint::server
