#include <cmath>

#include "attribution/models.h"
#include "core/time.h"

namespace touchpoint::attribution {

// Weight 2^(-age / half_life), normalized: a touch one half-life older counts half as much.
void TimeDecay::Credit(const Journey& j, std::span<double> w) const {
  double half_life_ms = half_life_days_ * static_cast<double>(kDayMs);
  double sum = 0;
  for (size_t i = 0; i < w.size(); ++i) {
    double age = static_cast<double>(j.conversion_ms - j.touch_ms[i]);
    w[i] = std::exp2(-age / half_life_ms);
    sum += w[i];
  }
  for (auto& x : w) x /= sum;
}

}  // namespace touchpoint::attribution
