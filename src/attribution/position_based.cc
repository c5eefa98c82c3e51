#include "attribution/models.h"

namespace touchpoint::attribution {

// 40 % to the first touch, 40 % to the last, 20 % shared by the ones between. With two touches
// each gets half; with one, it gets all.
void PositionBased::Credit(const Journey& j, std::span<double> w) const {
  (void)j;
  size_t n = w.size();
  if (n == 1) {
    w[0] = 1;
    return;
  }
  if (n == 2) {
    w[0] = w[1] = 0.5;
    return;
  }
  double middle = 0.2 / static_cast<double>(n - 2);
  for (auto& x : w) x = middle;
  w.front() = 0.4;
  w.back() = 0.4;
}

}  // namespace touchpoint::attribution
