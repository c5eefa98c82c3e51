#include "server/metrics.h"

#include "core/json_writer.h"

namespace touchpoint::server {

Metrics::RouteCounters* Metrics::FindRoute(std::string_view route) {
  size_t n = n_routes_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i)
    if (routes_[i].route == route) return &routes_[i];
  std::lock_guard lock(mu_);
  n = n_routes_.load(std::memory_order_relaxed);  // only changed under mu_
  for (size_t i = 0; i < n; ++i)
    if (routes_[i].route == route) return &routes_[i];
  if (n >= kMaxRoutes) return nullptr;
  routes_[n].route = std::string(route);
  n_routes_.store(n + 1, std::memory_order_release);
  return &routes_[n];
}

void Metrics::CountRequest(std::string_view route, int status) {
  if (RouteCounters* rc = FindRoute(route)) {
    for (auto& slot : rc->slots) {
      int s = slot.status.load(std::memory_order_acquire);
      if (s == 0) {  // claim a free slot (another thread may claim it first, for any status)
        int expected = 0;
        if (!slot.status.compare_exchange_strong(expected, status) && expected != status) continue;
        s = status;
      }
      if (s == status) {
        slot.count.fetch_add(1, std::memory_order_relaxed);
        return;
      }
    }
  }
  std::lock_guard lock(mu_);
  requests_[{std::string(route), status}]++;
}

void Metrics::CountEvents(std::string_view outcome, uint64_t n) {
  if (!n) return;
  if (outcome == "accepted") {
    accepted_.fetch_add(n, std::memory_order_relaxed);
  } else if (outcome == "duplicate") {
    duplicate_.fetch_add(n, std::memory_order_relaxed);
  } else {
    std::lock_guard lock(mu_);
    events_[std::string(outcome)] += n;
  }
}

void Metrics::CountRejected(std::string_view reason, uint64_t n) {
  if (!n) return;
  std::lock_guard lock(mu_);
  auto it = rejected_.find(reason);
  if (it != rejected_.end()) {
    it->second += n;
    return;
  }
  // The reasons are fixed strings and ReasonLabel's bounded vocabulary; a cap all the same, so
  // that no future label can grow /metrics without bound.
  rejected_[rejected_.size() < kMaxReasons ? std::string(reason) : "other:overflow"] += n;
}

uint64_t Metrics::Accepted() const { return accepted_.load(std::memory_order_relaxed); }

namespace {

// The field names our parsers know (docs/api.md). A label is built from these only: a name a
// client made up (an unknown GIF parameter, a custom property) would otherwise become a new
// series with every request, and /metrics would grow without bound.
bool IsKnownField(std::string_view name) {
  static constexpr std::string_view kFields[] = {"Access-Token",
                                                 "access token",
                                                 "ad",
                                                 "ad_id",
                                                 "age",
                                                 "app",
                                                 "body",
                                                 "brand",
                                                 "callback",
                                                 "click_id",
                                                 "content_category",
                                                 "content_id",
                                                 "content_name",
                                                 "content_type",
                                                 "contents",
                                                 "context",
                                                 "country",
                                                 "currency",
                                                 "data",
                                                 "description",
                                                 "device",
                                                 "email",
                                                 "event",
                                                 "event_id",
                                                 "event_source",
                                                 "event_source_id",
                                                 "event_time",
                                                 "external_id",
                                                 "gender",
                                                 "ip",
                                                 "lead",
                                                 "limited_data_use",
                                                 "locale",
                                                 "order_id",
                                                 "os",
                                                 "page",
                                                 "partner_name",
                                                 "phone",
                                                 "phone_number",
                                                 "pixel_code",
                                                 "pixel_id",
                                                 "placement",
                                                 "price",
                                                 "properties",
                                                 "quantity",
                                                 "query",
                                                 "referrer",
                                                 "region",
                                                 "test_event_code",
                                                 "timestamp",
                                                 "ttclid",
                                                 "ttp",
                                                 "type",
                                                 "url",
                                                 "user",
                                                 "user_agent",
                                                 "user_key",
                                                 "value",
                                                 "video_ms",
                                                 "watch_ms"};
  for (std::string_view f : kFields)
    if (f == name) return true;
  return false;
}

}  // namespace

std::string Metrics::ReasonLabel(std::string_view message) {
  size_t colon = message.find(": ");
  if (colon == std::string_view::npos) return "other";
  // "data[3].user.email" -> "data[].user.email", each dotted part a known field name.
  std::string out;
  std::string_view field = message.substr(0, colon);
  while (!field.empty()) {
    size_t dot = field.find('.');
    std::string_view part = field.substr(0, dot);
    field = dot == std::string_view::npos ? std::string_view() : field.substr(dot + 1);
    bool indexed = false;
    if (size_t bracket = part.find('['); bracket != std::string_view::npos) {
      if (part.back() != ']') return "other:invalid";
      for (char c : part.substr(bracket + 1, part.size() - bracket - 2))
        if (c < '0' || c > '9') return "other:invalid";
      indexed = true;
      part = part.substr(0, bracket);
    }
    if (!IsKnownField(part) || out.size() > 64) return "other:invalid";
    if (!out.empty()) out += '.';
    out += part;
    if (indexed) out += "[]";
  }
  if (out.empty()) return "other";
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
  return out;
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
  // One sorted view of the requests, wherever they were counted.
  std::map<std::pair<std::string, int>, uint64_t> requests = requests_;
  const size_t n = n_routes_.load(std::memory_order_acquire);
  for (size_t i = 0; i < n; ++i)
    for (const auto& slot : routes_[i].slots) {
      int status = slot.status.load(std::memory_order_acquire);
      uint64_t c = slot.count.load(std::memory_order_relaxed);
      if (status != 0 && c != 0) requests[{routes_[i].route, status}] += c;
    }
  std::map<std::string, uint64_t> events = events_;
  if (uint64_t a = accepted_.load(std::memory_order_relaxed)) events["accepted"] += a;
  if (uint64_t d = duplicate_.load(std::memory_order_relaxed)) events["duplicate"] += d;
  std::string out;
  out += "# HELP touchpoint_http_requests_total HTTP requests by route and status.\n";
  out += "# TYPE touchpoint_http_requests_total counter\n";
  for (const auto& [k, v] : requests)
    out += "touchpoint_http_requests_total{route=" + Label(k.first) + ",status=\"" +
           std::to_string(k.second) + "\"} " + std::to_string(v) + "\n";
  out += "# HELP touchpoint_events_total Events received, by outcome.\n";
  out += "# TYPE touchpoint_events_total counter\n";
  for (const auto& [k, v] : events)
    out += "touchpoint_events_total{outcome=" + Label(k) + "} " + std::to_string(v) + "\n";
  out += "# HELP touchpoint_events_rejected_total Events rejected, by reason (field:problem).\n";
  out += "# TYPE touchpoint_events_rejected_total counter\n";
  for (const auto& [k, v] : rejected_)
    out += "touchpoint_events_rejected_total{reason=" + Label(k) + "} " + std::to_string(v) + "\n";
  out += extra;
  return out;
}

void AppendListenerMetrics(std::string& out, const HttpServerStats& s) {
  auto head = [&](const char* name, const char* type, const char* help) {
    out += std::string("# HELP ") + name + " " + help + "\n";
    out += std::string("# TYPE ") + name + " " + type + "\n";
  };
  auto value = [&](std::string_view series, uint64_t v) {
    out += series;
    out += " " + std::to_string(v) + "\n";
  };
  struct Single {
    const char* name;
    const char* type;
    const char* help;
    uint64_t value;
  };
  const Single singles[] = {
      {"touchpoint_http_body_bytes_in_flight", "gauge",
       "Memory taken by request bodies being received (a declared length up front).",
       s.body_bytes_in_flight},
      {"touchpoint_http_body_bytes_limit", "gauge",
       "Their limit over all connections (--max-request-memory-mb).", s.body_bytes_limit},
      {"touchpoint_http_bodies_refused_total", "counter",
       "Requests answered 503 because request bodies in flight were at their limit.",
       s.bodies_refused},
      {"touchpoint_http_slow_requests_closed_total", "counter",
       "Connections closed because their request arrived below the minimum rate.",
       s.slow_requests_dropped},
      {"touchpoint_accept_reserve_total", "counter",
       "Connections accepted through the reserved descriptor while out of descriptors.",
       s.reserve_accepts},
      {"touchpoint_accept_paused", "gauge",
       "1 while accepting is paused after an accept() failure, waiting to retry.",
       s.accept_paused ? 1u : 0u},
  };
  for (const Single& m : singles) {
    head(m.name, m.type, m.help);
    value(m.name, m.value);
  }
  head("touchpoint_accept_errors_total", "counter",
       "accept() failures, by reason: fd_limit (EMFILE, ENFILE), memory (ENOBUFS, ENOMEM), "
       "other.");
  value("touchpoint_accept_errors_total{reason=\"fd_limit\"}", s.accept_errors_fd_limit);
  value("touchpoint_accept_errors_total{reason=\"memory\"}", s.accept_errors_memory);
  value("touchpoint_accept_errors_total{reason=\"other\"}", s.accept_errors_other);
}

}  // namespace touchpoint::server
