#include "sim/delivery_summary.h"

#include <algorithm>
#include <vector>

#include "core/json_writer.h"
#include "sim/simulator.h"

namespace touchpoint::sim {

void DeliverySummary::Reject(std::string_view message, uint64_t n) {
  rejected += n;
  rejected_by_reason[NormalizeReason(message)] += n;
}

std::string DeliverySummary::ToText() const {
  std::string out;
  auto pct = [&](uint64_t n) {
    char buf[32];
    std::snprintf(buf, sizeof buf, " (%.1f%%)",
                  sent ? 100.0 * static_cast<double>(n) / static_cast<double>(sent) : 0.0);
    return std::string(buf);
  };
  out += "  sent       " + std::to_string(sent) + "\n";
  out += "  accepted   " + std::to_string(accepted) + pct(accepted) + "\n";
  out += "  duplicate  " + std::to_string(duplicate) + pct(duplicate) + "\n";
  out += "  rejected   " + std::to_string(rejected) + pct(rejected) + "\n";
  std::vector<std::pair<uint64_t, std::string>> reasons;
  for (const auto& [r, n] : rejected_by_reason) reasons.emplace_back(n, r);
  std::sort(reasons.begin(), reasons.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (const auto& [n, r] : reasons) out += "    " + std::to_string(n) + "  " + r + "\n";
  if (!requests.empty()) {
    out += "  requests  ";
    for (const auto& [e, n] : requests) out += " " + e + " " + std::to_string(n) + ";";
    out.pop_back();
    out += "\n";
  }
  if (throttled)
    out += "  throttled  " + std::to_string(throttled) + " (retried after Retry-After)\n";
  if (!Balanced()) out += "  WARNING: accepted + duplicate + rejected != sent\n";
  return out;
}

std::string DeliverySummary::ToJson() const {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("sent").Int(static_cast<int64_t>(sent));
  w.Key("accepted").Int(static_cast<int64_t>(accepted));
  w.Key("duplicate").Int(static_cast<int64_t>(duplicate));
  w.Key("rejected").Int(static_cast<int64_t>(rejected));
  w.Key("rejected_by_reason").BeginObject();
  for (const auto& [r, n] : rejected_by_reason) w.Key(r).Int(static_cast<int64_t>(n));
  w.EndObject().Key("requests").BeginObject();
  for (const auto& [e, n] : requests) w.Key(e).Int(static_cast<int64_t>(n));
  w.EndObject().Key("throttled").Int(static_cast<int64_t>(throttled)).EndObject();
  return out;
}

}  // namespace touchpoint::sim
