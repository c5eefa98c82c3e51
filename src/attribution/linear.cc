#include "attribution/models.h"

namespace touchpoint::attribution {

void Linear::Credit(const Journey& j, std::span<double> w) const {
  (void)j;
  double each = 1.0 / static_cast<double>(w.size());
  for (auto& x : w) x = each;
}

}  // namespace touchpoint::attribution
