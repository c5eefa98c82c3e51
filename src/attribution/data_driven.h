#pragma once
// Data-driven attribution models (docs/metrics.md#data-driven-models). Unlike the rule-based
// models of model.h, which weigh one journey on its own, these learn from every journey first:
//
//   1. Fit: each worker feeds its share of the journeys to a sink of its own (NewSink), as
//      sequences of channel codes (an ad-side dimension's values: ad, campaign, ...) — the
//      converting journeys (one per credited conversion) and, when the model learns from
//      them, the non-converting ones (a person's touches in the range that no conversion
//      followed); then Fit(all sinks) learns. A sink keeps only what its model needs (Markov:
//      transition counts; Shapley: per-channel sums), so no journey is stored twice.
//   2. Credit(one converting journey): weights per touch, for conversions and for value.
//
// Credit is a function of the journey's channels and the fitted state only, so the report can
// split it by any dimension, day or audience like the rule-based models' weights.

#include <cstdint>
#include <memory>
#include <span>
#include <string_view>
#include <vector>

#include "attribution/model.h"
#include "core/status.h"

namespace touchpoint::attribution {

// Where one worker's journeys go during the fit pass.
class JourneySink {
 public:
  virtual ~JourneySink() = default;
  // One journey's channels, oldest first; `value` is the conversion's (0 when not converting).
  virtual void Add(std::span<const uint32_t> channels, bool converted, double value) = 0;
};

// Journeys over channel codes 0..n_channels-1, stored back to back.
class PathSet final : public JourneySink {
 public:
  void Add(std::span<const uint32_t> channels, bool converted, double value) override;
  size_t size() const { return converted_.size(); }
  std::span<const uint32_t> Channels(size_t i) const {
    return {channels_.data() + begin_[i], begin_[i + 1] - begin_[i]};
  }
  bool Converted(size_t i) const { return converted_[i] != 0; }
  double Value(size_t i) const { return value_[i]; }

 private:
  std::vector<uint32_t> channels_;
  std::vector<uint32_t> begin_ = {0};
  std::vector<uint8_t> converted_;
  std::vector<double> value_;
};

class DataDrivenModel {
 public:
  virtual ~DataDrivenModel() = default;
  virtual std::string_view Name() const = 0;
  // Whether Fit uses the non-converting journeys (the caller may skip forming them if not).
  virtual bool LearnsFromNonConverting() const = 0;
  // Whether Credit depends on the fit. If not, the caller may feed the sinks while crediting,
  // in one pass, and Fit after (for channel_conversions and the journey counts).
  virtual bool CreditNeedsFit() const = 0;
  // A sink for one worker's share of the journeys; channel codes must be < n_channels.
  virtual std::unique_ptr<JourneySink> NewSink(uint32_t n_channels) const = 0;
  // Learns from the journeys fed to `sinks` (made by this model's NewSink).
  virtual Status Fit(std::span<JourneySink* const> sinks, uint32_t n_channels) = 0;
  // Whether Credit is a per-channel factor shared by the channel's touches in the journey:
  // weight = ConversionFactor(c) / (touches of c in the journey), value weight likewise with
  // ValueFactor(c). Then a caller may credit 1 / touches "units" per channel while the fit
  // pass runs and scale them by the factors after Fit, in one pass.
  virtual bool CreditIsChannelFactor() const { return false; }
  virtual double ConversionFactor(uint32_t) const { return 0; }
  virtual double ValueFactor(uint32_t) const { return 0; }
  // One sink fed with `paths`, then Fit (for tests and callers that hold the journeys).
  Status FitPaths(const PathSet& paths, uint32_t n_channels);
  // One converting journey's channels, oldest first (size >= 1, every channel seen by Fit):
  // writes the conversions credited to each touch and the share of the conversion's value.
  virtual void Credit(std::span<const uint32_t> channels, std::span<double> conversion_weights,
                      std::span<double> value_weights) const = 0;
  // After Fit: each channel's credited conversions and value over the fitted converting
  // journeys (what Credit hands out, summed).
  const std::vector<double>& channel_conversions() const { return channel_conversions_; }
  const std::vector<double>& channel_value() const { return channel_value_; }
  // After Fit: the journeys learnt from (with at least one touch).
  size_t journeys_converting() const { return journeys_converting_; }
  size_t journeys_not_converting() const { return journeys_not_converting_; }

 protected:
  std::vector<double> channel_conversions_, channel_value_;
  size_t journeys_converting_ = 0, journeys_not_converting_ = 0;
};

// First-order (or order-k) absorbing Markov chain; credit = removal effect, normalised.
class MarkovModel final : public DataDrivenModel {
 public:
  // Chains larger than this many states are refused (the solve is dense, O(states^3)).
  static constexpr size_t kMaxStates = 2500;
  explicit MarkovModel(int order) : order_(order) {}
  std::string_view Name() const override { return "markov"; }
  bool LearnsFromNonConverting() const override { return true; }
  bool CreditNeedsFit() const override { return true; }
  bool CreditIsChannelFactor() const override { return true; }
  double ConversionFactor(uint32_t c) const override {
    return c < per_conversion_.size() ? per_conversion_[c] : 0;
  }
  double ValueFactor(uint32_t c) const override {
    return c < per_value_.size() ? per_value_[c] : 0;
  }
  std::unique_ptr<JourneySink> NewSink(uint32_t n_channels) const override;
  Status Fit(std::span<JourneySink* const> sinks, uint32_t n_channels) override;
  void Credit(std::span<const uint32_t> channels, std::span<double> conversion_weights,
              std::span<double> value_weights) const override;

  // After Fit: P(conversion) from the start state, with everything and with each channel
  // removed; the removal effects 1 - P(without c) / P; the number of transient states.
  double conversion_probability() const { return p_conversion_; }
  const std::vector<double>& removal_effects() const { return removal_effect_; }
  size_t states() const { return states_; }

 private:
  int order_;
  double p_conversion_ = 0;
  size_t states_ = 0;
  std::vector<double> removal_effect_;
  std::vector<double> per_conversion_, per_value_;  // a channel's credit per journey holding it
};

// Shapley values of the game v(S) = conversions (value) of the journeys whose channels all lie
// in S, by the per-journey closed form: exact for any number of channels.
class ShapleyModel final : public DataDrivenModel {
 public:
  std::string_view Name() const override { return "shapley"; }
  bool LearnsFromNonConverting() const override { return false; }  // v(S) counts conversions
  bool CreditNeedsFit() const override { return false; }           // the closed form is per journey
  std::unique_ptr<JourneySink> NewSink(uint32_t n_channels) const override;
  Status Fit(std::span<JourneySink* const> sinks, uint32_t n_channels) override;
  void Credit(std::span<const uint32_t> channels, std::span<double> conversion_weights,
              std::span<double> value_weights) const override;
};

bool IsDataDriven(std::string_view model);
StatusOr<std::unique_ptr<DataDrivenModel>> MakeDataDrivenModel(std::string_view name,
                                                               const ModelParams& params);

// Consecutive repeats collapsed (A A B A -> A B A): the chain's steps and Shapley's sets are
// unchanged by them for order 1; for higher orders this is the stated choice.
void CollapseRepeats(std::span<const uint32_t> channels, std::vector<uint32_t>& out);

}  // namespace touchpoint::attribution
