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

// Solves (LU) X = P B for the m right-hand sides in the columns of B (row-major n x m), in
// place. Row operations (axpy over the m columns) rather than dot products, so the inner loops
// vectorise.
void LuSolve(const std::vector<double>& lu, const std::vector<size_t>& perm, size_t n, size_t m,
             std::vector<double>& b) {
  std::vector<double> y(n * m);
  for (size_t i = 0; i < n; ++i)
    std::copy_n(b.begin() + static_cast<std::ptrdiff_t>(perm[i] * m), m,
                y.begin() + static_cast<std::ptrdiff_t>(i * m));
  for (size_t i = 0; i < n; ++i) {
    double* yi = y.data() + i * m;
    for (size_t j = 0; j < i; ++j) {
      const double f = lu[i * n + j];
      if (f == 0) continue;
      const double* yj = y.data() + j * m;
      for (size_t c = 0; c < m; ++c) yi[c] -= f * yj[c];
    }
  }
  for (size_t i = n; i-- > 0;) {
    double* yi = y.data() + i * m;
    for (size_t j = i + 1; j < n; ++j) {
      const double f = lu[i * n + j];
      if (f == 0) continue;
      const double* yj = y.data() + j * m;
      for (size_t c = 0; c < m; ++c) yi[c] -= f * yj[c];
    }
    const double d = lu[i * n + i];
    for (size_t c = 0; c < m; ++c) yi[c] /= d;
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
  // Journeys per (from, to): a dense table for first-order chains of up to 1024 channels (to:
  // a state, or the two last columns for conversion and null), else a hash map.
  const bool dense = k_order == 1 && n_channels < 1024;
  const size_t width = n_channels + 3;
  std::vector<double> dense_count(dense ? (n_channels + 1) * width : 0, 0);
  std::unordered_map<uint64_t, double> count;  // (from << 32 | to) -> journeys
  auto add = [&](uint32_t from, uint32_t to) {
    if (dense)
      dense_count[from * width + (to == kConv ? width - 2 : to == kNull ? width - 1 : to)] += 1;
    else
      count[uint64_t{from} << 32 | to] += 1;
  };
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
      add(prev, state);
      out_total[prev] += 1;
      prev = state;
      if (conv && seen[c] != i) {
        seen[c] = static_cast<uint32_t>(i);
        holders[c] += 1;
        holders_value[c] += paths.Value(i);
      }
    }
    add(prev, conv ? kConv : kNull);
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
  auto enter = [&](uint32_t from, uint32_t to, double cnt) {
    const double p = cnt / out_total[from];
    if (to == kConv)
      b[from] += p;
    else if (to != kNull)
      a[from * n + to] -= p;
  };
  for (const auto& [key, cnt] : count)
    enter(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key), cnt);
  for (uint32_t from = 0; dense && from < n; ++from)
    for (size_t to = 0; to < width; ++to)
      if (const double cnt = dense_count[from * width + to]; cnt != 0)
        enter(from,
              to == width - 2   ? kConv
              : to == width - 1 ? kNull
                                : static_cast<uint32_t>(to),
              cnt);
  std::vector<size_t> perm;
  if (!LuDecompose(a, perm, n))
    return InvalidArgument("model", ": markov: the chain has no absorbing exit");  // unreachable
  // The fundamental matrix: A^-1 = solve(A, I).
  std::vector<double> inv(n * n, 0);
  for (size_t i = 0; i < n; ++i) inv[i * n + i] = 1;
  LuSolve(a, perm, n, n, inv);
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
    LuSolve(block, bperm, m, 1, z);
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
