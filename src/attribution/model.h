#pragma once
// Attribution models. A model sees one conversion's eligible touchpoints (already cut to the
// windows, with TikTok's rule applied: the clicks when any click is eligible, else the views) and
// writes one weight per touchpoint. Weights sum to 1; an empty journey gets no credit.

#include <cstdint>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpoint::attribution {

struct Journey {
  int64_t conversion_ms = 0;
  std::span<const int64_t> touch_ms;  // oldest first
  bool clicks = true;                 // click-through (true) or view-through (false) journey
};

struct ModelParams {
  double half_life_days = 7;  // time_decay
  int markov_order = 1;       // markov: a state is the tuple of the last k channels
};

class AttributionModel {
 public:
  virtual ~AttributionModel() = default;
  virtual std::string_view Name() const = 0;
  // weights.size() == journey.touch_ms.size() >= 1.
  virtual void Credit(const Journey& journey, std::span<double> weights) const = 0;
};

// The registry: last_touch (default), first_touch, linear, time_decay, position_based (the
// names ModelNames() lists). The data-driven models (markov, shapley) are made by
// MakeDataDrivenModel (data_driven.h), since they fit every journey before crediting one.
StatusOr<std::unique_ptr<AttributionModel>> MakeModel(std::string_view name,
                                                      const ModelParams& params);
const std::vector<std::string>& ModelNames();

}  // namespace touchpoint::attribution
