// Shapley-value attribution (docs/metrics.md#shapley). The game: v(S) = the conversions of the
// journeys whose distinct channels all lie in S. Each journey j with channel set C_j adds the
// unanimity game u_j(S) = [C_j within S] to v, and the Shapley value of u_j is 1/|C_j| for each
// member of C_j and 0 for everyone else (the members are symmetric, outsiders are null players,
// and the values sum to u_j(all) = 1). The Shapley value is linear in the game, so
//   phi_c = sum over converting journeys j holding c of 1 / |C_j|,
// exactly, for any number of channels: no 2^n subset sums and no sampling. With value as the
// payoff the same weights apply to each journey's value.

#include <algorithm>

#include "attribution/data_driven.h"

namespace touchpoint::attribution {

namespace {

// Each touch's weight: 1 / (distinct channels x the touches of its channel in the journey).
void Split(std::span<const uint32_t> channels, std::span<double> w) {
  size_t distinct = 0;
  for (size_t k = 0; k < channels.size(); ++k)
    distinct += std::find(channels.begin(), channels.begin() + static_cast<std::ptrdiff_t>(k),
                          channels[k]) == channels.begin() + static_cast<std::ptrdiff_t>(k);
  for (size_t k = 0; k < channels.size(); ++k) {
    const auto touches = std::count(channels.begin(), channels.end(), channels[k]);
    w[k] = 1.0 / (static_cast<double>(distinct) * static_cast<double>(touches));
  }
}

}  // namespace

namespace {

// Per-channel sums of the closed form, as the journeys come.
class ShapleySink final : public JourneySink {
 public:
  explicit ShapleySink(uint32_t n_channels) : conversions_(n_channels, 0), value_(n_channels, 0) {}
  void Add(std::span<const uint32_t> channels, bool converted, double value) override {
    if (!converted || channels.empty()) return;  // v(S) counts conversions only
    ++journeys_;
    w_.resize(channels.size());
    Split(channels, w_);
    for (size_t k = 0; k < channels.size(); ++k) {
      if (channels[k] >= conversions_.size()) {
        out_of_range_ = true;
        return;
      }
      conversions_[channels[k]] += w_[k];
      value_[channels[k]] += w_[k] * value;
    }
  }
  std::vector<double> conversions_, value_;
  size_t journeys_ = 0;
  bool out_of_range_ = false;

 private:
  std::vector<double> w_;
};

}  // namespace

std::unique_ptr<JourneySink> ShapleyModel::NewSink(uint32_t n_channels) const {
  return std::make_unique<ShapleySink>(n_channels);
}

Status ShapleyModel::Fit(std::span<JourneySink* const> sinks, uint32_t n_channels) {
  channel_conversions_.assign(n_channels, 0);
  channel_value_.assign(n_channels, 0);
  journeys_converting_ = journeys_not_converting_ = 0;
  for (JourneySink* sink : sinks) {
    const auto& s = static_cast<const ShapleySink&>(*sink);
    if (s.out_of_range_) return InvalidArgument("channel", ": code out of range");
    journeys_converting_ += s.journeys_;
    for (uint32_t c = 0; c < n_channels; ++c) {
      channel_conversions_[c] += s.conversions_[c];
      channel_value_[c] += s.value_[c];
    }
  }
  return OkStatus();
}

void ShapleyModel::Credit(std::span<const uint32_t> channels, std::span<double> conv,
                          std::span<double> val) const {
  Split(channels, conv);
  std::copy(conv.begin(), conv.end(), val.begin());
}

}  // namespace touchpoint::attribution
