// Markov-chain attribution (docs/metrics.md#markov): an absorbing chain from a start state
// through the journeys' channels (or the tuples of their last k channels) to conversion or null,
// with transition probabilities counted from every journey. A channel's removal effect is
// 1 - P(conversion with the channel removed) / P(conversion), solved exactly: with
// N = (I - Q)^-1 (the fundamental matrix over the transient states) and x = N b (each state's
// conversion probability), removing the set S of states that end in the channel (sending every
// entry into them to null) gives, by the block-inverse identity for the chain killed on S,
//   P(without S) = x_start - N[start, S] N[S, S]^-1 x_S.
// For order 1, S is the channel's one state and this is x_start - N[start,c] x_c / N[c,c].

#include <algorithm>
#include <cmath>
#include <map>
#include <string>
#include <unordered_map>

#include "attribution/data_driven.h"

namespace touchpoint::attribution {

namespace {

// Dense LU with partial pivoting, in place (row-major n x n); returns false when singular.
bool LuDecompose(std::vector<double>& a, std::vector<size_t>& perm, size_t n) {
  perm.resize(n);
  for (size_t i = 0; i < n; ++i) perm[i] = i;
  for (size_t k = 0; k < n; ++k) {
    size_t p = k;
    for (size_t i = k + 1; i < n; ++i)
      if (std::abs(a[i * n + k]) > std::abs(a[p * n + k])) p = i;
    if (a[p * n + k] == 0) return false;
    if (p != k) {
      std::swap_ranges(a.begin() + static_cast<std::ptrdiff_t>(k * n),
                       a.begin() + static_cast<std::ptrdiff_t>(k * n + n),
                       a.begin() + static_cast<std::ptrdiff_t>(p * n));
      std::swap(perm[k], perm[p]);
    }
    const double pivot = a[k * n + k];
    for (size_t i = k + 1; i < n; ++i) {
      double& f = a[i * n + k];
      if (f == 0) continue;
      f /= pivot;
      for (size_t j = k + 1; j < n; ++j) a[i * n + j] -= f * a[k * n + j];
    }
  }
  return true;
}

// Solves (LU) x = P b for one right-hand side, in place.
void LuSolve(const std::vector<double>& lu, const std::vector<size_t>& perm, size_t n,
             std::vector<double>& b) {
  std::vector<double> y(n);
  for (size_t i = 0; i < n; ++i) y[i] = b[perm[i]];
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < i; ++j) y[i] -= lu[i * n + j] * y[j];
  for (size_t i = n; i-- > 0;) {
    for (size_t j = i + 1; j < n; ++j) y[i] -= lu[i * n + j] * y[j];
    y[i] /= lu[i * n + i];
  }
  b.swap(y);
}

}  // namespace

Status MarkovModel::Fit(const PathSet& paths, uint32_t n_channels) {
  if (order_ < 1) return InvalidArgument("markov_order", ": must be at least 1");
  const size_t k_order = static_cast<size_t>(order_);
  // States: 0 is the start; others are tuples of the last k channels (fewer at a journey's
  // beginning), interned. Absorbing targets are kConv and kNull.
  constexpr uint32_t kConv = UINT32_MAX - 1, kNull = UINT32_MAX;
  std::map<std::vector<uint32_t>, uint32_t> tuple_state;
  std::vector<uint32_t> last_channel = {UINT32_MAX};  // per state
  std::unordered_map<uint64_t, double> count;         // (from << 32 | to) -> journeys
  std::vector<double> out_total = {0};
  std::vector<uint32_t> steps, tuple;
  std::vector<double> holders(n_channels, 0), holders_value(n_channels, 0);
  std::vector<uint32_t> seen(n_channels, UINT32_MAX), state_of(n_channels, UINT32_MAX);
  double conversions = 0, value = 0;
  for (size_t i = 0; i < paths.size(); ++i) {
    CollapseRepeats(paths.Channels(i), steps);
    if (steps.empty()) continue;
    const bool conv = paths.Converted(i);
    uint32_t prev = 0;
    for (size_t s = 0; s < steps.size(); ++s) {
      const uint32_t c = steps[s];
      if (c >= n_channels) return InvalidArgument("channel", ": code out of range");
      uint32_t state;
      if (k_order == 1) {
        if (state_of[c] == UINT32_MAX) {
          state_of[c] = static_cast<uint32_t>(last_channel.size());
          last_channel.push_back(c);
          out_total.push_back(0);
        }
        state = state_of[c];
      } else {
        tuple.assign(steps.begin() + static_cast<std::ptrdiff_t>(s + 1 - std::min(s + 1, k_order)),
                     steps.begin() + static_cast<std::ptrdiff_t>(s + 1));
        auto [it, inserted] =
            tuple_state.try_emplace(tuple, static_cast<uint32_t>(last_channel.size()));
        if (inserted) last_channel.push_back(c), out_total.push_back(0);
        state = it->second;
      }
      count[uint64_t{prev} << 32 | state] += 1;
      out_total[prev] += 1;
      prev = state;
      if (conv && seen[c] != i) {
        seen[c] = static_cast<uint32_t>(i);
        holders[c] += 1;
        holders_value[c] += paths.Value(i);
      }
    }
    count[uint64_t{prev} << 32 | (conv ? kConv : kNull)] += 1;
    out_total[prev] += 1;
    if (conv) conversions += 1, value += paths.Value(i);
  }
  const size_t n = last_channel.size();
  if (n > kMaxStates)
    return InvalidArgument("markov_order", ": the chain has " + std::to_string(n) +
                                               " states, more than " + std::to_string(kMaxStates) +
                                               "; use a coarser channel= or a lower markov_order");
  states_ = n;
  // A = I - Q and b = P(-> conversion). States never left (channels never seen) keep A = I.
  std::vector<double> a(n * n, 0), b(n, 0);
  for (size_t i = 0; i < n; ++i) a[i * n + i] = 1;
  for (const auto& [key, cnt] : count) {
    const uint32_t from = static_cast<uint32_t>(key >> 32), to = static_cast<uint32_t>(key);
    const double p = cnt / out_total[from];
    if (to == kConv)
      b[from] += p;
    else if (to != kNull)
      a[from * n + to] -= p;
  }
  std::vector<size_t> perm;
  if (!LuDecompose(a, perm, n))
    return InvalidArgument("model", ": markov: the chain has no absorbing exit");  // unreachable
  // The fundamental matrix, column by column.
  std::vector<double> inv(n * n), col(n);
  for (size_t j = 0; j < n; ++j) {
    std::fill(col.begin(), col.end(), 0);
    col[j] = 1;
    LuSolve(a, perm, n, col);
    for (size_t i = 0; i < n; ++i) inv[i * n + j] = col[i];
  }
  std::vector<double> x(n, 0);
  for (size_t i = 0; i < n; ++i)
    for (size_t j = 0; j < n; ++j) x[i] += inv[i * n + j] * b[j];
  p_conversion_ = x[0];

  // Removal effects.
  std::vector<std::vector<size_t>> ending_in(n_channels);
  for (size_t s = 1; s < n; ++s) ending_in[last_channel[s]].push_back(s);
  removal_effect_.assign(n_channels, 0);
  for (uint32_t c = 0; c < n_channels && p_conversion_ > 0; ++c) {
    const auto& set = ending_in[c];
    if (set.empty()) continue;
    const size_t m = set.size();
    std::vector<double> block(m * m), z(m);
    for (size_t i = 0; i < m; ++i) {
      z[i] = x[set[i]];
      for (size_t j = 0; j < m; ++j) block[i * m + j] = inv[set[i] * n + set[j]];
    }
    std::vector<size_t> bperm;
    if (!LuDecompose(block, bperm, m)) continue;
    LuSolve(block, bperm, m, z);
    double p_without = x[0];
    for (size_t j = 0; j < m; ++j) p_without -= inv[set[j]] * z[j];  // row 0 of N
    removal_effect_[c] = std::max(0.0, 1 - p_without / p_conversion_);
  }
  // Credit: channel c's share of the removal effects, of the conversions and of the value,
  // spread evenly over the converting journeys holding c (for value: in proportion to their
  // value). A channel on no converting journey has no conversion to take a share of (a
  // first-order chain can give it an effect through the states it leads to), and one whose
  // journeys carry no value takes no value share: the shares are normalised over the others.
  double sum_re = 0, sum_re_valued = 0;
  for (uint32_t c = 0; c < n_channels; ++c) {
    if (holders[c] > 0) sum_re += removal_effect_[c];
    if (holders_value[c] != 0) sum_re_valued += removal_effect_[c];
  }
  channel_conversions_.assign(n_channels, 0);
  channel_value_.assign(n_channels, 0);
  per_conversion_.assign(n_channels, 0);
  per_value_.assign(n_channels, 0);
  for (uint32_t c = 0; c < n_channels; ++c) {
    if (sum_re > 0 && holders[c] > 0) {
      channel_conversions_[c] = conversions * removal_effect_[c] / sum_re;
      per_conversion_[c] = channel_conversions_[c] / holders[c];
    }
    if (sum_re_valued > 0 && holders_value[c] != 0) {
      channel_value_[c] = value * removal_effect_[c] / sum_re_valued;
      per_value_[c] = channel_value_[c] / holders_value[c];
    }
  }
  return OkStatus();
}

void MarkovModel::Credit(std::span<const uint32_t> channels, std::span<double> conv,
                         std::span<double> val) const {
  for (size_t k = 0; k < channels.size(); ++k) {
    const uint32_t c = channels[k];
    size_t touches = 0;
    for (uint32_t other : channels) touches += other == c;
    const bool known = c < per_conversion_.size();
    conv[k] = known ? per_conversion_[c] / static_cast<double>(touches) : 0;
    val[k] = known ? per_value_[c] / static_cast<double>(touches) : 0;
  }
}

}  // namespace touchpoint::attribution
