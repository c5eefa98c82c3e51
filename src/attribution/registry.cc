#include <cmath>

#include "attribution/models.h"

namespace touchpoint::attribution {

const std::vector<std::string>& ModelNames() {
  static const std::vector<std::string> kNames = {"last_touch", "first_touch", "linear",
                                                  "time_decay", "position_based"};
  return kNames;
}

StatusOr<std::unique_ptr<AttributionModel>> MakeModel(std::string_view name,
                                                      const ModelParams& params) {
  if (name == "last_touch") return std::unique_ptr<AttributionModel>(new LastTouch);
  if (name == "first_touch") return std::unique_ptr<AttributionModel>(new FirstTouch);
  if (name == "linear") return std::unique_ptr<AttributionModel>(new Linear);
  if (name == "time_decay") {
    if (!(params.half_life_days > 0) || !std::isfinite(params.half_life_days))
      return InvalidArgument("half_life_days", ": must be a number > 0");
    return std::unique_ptr<AttributionModel>(new TimeDecay(params.half_life_days));
  }
  if (name == "position_based") return std::unique_ptr<AttributionModel>(new PositionBased);
  if (name == "markov" || name == "shapley")
    return InvalidArgument("model", ": " + std::string(name) + " is data-driven: fit it first");
  std::string all;
  for (const auto& n : ModelNames()) all += (all.empty() ? "" : ", ") + n;
  all += ", markov, shapley";  // data_driven.h
  return InvalidArgument("model", ": must be one of " + all);
}

}  // namespace touchpoint::attribution
