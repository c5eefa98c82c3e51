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

Status ShapleyModel::Fit(const PathSet& paths, uint32_t n_channels) {
  channel_conversions_.assign(n_channels, 0);
  channel_value_.assign(n_channels, 0);
  std::vector<double> w;
  for (size_t i = 0; i < paths.size(); ++i) {
    if (!paths.Converted(i)) continue;  // v(S) counts conversions only
    const auto channels = paths.Channels(i);
    if (channels.empty()) continue;
    w.resize(channels.size());
    Split(channels, w);
    for (size_t k = 0; k < channels.size(); ++k) {
      if (channels[k] >= n_channels) return InvalidArgument("channel", ": code out of range");
      channel_conversions_[channels[k]] += w[k];
      channel_value_[channels[k]] += w[k] * paths.Value(i);
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
