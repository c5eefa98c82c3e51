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
#include <tuple>
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

namespace {

constexpr uint32_t kConv = UINT32_MAX - 1, kNull = UINT32_MAX;

// One worker's share of the journeys, counted as they come. First-order chains over fewer than
// 1024 channels count their transitions in a dense table (row: start or a channel; column: a
// channel, conversion or null); other chains keep the journeys for Fit to intern their tuples.
class MarkovSink final : public JourneySink {
 public:
  MarkovSink(int order, uint32_t n_channels)
      : dense_(order == 1 && n_channels < 1024),
        width_(n_channels + 3),
        holders_(n_channels, 0),
        holders_value_(n_channels, 0),
        seen_(n_channels, 0) {
    if (dense_) counts_.assign((n_channels + 1) * width_, 0);
  }

  void Add(std::span<const uint32_t> channels, bool converted, double value) override {
    if (channels.empty()) return;
    ++journeys_;
    if (converted) {
      conversions_ += 1;
      value_ += value;
      for (uint32_t c : channels) {
        if (c >= holders_.size()) {
          out_of_range_ = true;
          return;
        }
        if (seen_[c] == journeys_) continue;
        seen_[c] = journeys_;
        holders_[c] += 1;
        holders_value_[c] += value;
      }
    }
    if (!dense_) {
      paths_.Add(channels, converted, value);
      return;
    }
    size_t from = 0;  // the start
    uint32_t last = UINT32_MAX;
    for (uint32_t c : channels) {
      if (c == last) continue;  // a repeat is one step
      if (c >= holders_.size()) {
        out_of_range_ = true;
        return;
      }
      counts_[from * width_ + c + 1] += 1;
      from = c + 1;
      last = c;
    }
    counts_[from * width_ + (converted ? width_ - 2 : width_ - 1)] += 1;
  }

  bool dense_;
  size_t width_;
  std::vector<uint32_t> counts_;  // journeys per transition (half the cache of doubles)
  std::vector<double> holders_, holders_value_;  // converting journeys (value) holding a channel
  std::vector<uint64_t> seen_;
  uint64_t journeys_ = 0;
  double conversions_ = 0, value_ = 0;
  bool out_of_range_ = false;
  PathSet paths_;
};

}  // namespace

std::unique_ptr<JourneySink> MarkovModel::NewSink(uint32_t n_channels) const {
  return std::make_unique<MarkovSink>(order_, n_channels);
}

Status MarkovModel::Fit(std::span<JourneySink* const> sinks, uint32_t n_channels) {
  if (order_ < 1) return InvalidArgument("markov_order", ": must be at least 1");
  const size_t k_order = static_cast<size_t>(order_);
  std::vector<double> holders(n_channels, 0), holders_value(n_channels, 0);
  double conversions = 0, value = 0;
  size_t journeys = 0;
  for (JourneySink* sink : sinks) {
    const auto& s = static_cast<const MarkovSink&>(*sink);
    if (s.out_of_range_) return InvalidArgument("channel", ": code out of range");
    for (uint32_t c = 0; c < n_channels; ++c) {
      holders[c] += s.holders_[c];
      holders_value[c] += s.holders_value_[c];
    }
    conversions += s.conversions_;
    value += s.value_;
    journeys += s.journeys_;
  }
  journeys_converting_ = static_cast<size_t>(conversions);
  journeys_not_converting_ = journeys - journeys_converting_;
  // The transient states: 0 is the start; the others are channels (order 1) or tuples of the
  // last k channels (fewer at a journey's beginning), numbered as first seen. Each transition
  // is (from state, to state or kConv / kNull, journeys).
  std::vector<uint32_t> last_channel = {UINT32_MAX};  // per state
  std::vector<std::tuple<uint32_t, uint32_t, double>> transitions;
  if (!sinks.empty() && static_cast<const MarkovSink&>(*sinks[0]).dense_) {
    const size_t width = n_channels + 3;
    std::vector<double> counts((n_channels + 1) * width, 0);
    for (JourneySink* sink : sinks) {
      const auto& s = static_cast<const MarkovSink&>(*sink);
      for (size_t i = 0; i < counts.size(); ++i) counts[i] += s.counts_[i];
    }
    std::vector<uint32_t> state_of(n_channels + 1, UINT32_MAX);  // by row: start, channels
    state_of[0] = 0;
    for (uint32_t c = 0; c < n_channels; ++c) {
      double out = 0;
      for (size_t to = 0; to < width; ++to) out += counts[(c + 1) * width + to];
      if (out == 0) continue;  // never entered
      state_of[c + 1] = static_cast<uint32_t>(last_channel.size());
      last_channel.push_back(c);
    }
    for (size_t row = 0; row <= n_channels; ++row)
      for (size_t to = 0; to < width; ++to)
        if (const double cnt = counts[row * width + to]; cnt != 0)
          transitions.emplace_back(state_of[row],
                                   to == width - 2   ? kConv
                                   : to == width - 1 ? kNull
                                                     : state_of[to],
                                   cnt);
  } else {
    std::map<std::vector<uint32_t>, uint32_t> tuple_state;
    std::unordered_map<uint64_t, double> count;  // (from << 32 | to) -> journeys
    std::vector<uint32_t> steps, tuple;
    for (JourneySink* sink : sinks) {
      const PathSet& paths = static_cast<const MarkovSink&>(*sink).paths_;
      for (size_t i = 0; i < paths.size(); ++i) {
        CollapseRepeats(paths.Channels(i), steps);
        if (steps.empty()) continue;
        uint32_t prev = 0;
        for (size_t s = 0; s < steps.size(); ++s) {
          const size_t first = s + 1 - std::min(s + 1, k_order);
          tuple.assign(steps.begin() + static_cast<std::ptrdiff_t>(first),
                       steps.begin() + static_cast<std::ptrdiff_t>(s + 1));
          auto [it, inserted] =
              tuple_state.try_emplace(tuple, static_cast<uint32_t>(last_channel.size()));
          if (inserted) last_channel.push_back(steps[s]);
          count[uint64_t{prev} << 32 | it->second] += 1;
          prev = it->second;
        }
        count[uint64_t{prev} << 32 | (paths.Converted(i) ? kConv : kNull)] += 1;
      }
    }
    for (const auto& [key, cnt] : count)
      transitions.emplace_back(static_cast<uint32_t>(key >> 32), static_cast<uint32_t>(key), cnt);
  }
  const size_t n = last_channel.size();
  if (n > kMaxStates)
    return InvalidArgument("markov_order", ": the chain has " + std::to_string(n) +
                                               " states, more than " + std::to_string(kMaxStates) +
                                               "; use a coarser channel= or a lower markov_order");
  states_ = n;
  // A = I - Q and b = P(-> conversion).
  std::vector<double> out_total(n, 0);
  for (const auto& [from, to, cnt] : transitions) out_total[from] += cnt;
  std::vector<double> a(n * n, 0), b(n, 0);
  for (size_t i = 0; i < n; ++i) a[i * n + i] = 1;
  for (const auto& [from, to, cnt] : transitions) {
    const double p = cnt / out_total[from];
    if (to == kConv)
      b[from] += p;
    else if (to != kNull)
      a[from * n + to] -= p;
  }
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
