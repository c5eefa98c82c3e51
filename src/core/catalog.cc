#include "core/catalog.h"

namespace touchpoint {

std::optional<Catalog::AdRef> Catalog::FindAd(std::string_view ad_id) const {
  for (const auto& c : campaigns)
    for (const auto& g : c.adgroups)
      for (const auto& a : g.ads)
        if (a.ad_id == ad_id) return AdRef{&c, &g, &a};
  return std::nullopt;
}

size_t Catalog::AdCount() const {
  size_t n = 0;
  for (const auto& c : campaigns)
    for (const auto& g : c.adgroups) n += g.ads.size();
  return n;
}

const char* CountModeName(CountMode mode) { return mode == CountMode::kOnce ? "once" : "every"; }

}  // namespace touchpoint
