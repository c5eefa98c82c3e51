#include "attribution/models.h"

namespace touchpoint::attribution {

// TikTok's rule: the last eligible touch gets the conversion. Which touches are eligible (clicks
// before views) is decided when the journey is built.
void LastTouch::Credit(const Journey& j, std::span<double> w) const {
  for (auto& x : w) x = 0;
  w.back() = 1;
  (void)j;
}

void FirstTouch::Credit(const Journey& j, std::span<double> w) const {
  for (auto& x : w) x = 0;
  w.front() = 1;
  (void)j;
}

}  // namespace touchpoint::attribution
