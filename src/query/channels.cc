#include "query/channels.h"

#include <algorithm>
#include <unordered_map>

namespace touchpoint::query {

bool IsChannelDim(Dim d) { return d <= Dim::kTag || d == Dim::kPlacement; }

Dim ChannelDim(const ReportQuery& q) {
  if (q.channel) return *q.channel;
  for (Dim d : q.dims)
    if (IsChannelDim(d)) return d;
  return Dim::kAd;
}

ChannelMap BuildChannelMap(const Dataset& d, Dim dim) {
  ChannelMap m;
  m.dim = dim;
  std::unordered_map<std::string, uint32_t> code;
  auto intern = [&](std::string name) {
    auto [it, inserted] = code.try_emplace(name, static_cast<uint32_t>(m.names.size()));
    if (inserted) m.names.push_back(std::move(name));
    return it->second;
  };
  if (dim == Dim::kPlacement) {
    for (uint32_t p = 0; p < std::min<uint32_t>(d.placements().size(), 256); ++p)
      m.of_placement.push_back(intern(std::string(d.placements().Get(p))));
    m.of_placement.resize(256, m.of_placement.empty() ? intern("") : m.of_placement[0]);
    return m;
  }
  for (uint32_t a = 0; a < d.ad_ids().size(); ++a) {
    auto values = AdDimensionValues(d, a, dim);
    std::sort(values.begin(), values.end());
    std::string joined;
    for (const auto& v : values) joined += (joined.empty() ? "" : "+") + v;
    m.of_ad.push_back(intern(std::move(joined)));
  }
  return m;
}

}  // namespace touchpoint::query
