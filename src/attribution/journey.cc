#include "attribution/journey.h"

#include <algorithm>

namespace touchpoint::attribution {

bool BuildJourney(const ClusterTouches& t, int64_t conversion_ms, std::vector<uint32_t>& out) {
  out.clear();
  // Touches are time-sorted: stop at the first one after the conversion.
  size_t end = static_cast<size_t>(
      std::upper_bound(t.time_ms.begin(), t.time_ms.end(), conversion_ms) - t.time_ms.begin());
  for (size_t i = 0; i < end; ++i)
    if (t.is_click[i] && conversion_ms - t.time_ms[i] <= t.window[i].click_ms)
      out.push_back(static_cast<uint32_t>(i));
  if (!out.empty()) return true;
  for (size_t i = 0; i < end; ++i)
    if (!t.is_click[i] && t.window[i].view_ms > 0 &&
        conversion_ms - t.time_ms[i] <= t.window[i].view_ms)
      out.push_back(static_cast<uint32_t>(i));
  return false;
}

}  // namespace touchpoint::attribution
