#pragma once
// The built-in models (one file each); see model.h for the contract.
#include "attribution/model.h"

namespace touchpoint::attribution {

class LastTouch final : public AttributionModel {
 public:
  std::string_view Name() const override { return "last_touch"; }
  void Credit(const Journey& j, std::span<double> w) const override;
};

class FirstTouch final : public AttributionModel {
 public:
  std::string_view Name() const override { return "first_touch"; }
  void Credit(const Journey& j, std::span<double> w) const override;
};

class Linear final : public AttributionModel {
 public:
  std::string_view Name() const override { return "linear"; }
  void Credit(const Journey& j, std::span<double> w) const override;
};

class TimeDecay final : public AttributionModel {
 public:
  explicit TimeDecay(double half_life_days) : half_life_days_(half_life_days) {}
  std::string_view Name() const override { return "time_decay"; }
  void Credit(const Journey& j, std::span<double> w) const override;

 private:
  double half_life_days_;
};

class PositionBased final : public AttributionModel {
 public:
  std::string_view Name() const override { return "position_based"; }
  void Credit(const Journey& j, std::span<double> w) const override;
};

}  // namespace touchpoint::attribution
