#include "query/report.h"

#include <algorithm>
#include <cmath>
#include <map>
#include <thread>
#include <unordered_map>

#include "attribution/data_driven.h"
#include "attribution/journey.h"
#include "core/time.h"
#include "query/channels.h"
#include "query/stats.h"

namespace touchpoint::query {

namespace {

constexpr std::string_view kDimNames[] = {
    "campaign", "adgroup", "ad",     "format",    "length", "cta",    "tag", "age",
    "gender",   "country", "region", "placement", "os",     "device", "day", "hour"};

bool IsAdLevel(Dim d) { return d <= Dim::kTag; }
bool IsRowLevel(Dim d) { return d >= Dim::kAge && d <= Dim::kDevice; }

std::string_view LengthName(uint32_t code) {
  static constexpr std::string_view k[] = {"", "image", "short", "long"};
  return k[code];
}
uint32_t LengthCode(const Ad* ad) {
  if (!ad) return 0;
  if (ad->creative.video_ms <= 0) return ad->creative.format.empty() ? 0 : 1;
  return ad->creative.video_ms <= 15000 ? 2 : 3;  // short: up to 15 s
}

int64_t FloorDiv(int64_t a, int64_t b) { return a >= 0 ? a / b : -((-a + b - 1) / b); }

// Maps composite keys to dense group numbers.
class GroupIndex {
 public:
  explicit GroupIndex(uint64_t key_space) {
    if (key_space <= (1u << 22)) dense_.assign(key_space, UINT32_MAX);
  }
  uint32_t Get(uint64_t key) {
    if (!dense_.empty() || key_space_zero_) {
      uint32_t& slot = dense_[key];
      if (slot == UINT32_MAX) {
        slot = static_cast<uint32_t>(keys_.size());
        keys_.push_back(key);
      }
      return slot;
    }
    auto [it, inserted] = sparse_.try_emplace(key, static_cast<uint32_t>(keys_.size()));
    if (inserted) keys_.push_back(key);
    return it->second;
  }
  const std::vector<uint64_t>& keys() const { return keys_; }

 private:
  bool key_space_zero_ = false;
  std::vector<uint32_t> dense_;
  std::unordered_map<uint64_t, uint32_t> sparse_;
  std::vector<uint64_t> keys_;
};

Metrics& operator+=(Metrics& a, const Metrics& b) {
  a.spend += b.spend;
  a.impressions += b.impressions;
  a.reach += b.reach;
  a.clicks += b.clicks;
  a.video_plays += b.video_plays;
  a.watch_ms += b.watch_ms;
  a.views_2s += b.views_2s;
  a.views_6s += b.views_6s;
  a.p25 += b.p25;
  a.p50 += b.p50;
  a.p75 += b.p75;
  a.p100 += b.p100;
  a.conversions_click += b.conversions_click;
  a.conversions_view += b.conversions_view;
  a.conversions_engaged_view += b.conversions_engaged_view;
  a.value += b.value;
  return a;
}

struct Acc {
  Metrics m;
  uint32_t last_cluster = UINT32_MAX;  // for exact reach: count each cluster once per group
};

// Precomputed per query: how each dimension is coded.
struct Plan {
  std::vector<Dim> ad_dims, row_dims, time_dims;
  // Ad level: for each ad code, its partial keys (several when expanding tags), or empty when
  // the ad is filtered out.
  std::vector<std::vector<uint64_t>> ad_parts;
  uint64_t ad_card = 1;
  std::vector<std::vector<std::string>> ad_part_values;  // decoded values of each ad part key
  // Row level.
  std::vector<uint64_t> row_cards;
  uint64_t row_card = 1;
  std::vector<std::vector<uint8_t>> row_allowed;  // per row dim (and filtered dims): allowed codes
  std::vector<Dim> row_filter_dims;
  // Time.
  int64_t day0 = 0;  // local day number of from_ms
  int64_t n_days = 1;
  uint64_t time_card = 1;
};

uint32_t RowCode(const AdColumns& a, size_t r, Dim d) {
  switch (d) {
    case Dim::kAge:
      return a.age[r];
    case Dim::kGender:
      return a.gender[r];
    case Dim::kCountry:
      return a.country[r];
    case Dim::kRegion:
      return a.region[r];
    case Dim::kPlacement:
      return a.placement[r];
    case Dim::kOs:
      return a.os[r];
    case Dim::kDevice:
      return a.device[r];
    default:
      return 0;
  }
}

uint32_t RowCard(const Dataset& d, Dim dim) {
  switch (dim) {
    case Dim::kAge:
      return 7;
    case Dim::kGender:
      return 4;
    case Dim::kCountry:
      return d.countries().size();
    case Dim::kRegion:
      return d.regions().size();
    case Dim::kPlacement:
      return std::min<uint32_t>(d.placements().size(), 256);
    case Dim::kOs:
      return d.oses().size();
    case Dim::kDevice:
      return d.devices().size();
    default:
      return 1;
  }
}

std::string RowValue(const Dataset& d, Dim dim, uint32_t code) {
  switch (dim) {
    case Dim::kAge:
      return std::string(kAgeNames[code]);
    case Dim::kGender:
      return std::string(kGenderNames[code]);
    case Dim::kCountry:
      return std::string(d.countries().Get(code));
    case Dim::kRegion:
      return std::string(d.regions().Get(code));
    case Dim::kPlacement:
      return std::string(d.placements().Get(code));
    case Dim::kOs:
      return std::string(d.oses().Get(code));
    case Dim::kDevice:
      return std::string(d.devices().Get(code));
    default:
      return "";
  }
}

// The values of one ad-level dimension for an ad (several for tags).
std::vector<std::string> AdValues(const Dataset& d, uint32_t ad_code, Dim dim) {
  const Ad* ad = d.CatalogAd(ad_code);
  switch (dim) {
    case Dim::kCampaign: {
      const Campaign* c = d.CatalogCampaign(ad_code);
      return {c ? c->campaign_id : ""};
    }
    case Dim::kAdGroup: {
      const AdGroup* g = d.CatalogAdGroup(ad_code);
      return {g ? g->adgroup_id : ""};
    }
    case Dim::kAd:
      return {std::string(d.ad_ids().Get(ad_code))};
    case Dim::kFormat:
      return {ad ? ad->creative.format : ""};
    case Dim::kLength:
      return {std::string(LengthName(LengthCode(ad)))};
    case Dim::kCta:
      return {ad ? ad->creative.call_to_action : ""};
    case Dim::kTag: {
      if (!ad || ad->creative.tags.empty()) return {""};
      return ad->creative.tags;
    }
    default:
      return {""};
  }
}

Status BuildPlan(const Dataset& d, const ReportQuery& q, Plan& p) {
  for (Dim dim : q.dims) {
    if (IsAdLevel(dim))
      p.ad_dims.push_back(dim);
    else if (IsRowLevel(dim))
      p.row_dims.push_back(dim);
    else
      p.time_dims.push_back(dim);
  }
  // Filters by dimension.
  std::vector<const DimFilter*> ad_filters;
  for (const auto& f : q.filters) {
    if (IsAdLevel(f.dim))
      ad_filters.push_back(&f);
    else if (IsRowLevel(f.dim))
      p.row_filter_dims.push_back(f.dim);
    else
      return InvalidArgument("filter", ": day and hour cannot be filtered; use from/to");
  }
  // Ad parts: the cartesian product of each ad's values over the ad-level dims, with the
  // values interned per dimension.
  std::vector<std::unordered_map<std::string, uint64_t>> value_codes(p.ad_dims.size());
  std::vector<std::vector<std::string>> value_names(p.ad_dims.size());
  const uint32_t n_ads = d.ad_ids().size();
  std::vector<std::vector<std::vector<uint64_t>>> per_ad_codes(n_ads);
  for (uint32_t a = 0; a < n_ads; ++a) {
    bool keep = true;
    for (const DimFilter* f : ad_filters) {
      auto vals = AdValues(d, a, f->dim);
      bool any = false;
      for (const auto& v : vals)
        any |= std::find(f->values.begin(), f->values.end(), v) != f->values.end();
      keep &= any;
    }
    if (!keep) continue;
    per_ad_codes[a].resize(p.ad_dims.size());
    for (size_t k = 0; k < p.ad_dims.size(); ++k) {
      auto vals = AdValues(d, a, p.ad_dims[k]);
      // A tag filter narrows the tag dimension to the filtered tags.
      for (const DimFilter* f : ad_filters)
        if (f->dim == p.ad_dims[k] && f->dim == Dim::kTag)
          vals.erase(std::remove_if(vals.begin(), vals.end(),
                                    [&](const std::string& v) {
                                      return std::find(f->values.begin(), f->values.end(), v) ==
                                             f->values.end();
                                    }),
                     vals.end());
      for (const auto& v : vals) {
        auto [it, inserted] = value_codes[k].try_emplace(v, value_names[k].size());
        if (inserted) value_names[k].push_back(v);
        per_ad_codes[a][k].push_back(it->second);
      }
    }
  }
  std::vector<uint64_t> cards(p.ad_dims.size());
  p.ad_card = 1;
  for (size_t k = 0; k < p.ad_dims.size(); ++k) {
    cards[k] = std::max<uint64_t>(1, value_names[k].size());
    p.ad_card *= cards[k];
  }
  p.ad_parts.assign(n_ads, {});
  std::unordered_map<uint64_t, bool> seen_part;
  for (uint32_t a = 0; a < n_ads; ++a) {
    if (per_ad_codes[a].size() != p.ad_dims.size()) continue;  // filtered out
    std::vector<uint64_t> parts = {0};
    for (size_t k = 0; k < p.ad_dims.size(); ++k) {
      std::vector<uint64_t> next;
      for (uint64_t base : parts)
        for (uint64_t c : per_ad_codes[a][k]) next.push_back(base * cards[k] + c);
      parts.swap(next);
    }
    p.ad_parts[a] = parts;
  }
  // Decoding table for ad parts.
  p.ad_part_values.assign(p.ad_card, std::vector<std::string>(p.ad_dims.size()));
  if (p.ad_card <= (1u << 20)) {
    for (uint64_t key = 0; key < p.ad_card; ++key) {
      uint64_t rest = key;
      for (size_t k = p.ad_dims.size(); k-- > 0;) {
        uint64_t c = rest % cards[k];
        rest /= cards[k];
        p.ad_part_values[key][k] = c < value_names[k].size() ? value_names[k][c] : "";
      }
    }
  } else {
    return InvalidArgument("dimensions", ": too many ad-level combinations");
  }
  // Row-level dims and filters.
  p.row_card = 1;
  for (Dim dim : p.row_dims) {
    p.row_cards.push_back(RowCard(d, dim));
    p.row_card *= p.row_cards.back();
  }
  for (Dim dim : p.row_filter_dims) {
    std::vector<uint8_t> allowed(RowCard(d, dim), 0);
    for (const auto& f : q.filters)
      if (f.dim == dim)
        for (uint32_t c = 0; c < allowed.size(); ++c)
          for (const auto& v : f.values) allowed[c] |= RowValue(d, dim, c) == v;
    p.row_allowed.push_back(std::move(allowed));
  }
  // Time.
  p.day0 = FloorDiv(q.from_ms + q.tz_offset_ms, kDayMs);
  p.n_days = std::max<int64_t>(1, FloorDiv(q.to_ms - 1 + q.tz_offset_ms, kDayMs) - p.day0 + 1);
  p.time_card = 1;
  for (Dim dim : p.time_dims) p.time_card *= dim == Dim::kDay ? p.n_days : p.n_days * 24;
  if (p.n_days > 3660) return InvalidArgument("to", ": the range is longer than 10 years");
  return OkStatus();
}

// Which conversions credit which ads. Every ad belongs to one "judging set": set 0 counts what
// the converting pixel counts (its configured events, else purchases) — or, with explicit
// events, those events for everyone; set s > 0 is the campaigns whose optimisation event is the
// s-th distinct one. Sets(pixel, event) has bit s on when set s counts that event from that
// pixel; a conversion credits only touches of ads whose set bit is on.
struct ConversionRule {
  std::vector<uint8_t> ad_set;        // per ad code
  std::vector<uint64_t> event_sets;   // per event code: bits of sets s > 0 (or explicit)
  std::vector<uint32_t> pixel_table;  // per pixel code: index into pixel_counts
  std::vector<std::vector<uint8_t>> pixel_counts;  // per table, per event code: set 0 counts it
  uint64_t used = 1;                               // bits of the sets some ad belongs to

  uint64_t Sets(uint32_t pixel, uint32_t event) const {
    uint64_t m = event_sets[event];
    if (!pixel_counts.empty()) m |= pixel_counts[pixel_table[pixel]][event];
    return m;
  }
};

Status ResolveConversionRule(const Dataset& d, const ReportQuery& q, ConversionRule& r) {
  const uint32_t n_events = d.event_names().size(), n_ads = d.ad_ids().size();
  r.ad_set.assign(n_ads, 0);
  r.event_sets.assign(n_events, 0);
  if (!q.events.empty()) {
    for (const auto& e : q.events)
      if (uint32_t c = d.event_names().Find(e); c != UINT32_MAX) r.event_sets[c] = 1;
    return OkStatus();
  }
  // Set 0 by pixel: table 0 is the purchase rule; each configured pixel gets its own table.
  std::vector<uint8_t> purchases(n_events, 0);
  for (uint32_t e = 0; e < n_events; ++e) purchases[e] = IsPurchaseEvent(d.event_names().Get(e));
  r.pixel_counts.push_back(std::move(purchases));
  r.pixel_table.assign(d.pixels().size(), 0);
  for (const auto& [pixel, events] : q.pixel_events) {
    const uint32_t px = d.pixels().Find(pixel);
    if (px == UINT32_MAX || events.empty()) continue;
    std::vector<uint8_t> counts(n_events, 0);
    for (const auto& e : events)
      if (uint32_t c = d.event_names().Find(e); c != UINT32_MAX) counts[c] = 1;
    r.pixel_table[px] = static_cast<uint32_t>(r.pixel_counts.size());
    r.pixel_counts.push_back(std::move(counts));
  }
  // Sets s > 0: the campaigns' optimisation events.
  std::unordered_map<std::string, uint8_t> set_of;
  for (uint32_t a = 0; a < n_ads; ++a) {
    const Campaign* c = d.CatalogCampaign(a);
    if (!c || c->optimization_event.empty()) continue;
    auto [it, inserted] =
        set_of.try_emplace(c->optimization_event, static_cast<uint8_t>(set_of.size() + 1));
    if (inserted) {
      if (it->second > 63)
        return InvalidArgument("catalog", ": more than 63 distinct optimisation events");
      if (uint32_t e = d.event_names().Find(it->first); e != UINT32_MAX)
        r.event_sets[e] |= uint64_t{1} << it->second;
    }
    r.ad_set[a] = it->second;
  }
  r.used = 0;
  for (uint32_t a = 0; a < n_ads; ++a) r.used |= uint64_t{1} << r.ad_set[a];
  if (!r.used) r.used = 1;
  // No pixel sets its own events: set 0 is the same for every pixel, one lookup per row.
  if (r.pixel_counts.size() == 1) {
    for (uint32_t e = 0; e < n_events; ++e) r.event_sets[e] |= r.pixel_counts[0][e];
    r.pixel_counts.clear();
  }
  return OkStatus();
}

}  // namespace

std::optional<Dim> ParseDim(std::string_view name) {
  for (size_t i = 0; i < std::size(kDimNames); ++i)
    if (kDimNames[i] == name) return static_cast<Dim>(i);
  if (name == "campaign_id") return Dim::kCampaign;
  if (name == "adgroup_id") return Dim::kAdGroup;
  if (name == "ad_id") return Dim::kAd;
  if (name == "stat_time_day") return Dim::kDay;
  if (name == "stat_time_hour") return Dim::kHour;
  return std::nullopt;
}

std::vector<std::string> AdDimensionValues(const Dataset& d, uint32_t ad_code, Dim dim) {
  return AdValues(d, ad_code, dim);
}

std::string_view CreativeLength(const Ad* ad) { return LengthName(LengthCode(ad)); }

std::string_view DimName(Dim d) { return kDimNames[static_cast<size_t>(d)]; }

const std::vector<std::string>& MetricNames() {
  static const std::vector<std::string> kNames = {"spend",
                                                  "impressions",
                                                  "reach",
                                                  "frequency",
                                                  "clicks",
                                                  "ctr",
                                                  "cpc",
                                                  "cpm",
                                                  "video_plays",
                                                  "video_views_2s",
                                                  "video_views_6s",
                                                  "average_watch_ms",
                                                  "video_views_p25",
                                                  "video_views_p50",
                                                  "video_views_p75",
                                                  "video_views_p100",
                                                  "conversions",
                                                  "conversions_click",
                                                  "conversions_view",
                                                  "conversions_engaged_view",
                                                  "cvr_click",
                                                  "cvr_impression",
                                                  "value",
                                                  "cpa",
                                                  "roas"};
  return kNames;
}

std::optional<double> Metrics::Get(std::string_view n) const {
  auto ratio = [](double a, double b) -> std::optional<double> {
    if (b == 0) return std::nullopt;
    return a / b;
  };
  if (n == "spend") return spend;
  if (n == "impressions") return impressions;
  if (n == "reach") return reach;
  if (n == "frequency") return ratio(impressions, reach);
  if (n == "clicks") return clicks;
  if (n == "ctr") return ratio(100.0 * clicks, impressions);
  if (n == "cpc") return ratio(spend, clicks);
  if (n == "cpm") return ratio(1000.0 * spend, impressions);
  if (n == "video_plays") return video_plays;
  if (n == "video_views_2s") return views_2s;
  if (n == "video_views_6s") return views_6s;
  if (n == "average_watch_ms") return ratio(watch_ms, video_plays);
  if (n == "video_views_p25") return p25;
  if (n == "video_views_p50") return p50;
  if (n == "video_views_p75") return p75;
  if (n == "video_views_p100") return p100;
  if (n == "conversions") return conversions();
  if (n == "conversions_click") return conversions_click;
  if (n == "conversions_view") return conversions_view;
  if (n == "conversions_engaged_view") return conversions_engaged_view;
  if (n == "cvr_click") return ratio(100.0 * conversions(), clicks);
  if (n == "cvr_impression") return ratio(100.0 * conversions(), impressions);
  if (n == "value") return value;
  if (n == "cpa") return ratio(spend, conversions());
  if (n == "roas") return ratio(value, spend);
  return std::nullopt;
}

namespace {

// Everything one thread accumulates over its share of the clusters.
struct Worker {
  explicit Worker(uint64_t key_space) : groups(key_space) {}
  GroupIndex groups;
  std::vector<Acc> acc;
  Acc total;
  double unattributed = 0;
  std::vector<int64_t> alloc_total;  // (ad, day) -> impressions that day (before row filters)
  std::vector<int32_t> alloc_split;  // (ad, day, row part, hour) -> impressions in that group
  // Scratch.
  std::vector<attribution::TouchWindow> win;
  std::vector<attribution::TouchWindow> win_judged;  // win, closed for campaigns not judged
  std::vector<uint8_t> is_click;
  std::vector<uint32_t> journey;
  std::vector<double> weights, value_weights;
  std::vector<int64_t> journey_ms;
  // Data-driven models: where the fit pass puts this worker's journeys, and scratch.
  std::unique_ptr<attribution::JourneySink> sink;
  std::vector<uint32_t> channels;
  std::vector<int64_t> conversion_ms;
  std::vector<uint32_t> views;
  std::vector<int32_t> once_groups;

  // Deferred credit (one-pass Markov): per group, per channel, the 1 / touches units credited,
  // scaled by the channel's fitted factors after the pass (CreditIsChannelFactor).
  struct ChannelUnits {
    uint32_t channel;
    double click = 0, view = 0, engaged = 0, value = 0;
  };
  std::vector<std::vector<ChannelUnits>> units;  // by group index
  std::vector<ChannelUnits> total_units;         // by channel

  uint32_t Index(uint64_t key) {
    uint32_t g = groups.Get(key);
    if (g >= acc.size()) acc.resize(g + 1);
    return g;
  }
  Acc& At(uint64_t key) { return acc[Index(key)]; }
  ChannelUnits& Units(uint32_t g, uint32_t channel) {
    if (g >= units.size()) units.resize(g + 1);
    for (auto& u : units[g])
      if (u.channel == channel) return u;
    return units[g].emplace_back(ChannelUnits{channel});
  }
};

}  // namespace

static Status AddEventColumns(const Dataset& d, const ReportQuery& q, ReportResult& out);

// Fits a data-driven model on the collected journeys and records what it learnt in `out`.
static Status FitDataDriven(attribution::DataDrivenModel& model, const ChannelMap& channels,
                            const std::vector<attribution::JourneySink*>& sinks,
                            ReportResult& out) {
  TP_RETURN_IF_ERROR(model.Fit(sinks, static_cast<uint32_t>(channels.names.size())));
  out.channel = channels.dim;
  out.journeys_converting = model.journeys_converting();
  out.journeys_not_converting = model.journeys_not_converting();
  const auto* markov = dynamic_cast<const attribution::MarkovModel*>(&model);
  if (markov) {
    out.markov_states = markov->states();
    out.markov_conversion_probability = markov->conversion_probability();
  }
  for (size_t c = 0; c < channels.names.size(); ++c) {
    if (model.channel_conversions()[c] == 0 && (!markov || markov->removal_effects()[c] == 0))
      continue;
    out.channel_fit.push_back({channels.names[c], markov ? markov->removal_effects()[c] : 0,
                               model.channel_conversions()[c], model.channel_value()[c]});
  }
  std::sort(out.channel_fit.begin(), out.channel_fit.end(),
            [](const ChannelFit& a, const ChannelFit& b) { return a.channel < b.channel; });
  return OkStatus();
}

StatusOr<ReportResult> RunReport(const Dataset& d, const ReportQuery& q) {
  if (q.to_ms <= q.from_ms) return InvalidArgument("to", ": must be after from");
  // A rule-based model weighs each journey alone; a data-driven one (markov, shapley) learns
  // from every journey too (attribution/data_driven.h; the fit pass is `collect` below).
  std::unique_ptr<attribution::AttributionModel> rule_model;
  std::unique_ptr<attribution::DataDrivenModel> fitted;
  if (attribution::IsDataDriven(q.model)) {
    auto m = attribution::MakeDataDrivenModel(q.model, q.params);
    if (!m.ok()) return m.status();
    fitted = std::move(*m);
    if (q.channel && !IsChannelDim(*q.channel))
      return InvalidArgument("channel",
                             ": must be an ad-side dimension (campaign, adgroup, ad, "
                             "format, length, cta, tag, placement)");
  } else {
    auto m = attribution::MakeModel(q.model, q.params);
    if (!m.ok()) return m.status();
    rule_model = std::move(*m);
  }
  const ChannelMap channels = fitted ? BuildChannelMap(d, ChannelDim(q)) : ChannelMap{};
  Plan p;
  TP_RETURN_IF_ERROR(BuildPlan(d, q, p));
  if (!q.sort.empty()) {
    std::string_view s = q.sort[0] == '-' ? std::string_view(q.sort).substr(1) : q.sort;
    if (std::find(MetricNames().begin(), MetricNames().end(), s) == MetricNames().end() &&
        !ParseDim(s))
      return InvalidArgument("sort", ": unknown metric or dimension " + std::string(s));
  }
  const auto& ads = d.ads();
  const auto& sites = d.sites();
  const uint64_t key_space = p.ad_card * p.row_card * p.time_card;
  ReportResult out;

  // Conversion events, resolved to codes before the scan (no string compares per row).
  ConversionRule rule;
  TP_RETURN_IF_ERROR(ResolveConversionRule(d, q, rule));
  uint32_t pixel_code = UINT32_MAX;
  if (!q.pixel_id.empty()) {
    pixel_code = d.pixels().Find(q.pixel_id);
    if (pixel_code == UINT32_MAX) return NotFound("pixel_id: unknown pixel " + q.pixel_id);
  }

  auto row_part = [&](size_t r) -> uint64_t {
    uint64_t k = 0;
    for (size_t i = 0; i < p.row_dims.size(); ++i)
      k = k * p.row_cards[i] + RowCode(ads, r, p.row_dims[i]);
    return k;
  };
  auto row_passes = [&](size_t r) {
    for (size_t i = 0; i < p.row_filter_dims.size(); ++i) {
      uint32_t c = RowCode(ads, r, p.row_filter_dims[i]);
      if (c >= p.row_allowed[i].size() || !p.row_allowed[i][c]) return false;
    }
    return true;
  };
  const bool has_day =
      std::find(p.time_dims.begin(), p.time_dims.end(), Dim::kDay) != p.time_dims.end();
  const bool has_hour =
      std::find(p.time_dims.begin(), p.time_dims.end(), Dim::kHour) != p.time_dims.end();
  auto time_part = [&](int64_t t) -> uint64_t {
    if (p.time_dims.empty()) return 0;
    uint64_t k = 0;
    int64_t local = t + q.tz_offset_ms;
    int64_t day = FloorDiv(local, kDayMs) - p.day0;
    for (Dim dim : p.time_dims) {
      if (dim == Dim::kDay)
        k = k * p.n_days + static_cast<uint64_t>(day);
      else
        k = k * (p.n_days * 24) + static_cast<uint64_t>(day * 24 + FloorDiv(local, kHourMs) % 24);
    }
    return k;
  };
  auto in_range = [&](int64_t t) { return t >= q.from_ms && t < q.to_ms; };
  auto key_of = [&](uint64_t ad_part, uint64_t rp, uint64_t tp) {
    return (ad_part * p.row_card + rp) * p.time_card + tp;
  };

  // Spend is split by impression share within each (ad, local day) when the report goes below
  // the ad level (audience) or by hour.
  const bool allocate = !p.row_dims.empty() || !p.row_filter_dims.empty() || has_hour;
  const uint64_t n_ads = d.ad_ids().size();
  const uint64_t hour_card = has_hour ? 24 : 1;
  const uint64_t alloc_cells = n_ads * static_cast<uint64_t>(p.n_days) * p.row_card * hour_card;
  if (allocate && alloc_cells > (1ull << 26))
    return InvalidArgument(
        "dimensions", ": too fine a split for spend allocation; narrow the range or dimensions");
  const bool delivery = q.delivery || allocate;

  // Windows, ad groups and count mode per ad.
  const int64_t click_override = q.click_window_days ? *q.click_window_days * kDayMs : -1;
  const int64_t view_override = q.view_window_days ? *q.view_window_days * kDayMs : -1;
  int64_t max_window = 0;
  std::vector<attribution::TouchWindow> ad_window(
      n_ads, {click_override >= 0 ? click_override : 7 * kDayMs,
              view_override >= 0 ? view_override : kDayMs});
  std::vector<int32_t> adgroup_index(n_ads, -1);
  std::vector<uint8_t> adgroup_once(n_ads, q.count_mode == CountMode::kOnce);
  {
    int32_t gi = 0;
    for (const auto& c : d.catalog().campaigns)
      for (const auto& g : c.adgroups) {
        for (const auto& a : g.ads) {
          uint32_t code = d.ad_ids().Find(a.ad_id);
          if (code >= n_ads) continue;
          adgroup_index[code] = gi;
          adgroup_once[code] =
              q.count_mode ? *q.count_mode == CountMode::kOnce : g.count_mode == CountMode::kOnce;
          if (click_override < 0) ad_window[code].click_ms = g.click_window_days * kDayMs;
          if (view_override < 0) ad_window[code].view_ms = g.view_window_days * kDayMs;
        }
        ++gi;
      }
    for (uint32_t a = 0; a < n_ads; ++a) {
      if (adgroup_index[a] < 0) adgroup_index[a] = -2 - static_cast<int32_t>(a);  // its own group
      max_window = std::max({max_window, ad_window[a].click_ms, ad_window[a].view_ms});
    }
  }

  const size_t n_clusters = d.cluster_count();
  const size_t anon = d.anonymous_cluster();
  const bool defer = fitted && fitted->CreditIsChannelFactor() &&
                     std::none_of(adgroup_once.begin(), adgroup_once.end(),
                                  [](uint8_t once) { return once != 0; });
  constexpr uint8_t kImpression = static_cast<uint8_t>(AdEventType::kImpression);
  constexpr uint8_t kClick = static_cast<uint8_t>(AdEventType::kClick);
  constexpr uint8_t kPlay = static_cast<uint8_t>(AdEventType::kVideoPlay);

  // collect: the data-driven fit pass. Each conversion's journey and (if the model learns from
  // them) each person's non-converting journey go to w.sink as channel codes; no delivery and
  // no credit, unless `defer`: then the pass also counts delivery and credits units per channel
  // (Worker::Units), scaled after the fit.
  auto run = [&](Worker& w, size_t cb, size_t ce, bool collect) {
    const bool credit_pass = !collect || defer;
    if (allocate && credit_pass) {
      w.alloc_total.assign(n_ads * p.n_days, 0);
      w.alloc_split.assign(alloc_cells, 0);
    }
    for (size_t c = cb; c < ce; ++c) {
      const uint32_t tb = d.ad_begin(c), te = d.ad_begin(c + 1);
      const uint32_t cluster_id = static_cast<uint32_t>(c);
      // Delivery.
      bool total_reached = false;
      for (uint32_t r = delivery && credit_pass ? tb : te; r < te; ++r) {
        const int64_t t = ads.time_ms[r];
        if (!in_range(t)) continue;
        const uint32_t ad = ads.ad[r];
        const auto& parts = p.ad_parts[ad];
        if (parts.empty()) continue;
        const uint8_t type = ads.type[r];
        const int64_t local = t + q.tz_offset_ms;
        const int64_t day = FloorDiv(local, kDayMs) - p.day0;
        if (allocate && type == kImpression) w.alloc_total[ad * p.n_days + day]++;
        if (!row_passes(r)) continue;
        const uint64_t rp = row_part(r), tp = time_part(t);
        auto add = [&](Acc& a, bool reach_counts) {
          Metrics& m = a.m;
          if (type == kImpression) {
            m.impressions++;
            if (reach_counts && c != anon && a.last_cluster != cluster_id) {
              m.reach++;
              a.last_cluster = cluster_id;
            }
          } else if (type == kClick) {
            m.clicks++;
          } else {
            const uint32_t wm = ads.watch_ms[r], v = ads.video_ms[r];
            m.video_plays++;
            m.watch_ms += wm;
            m.views_2s += wm >= 2000 || (v && wm >= v);
            m.views_6s += wm >= 6000 || (v && wm >= v);
            if (v) {
              m.p25 += 4ull * wm >= v;
              m.p50 += 2ull * wm >= v;
              m.p75 += 4ull * wm >= 3ull * v;
              m.p100 += wm >= v;
            }
          }
        };
        for (uint64_t part : parts) add(w.At(key_of(part, rp, tp)), true);
        add(w.total, !total_reached);
        if (type == kImpression) {
          if (c != anon) total_reached = true;
          if (allocate) {
            const uint64_t hour =
                has_hour ? static_cast<uint64_t>(FloorDiv(local, kHourMs) % 24) : 0;
            w.alloc_split[((ad * p.n_days + day) * p.row_card + rp) * hour_card + hour]++;
          }
        }
      }
      if (c == anon) continue;

      // Attribution of this cluster's conversions.
      const uint32_t sb = d.site_begin(c), se = d.site_begin(c + 1);
      bool prepared = false;
      w.once_groups.clear();
      w.conversion_ms.clear();
      for (uint32_t i = sb; i < se; ++i) {
        const uint32_t row = d.site_order()[i];
        const uint64_t sets = rule.Sets(sites.pixel[row], sites.event[row]);
        if (!sets) continue;
        if (pixel_code != UINT32_MAX && sites.pixel[row] != pixel_code) continue;
        const int64_t conv_t = sites.time_ms[row];
        if (collect) w.conversion_ms.push_back(conv_t);
        if (q.basis == Basis::kConversion ? !in_range(conv_t)
                                          : (conv_t < q.from_ms || conv_t >= q.to_ms + max_window))
          continue;
        if (!prepared) {
          const size_t n = te - tb;
          w.win.resize(n);
          w.is_click.resize(n);
          for (size_t k = 0; k < n; ++k) {
            const uint32_t r = tb + static_cast<uint32_t>(k);
            w.is_click[k] = ads.type[r] == kClick;
            w.win[k] = ad_window[ads.ad[r]];
          }
          prepared = true;
        }
        const attribution::TouchWindow* windows = w.win.data();
        if ((sets & rule.used) != rule.used) {
          // Only the touches of campaigns judged on this event may get its credit.
          const size_t n = te - tb;
          w.win_judged.resize(n);
          for (size_t k = 0; k < n; ++k)
            w.win_judged[k] = (sets >> rule.ad_set[ads.ad[tb + k]]) & 1
                                  ? w.win[k]
                                  : attribution::TouchWindow{-1, 0};
          windows = w.win_judged.data();
        }
        attribution::ClusterTouches touches{
            std::span<const int64_t>(ads.time_ms.data() + tb, te - tb),
            std::span<const uint8_t>(w.is_click.data(), te - tb),
            std::span<const attribution::TouchWindow>(windows, te - tb)};
        const bool clicks = attribution::BuildJourney(touches, conv_t, w.journey);
        if (w.journey.empty()) {
          if (in_range(conv_t)) w.unattributed += 1;
          continue;
        }
        const double value = std::isnan(sites.value[row]) ? 0 : sites.value[row];
        w.weights.assign(w.journey.size(), 0);
        w.value_weights.resize(w.journey.size());
        if (fitted) {
          w.channels.resize(w.journey.size());
          for (size_t k = 0; k < w.journey.size(); ++k)
            w.channels[k] = channels.Of(ads, tb + w.journey[k]);
          if (collect) {
            w.sink->Add(w.channels, true, value);
            if (!defer) continue;
            for (size_t k = 0; k < w.channels.size(); ++k)  // units: 1 / the channel's touches
              w.weights[k] = w.value_weights[k] =
                  1.0 / static_cast<double>(
                            std::count(w.channels.begin(), w.channels.end(), w.channels[k]));
          } else {
            fitted->Credit(w.channels, w.weights, w.value_weights);
            if (w.sink) w.sink->Add(w.channels, true, value);  // fitted after this pass
          }
        } else {
          w.journey_ms.resize(w.journey.size());
          for (size_t k = 0; k < w.journey.size(); ++k)
            w.journey_ms[k] = ads.time_ms[tb + w.journey[k]];
          rule_model->Credit(attribution::Journey{conv_t, w.journey_ms, clicks}, w.weights);
          w.value_weights = w.weights;
        }
        const size_t once_before = w.once_groups.size();
        for (size_t k = 0; k < w.journey.size(); ++k) {
          const double wt = w.weights[k], vw = w.value_weights[k];
          if (wt <= 0) continue;
          const uint32_t r = tb + w.journey[k];
          const uint32_t ad = ads.ad[r];
          if (adgroup_once[ad]) {
            const int32_t g = adgroup_index[ad];
            auto mid = w.once_groups.begin() + static_cast<std::ptrdiff_t>(once_before);
            if (std::find(w.once_groups.begin(), mid, g) != mid) continue;  // already converted
            if (std::find(mid, w.once_groups.end(), g) == w.once_groups.end())
              w.once_groups.push_back(g);
          }
          const int64_t basis_t = q.basis == Basis::kTouch ? ads.time_ms[r] : conv_t;
          if (!in_range(basis_t)) continue;
          const auto& parts = p.ad_parts[ad];
          if (parts.empty() || !row_passes(r)) continue;
          bool engaged = false;
          if (!clicks)
            for (uint32_t j : w.journey) {
              const uint32_t rj = tb + j;
              engaged |= ads.ad[rj] == ad && ads.type[rj] == kPlay && ads.watch_ms[rj] >= 6000;
            }
          auto credit = [&](Metrics& m) {
            (clicks ? m.conversions_click : m.conversions_view) += wt;
            if (engaged) m.conversions_engaged_view += wt;
            m.value += vw * value;
          };
          const uint64_t rp = row_part(r), tp = time_part(basis_t);
          if (collect) {  // defer: units of the touch's channel
            const uint32_t ch = w.channels[k];
            auto add_units = [&](Worker::ChannelUnits& u) {
              (clicks ? u.click : u.view) += wt;
              if (engaged) u.engaged += wt;
              u.value += vw * value;
            };
            for (uint64_t part : parts) add_units(w.Units(w.Index(key_of(part, rp, tp)), ch));
            while (w.total_units.size() <= ch)
              w.total_units.push_back({static_cast<uint32_t>(w.total_units.size())});
            add_units(w.total_units[ch]);
            continue;
          }
          for (uint64_t part : parts) credit(w.At(key_of(part, rp, tp)).m);
          credit(w.total.m);
        }
      }
      if (collect && fitted->LearnsFromNonConverting()) {
        // The person's touches in the range that no counted conversion of theirs followed
        // within the touch's window: one non-converting journey, clicks beating views as for
        // a conversion (the clicks if any, else the views).
        // Channel codes straight away: clicks in w.channels, views aside in w.views.
        w.channels.clear();
        w.views.clear();
        for (uint32_t r = tb; r < te; ++r) {
          const int64_t t = ads.time_ms[r];
          if (!in_range(t)) continue;
          const bool click = ads.type[r] == kClick;
          if (!click && !w.channels.empty()) continue;  // a click already beats the views
          const attribution::TouchWindow& win = ad_window[ads.ad[r]];
          const int64_t window = click ? win.click_ms : win.view_ms;
          if (!click && window <= 0) continue;  // views off
          bool followed = false;
          for (int64_t conv_t : w.conversion_ms) followed |= conv_t >= t && conv_t - t <= window;
          if (!followed) (click ? w.channels : w.views).push_back(channels.Of(ads, r));
        }
        if (w.channels.empty()) w.channels.swap(w.views);
        if (!w.channels.empty()) {
          w.sink->Add(w.channels, false, 0);
        }
      }
    }
  };

  // Two workers over halves of the clusters (the machine has 2 cores; reach stays exact since
  // a cluster belongs to one worker).
  const size_t n_workers = (n_clusters > 50000 && q.threads > 1) ? 2 : 1;
  auto run_all = [&](std::vector<Worker>& workers, bool collect) {
    if (n_workers == 1) {
      run(workers[0], 0, n_clusters, collect);
      return;
    }
    // Split by touch count, not cluster count, so both halves carry similar work.
    const uint32_t half = d.ad_begin(n_clusters) / 2;
    size_t mid = static_cast<size_t>(
        std::lower_bound(d.cluster_ad_begins().begin(), d.cluster_ad_begins().end() - 1, half) -
        d.cluster_ad_begins().begin());
    mid = std::min(mid, n_clusters);
    std::thread second([&] { run(workers[1], mid, n_clusters, collect); });
    run(workers[0], 0, mid, collect);
    second.join();
  };
  // Data-driven models: a fit pass first when the credit depends on the fit (markov); else the
  // sinks are fed by the credit pass itself and fitted after it (shapley). A credit that is a
  // per-channel factor (markov) is deferred into that one pass unless an ad group counts once
  // per person (which credit skips depends on the weights, known only after the fit).
  const bool fit_first = fitted && fitted->CreditNeedsFit() && !defer;
  std::vector<attribution::JourneySink*> sinks;
  auto give_sinks = [&](std::vector<Worker>& ws) {
    for (auto& w : ws) {
      w.sink = fitted->NewSink(static_cast<uint32_t>(channels.names.size()));
      sinks.push_back(w.sink.get());
    }
  };
  if (fit_first) {
    std::vector<Worker> fit_workers;
    for (size_t i = 0; i < n_workers; ++i) fit_workers.emplace_back(1);
    give_sinks(fit_workers);
    run_all(fit_workers, true);
    TP_RETURN_IF_ERROR(FitDataDriven(*fitted, channels, sinks, out));
    sinks.clear();  // they end with fit_workers
  }
  std::vector<Worker> workers;
  for (size_t i = 0; i < n_workers; ++i) workers.emplace_back(key_space);
  if (fitted && !fit_first) give_sinks(workers);
  run_all(workers, defer);
  if (fitted && !fit_first) TP_RETURN_IF_ERROR(FitDataDriven(*fitted, channels, sinks, out));
  if (defer) {
    auto scale = [&](const Worker::ChannelUnits& u, Metrics& m) {
      const double f = fitted->ConversionFactor(u.channel);
      m.conversions_click += f * u.click;
      m.conversions_view += f * u.view;
      m.conversions_engaged_view += f * u.engaged;
      m.value += fitted->ValueFactor(u.channel) * u.value;
    };
    for (Worker& w : workers) {
      for (size_t g = 0; g < w.units.size(); ++g)
        for (const auto& u : w.units[g]) scale(u, w.acc[g].m);
      for (const auto& u : w.total_units) scale(u, w.total.m);
    }
  }
  // Merge into the first worker.
  Worker& w0 = workers[0];
  GroupIndex& groups = w0.groups;
  std::vector<Acc>& acc = w0.acc;
  Acc total = w0.total;
  out.unattributed_conversions = w0.unattributed;
  for (size_t i = 1; i < workers.size(); ++i) {
    Worker& wi = workers[i];
    for (size_t g = 0; g < wi.acc.size(); ++g) w0.At(wi.groups.keys()[g]).m += wi.acc[g].m;
    total.m += wi.total.m;
    out.unattributed_conversions += wi.unattributed;
    for (size_t k = 0; k < wi.alloc_total.size(); ++k) w0.alloc_total[k] += wi.alloc_total[k];
    for (size_t k = 0; k < wi.alloc_split.size(); ++k) w0.alloc_split[k] += wi.alloc_split[k];
  }

  // Spend.
  for (const SpendRow& s : d.spend()) {
    const int64_t local_start = s.day_ms - q.tz_offset_ms;  // spend dates are account-local days
    if (!in_range(local_start)) continue;
    const uint32_t ad = d.ad_ids().Find(s.ad_id);
    if (ad >= n_ads || ad >= p.ad_parts.size() || p.ad_parts[ad].empty()) continue;
    if (!allocate) {
      const uint64_t tp = time_part(local_start);
      for (uint64_t part : p.ad_parts[ad]) w0.At(key_of(part, 0, tp)).m.spend += s.spend;
      total.m.spend += s.spend;
      continue;
    }
    const int64_t day = FloorDiv(s.day_ms, kDayMs) - p.day0;
    if (day < 0 || day >= p.n_days) continue;
    const int64_t all = w0.alloc_total[ad * p.n_days + static_cast<uint64_t>(day)];
    if (all == 0) {
      // No impressions that day: the spend cannot be split by audience; it goes to "unknown".
      if (!p.row_filter_dims.empty()) continue;
      const uint64_t tp = time_part(local_start);
      for (uint64_t part : p.ad_parts[ad]) w0.At(key_of(part, 0, tp)).m.spend += s.spend;
      total.m.spend += s.spend;
      continue;
    }
    const uint64_t base = (ad * p.n_days + static_cast<uint64_t>(day)) * p.row_card * hour_card;
    for (uint64_t rp = 0; rp < p.row_card; ++rp)
      for (uint64_t h = 0; h < hour_card; ++h) {
        const int32_t imps = w0.alloc_split[base + rp * hour_card + h];
        if (!imps) continue;
        const double share = s.spend * static_cast<double>(imps) / static_cast<double>(all);
        const uint64_t tp = time_part(local_start + static_cast<int64_t>(h) * kHourMs);
        for (uint64_t part : p.ad_parts[ad]) w0.At(key_of(part, rp, tp)).m.spend += share;
        total.m.spend += share;
      }
  }
  (void)has_day;

  // Rows.
  const auto& keys = groups.keys();
  out.rows.reserve(keys.size());
  for (size_t g = 0; g < keys.size(); ++g) {
    uint64_t key = keys[g];
    const uint64_t tp = key % p.time_card;
    key /= p.time_card;
    const uint64_t rp = key % p.row_card;
    const uint64_t ap = key / p.row_card;
    ReportRow row;
    row.metrics = acc[g].m;
    // Decode in query order.
    std::vector<uint64_t> row_codes(p.row_dims.size());
    uint64_t rest = rp;
    for (size_t i = p.row_dims.size(); i-- > 0;) {
      row_codes[i] = rest % p.row_cards[i];
      rest /= p.row_cards[i];
    }
    std::vector<uint64_t> time_codes(p.time_dims.size());
    rest = tp;
    for (size_t i = p.time_dims.size(); i-- > 0;) {
      uint64_t card = p.time_dims[i] == Dim::kDay ? p.n_days : p.n_days * 24;
      time_codes[i] = rest % card;
      rest /= card;
    }
    size_t ai = 0, ri = 0, ti = 0;
    for (Dim dim : q.dims) {
      if (IsAdLevel(dim)) {
        row.dims.push_back(p.ad_part_values[ap][ai++]);
      } else if (IsRowLevel(dim)) {
        row.dims.push_back(RowValue(d, dim, static_cast<uint32_t>(row_codes[ri++])));
      } else {
        uint64_t code = time_codes[ti++];
        int64_t local_ms = (dim == Dim::kDay)
                               ? (p.day0 + static_cast<int64_t>(code)) * kDayMs
                               : p.day0 * kDayMs + static_cast<int64_t>(code) * kHourMs;
        std::string iso = FormatIso8601Ms(local_ms);
        row.dims.push_back(dim == Dim::kDay ? iso.substr(0, 10) : iso.substr(0, 13) + ":00");
      }
    }
    out.rows.push_back(std::move(row));
  }
  out.totals = total.m;
  out.groups = out.rows.size();

  // Sort: by a metric (default -spend, then -impressions), ties by dimension values.
  std::string sort = q.sort.empty() ? "-spend" : q.sort;
  bool desc = sort[0] == '-';
  std::string key = desc ? sort.substr(1) : sort;
  auto dim = ParseDim(key);
  size_t dim_pos = 0;
  if (dim) {
    auto it = std::find(q.dims.begin(), q.dims.end(), *dim);
    if (it == q.dims.end())
      return InvalidArgument("sort", ": " + key + " is not among the dimensions");
    dim_pos = static_cast<size_t>(it - q.dims.begin());
  }
  std::stable_sort(out.rows.begin(), out.rows.end(), [&](const ReportRow& a, const ReportRow& b) {
    if (dim) {
      if (a.dims[dim_pos] != b.dims[dim_pos])
        return desc ? a.dims[dim_pos] > b.dims[dim_pos] : a.dims[dim_pos] < b.dims[dim_pos];
    } else {
      double x = a.metrics.Get(key).value_or(-1), y = b.metrics.Get(key).value_or(-1);
      if (x != y) return desc ? x > y : x < y;
      if (a.metrics.impressions != b.metrics.impressions)
        return a.metrics.impressions > b.metrics.impressions;
    }
    return a.dims < b.dims;
  });
  if (q.limit && out.rows.size() > q.limit) out.rows.resize(q.limit);
  TP_RETURN_IF_ERROR(AddEventColumns(d, q, out));
  return out;
}

static Status AddEventColumns(const Dataset& d, const ReportQuery& q, ReportResult& out) {
  if (q.event_columns.empty()) return OkStatus();
  // One conversions-only pass per event (delivery is skipped), joined on the dimension values.
  std::map<std::vector<std::string>, size_t> row_of;
  for (size_t i = 0; i < out.rows.size(); ++i) {
    out.rows[i].by_event.assign(q.event_columns.size(), {});
    row_of.emplace(out.rows[i].dims, i);
  }
  out.totals_by_event.assign(q.event_columns.size(), {});
  for (size_t k = 0; k < q.event_columns.size(); ++k) {
    ReportQuery one = q;
    one.events = {q.event_columns[k]};
    one.event_columns.clear();
    one.delivery = false;
    one.limit = 0;
    one.sort.clear();
    auto r = RunReport(d, one);
    if (!r.ok()) return r.status();
    for (const auto& row : r->rows)
      if (auto it = row_of.find(row.dims); it != row_of.end())
        out.rows[it->second].by_event[k] = {row.metrics.conversions(), row.metrics.value};
    out.totals_by_event[k] = {r->totals.conversions(), r->totals.value};
  }
  return OkStatus();
}

Status FlagLowCvr(const Dataset& d, const ReportQuery& q, ReportResult& out, double fdr,
                  int64_t min_clicks, int64_t min_conversions) {
  out.cvr_flags = true;
  out.cvr_comparisons = 0;
  // The campaign each row belongs to, from its campaign, ad group or ad value.
  int pos = -1;
  Dim level = Dim::kCampaign;
  for (size_t i = 0; i < q.dims.size(); ++i) {
    const Dim dim = q.dims[i];
    if (!IsAdLevel(dim)) return OkStatus();  // audience or time rows: not one campaign's share
    if (dim == Dim::kCampaign || dim == Dim::kAdGroup || dim == Dim::kAd) {
      if (pos < 0 || dim == Dim::kCampaign) {
        pos = static_cast<int>(i);
        level = dim;
      }
    }
  }
  if (pos < 0 || (level == Dim::kCampaign && q.dims.size() == 1)) return OkStatus();
  std::unordered_map<std::string, std::string> campaign_of;  // ad group or ad id -> campaign
  if (level != Dim::kCampaign)
    for (const auto& c : d.catalog().campaigns)
      for (const auto& g : c.adgroups) {
        if (level == Dim::kAdGroup) campaign_of[g.adgroup_id] = c.campaign_id;
        for (const auto& a : g.ads)
          if (level == Dim::kAd) campaign_of[a.ad_id] = c.campaign_id;
      }
  // The reference is the whole campaign, even when the rows are filtered to part of it (the
  // dashboard's drill-down into one ad group); audience filters still apply.
  ReportQuery camp = q;
  std::erase_if(camp.filters, [](const DimFilter& f) {
    return f.dim == Dim::kCampaign || f.dim == Dim::kAdGroup || f.dim == Dim::kAd;
  });
  camp.dims = {Dim::kCampaign};
  camp.channel = ChannelDim(q);  // markov/shapley: the rows' fit, not one over campaigns
  camp.event_columns.clear();
  camp.sort.clear();
  camp.limit = 0;
  camp.delivery = true;
  auto ref = RunReport(d, camp);
  if (!ref.ok()) return ref.status();
  std::unordered_map<std::string, const Metrics*> by_campaign;
  for (const auto& row : ref->rows) by_campaign[row.dims[0]] = &row.metrics;

  std::vector<size_t> tested;
  std::vector<double> p;
  for (size_t i = 0; i < out.rows.size(); ++i) {
    ReportRow& row = out.rows[i];
    const std::string& v = row.dims[static_cast<size_t>(pos)];
    std::string campaign = v;
    if (level != Dim::kCampaign) {
      auto it = campaign_of.find(v);
      if (it == campaign_of.end()) continue;
      campaign = it->second;
    }
    auto c = by_campaign.find(campaign);
    if (c == by_campaign.end()) continue;
    const Metrics& m = row.metrics;
    const int64_t n = m.clicks, x = std::min<int64_t>(n, std::llround(m.conversions_click));
    const int64_t cn = c->second->clicks;
    const int64_t cx = std::min<int64_t>(cn, std::llround(c->second->conversions_click));
    const int64_t rn = cn - n, rx = std::clamp<int64_t>(cx - x, 0, std::max<int64_t>(rn, 0));
    if (n < min_clicks || rn < min_clicks || rx < min_conversions) continue;
    const auto t = stats::TwoProportionZTest(x, n, rx, rn);
    CvrFlag f;
    f.campaign_cvr_click = cn > 0 ? 100.0 * static_cast<double>(cx) / static_cast<double>(cn) : 0;
    f.rest_cvr_click = 100.0 * static_cast<double>(rx) / static_cast<double>(rn);
    f.p_value = t.p1 < t.p2 ? t.p_value / 2 : 1 - t.p_value / 2;
    row.cvr_flag = f;
    tested.push_back(i);
    p.push_back(f.p_value);
  }
  const auto adjusted = stats::BenjaminiHochbergAdjust(p);
  for (size_t k = 0; k < tested.size(); ++k) {
    CvrFlag& f = *out.rows[tested[k]].cvr_flag;
    f.p_adjusted = adjusted[k];
    f.below = adjusted[k] <= fdr;
  }
  out.cvr_comparisons = tested.size();
  return OkStatus();
}

}  // namespace touchpoint::query
