#include "query/report.h"

#include <algorithm>
#include <cmath>
#include <unordered_map>

#include "attribution/journey.h"
#include "core/time.h"

namespace touchpoint::query {

namespace {

constexpr std::string_view kDimNames[] = {"campaign", "adgroup", "ad",     "format",    "length",
                                          "cta",      "tag",     "age",    "gender",    "country",
                                          "region",   "placement", "os",   "device",    "day",
                                          "hour"};

bool IsAdLevel(Dim d) { return d <= Dim::kTag; }
bool IsRowLevel(Dim d) { return d >= Dim::kAge && d <= Dim::kDevice; }
bool IsTime(Dim d) { return d == Dim::kDay || d == Dim::kHour; }

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

uint32_t RowCode(const store::AdColumns& a, size_t r, Dim d) {
  switch (d) {
    case Dim::kAge: return a.age[r];
    case Dim::kGender: return a.gender[r];
    case Dim::kCountry: return a.country[r];
    case Dim::kRegion: return a.region[r];
    case Dim::kPlacement: return a.placement[r];
    case Dim::kOs: return a.os[r];
    case Dim::kDevice: return a.device[r];
    default: return 0;
  }
}

uint32_t RowCard(const Dataset& d, Dim dim) {
  switch (dim) {
    case Dim::kAge: return 7;
    case Dim::kGender: return 4;
    case Dim::kCountry: return d.countries().size();
    case Dim::kRegion: return d.regions().size();
    case Dim::kPlacement: return std::min<uint32_t>(d.placements().size(), 256);
    case Dim::kOs: return d.oses().size();
    case Dim::kDevice: return d.devices().size();
    default: return 1;
  }
}

std::string RowValue(const Dataset& d, Dim dim, uint32_t code) {
  switch (dim) {
    case Dim::kAge: return std::string(store::kAgeNames[code]);
    case Dim::kGender: return std::string(store::kGenderNames[code]);
    case Dim::kCountry: return std::string(d.countries().Get(code));
    case Dim::kRegion: return std::string(d.regions().Get(code));
    case Dim::kPlacement: return std::string(d.placements().Get(code));
    case Dim::kOs: return std::string(d.oses().Get(code));
    case Dim::kDevice: return std::string(d.devices().Get(code));
    default: return "";
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
    case Dim::kAd: return {std::string(d.ad_ids().Get(ad_code))};
    case Dim::kFormat: return {ad ? ad->creative.format : ""};
    case Dim::kLength: return {std::string(LengthName(LengthCode(ad)))};
    case Dim::kCta: return {ad ? ad->creative.call_to_action : ""};
    case Dim::kTag: {
      if (!ad || ad->creative.tags.empty()) return {""};
      return ad->creative.tags;
    }
    default: return {""};
  }
}

Status BuildPlan(const Dataset& d, const ReportQuery& q, Plan& p) {
  for (Dim dim : q.dims) {
    if (IsAdLevel(dim)) p.ad_dims.push_back(dim);
    else if (IsRowLevel(dim)) p.row_dims.push_back(dim);
    else p.time_dims.push_back(dim);
  }
  // Filters by dimension.
  std::vector<const DimFilter*> ad_filters;
  for (const auto& f : q.filters) {
    if (IsAdLevel(f.dim)) ad_filters.push_back(&f);
    else if (IsRowLevel(f.dim)) p.row_filter_dims.push_back(f.dim);
    else return InvalidArgument("filter", ": day and hour cannot be filtered; use from/to");
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

std::string_view DimName(Dim d) { return kDimNames[static_cast<size_t>(d)]; }

const std::vector<std::string>& MetricNames() {
  static const std::vector<std::string> kNames = {
      "spend", "impressions", "reach", "frequency", "clicks", "ctr", "cpc", "cpm",
      "video_plays", "video_views_2s", "video_views_6s", "average_watch_ms",
      "video_views_p25", "video_views_p50", "video_views_p75", "video_views_p100",
      "conversions", "conversions_click", "conversions_view", "conversions_engaged_view",
      "cvr_click", "cvr_impression", "value", "cpa", "roas"};
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

StatusOr<ReportResult> RunReport(const Dataset& d, const ReportQuery& q) {
  if (q.to_ms <= q.from_ms) return InvalidArgument("to", ": must be after from");
  auto model = attribution::MakeModel(q.model, q.params);
  if (!model.ok()) return model.status();
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
  GroupIndex groups(key_space);
  std::vector<Acc> acc;
  Acc total;
  ReportResult out;

  // Conversion events and pixel.
  std::vector<uint8_t> is_conversion(d.event_names().size(), 0);
  for (const auto& e : q.events) {
    uint32_t c = d.event_names().Find(e);
    if (c != UINT32_MAX) is_conversion[c] = 1;
  }
  uint32_t pixel_code = UINT32_MAX;
  if (!q.pixel_id.empty()) {
    pixel_code = d.pixels().Find(q.pixel_id);
    if (pixel_code == UINT32_MAX) return NotFound("pixel_id: unknown pixel " + q.pixel_id);
  }

  auto row_part = [&](size_t r) -> uint64_t {
    uint64_t k = 0;
    for (size_t i = 0; i < p.row_dims.size(); ++i) k = k * p.row_cards[i] + RowCode(ads, r, p.row_dims[i]);
    return k;
  };
  auto row_passes = [&](size_t r) {
    for (size_t i = 0; i < p.row_filter_dims.size(); ++i) {
      uint32_t c = RowCode(ads, r, p.row_filter_dims[i]);
      if (c >= p.row_allowed[i].size() || !p.row_allowed[i][c]) return false;
    }
    return true;
  };
  auto time_part = [&](int64_t t) -> uint64_t {
    uint64_t k = 0;
    int64_t local = t + q.tz_offset_ms;
    int64_t day = FloorDiv(local, kDayMs) - p.day0;
    for (Dim dim : p.time_dims) {
      if (dim == Dim::kDay) k = k * p.n_days + static_cast<uint64_t>(day);
      else k = k * (p.n_days * 24) + static_cast<uint64_t>(day * 24 + FloorDiv(local, kHourMs) % 24);
    }
    return k;
  };
  auto group_of = [&](uint64_t ad_part, uint64_t rp, uint64_t tp) -> Acc& {
    uint32_t g = groups.Get((ad_part * p.row_card + rp) * p.time_card + tp);
    if (g >= acc.size()) acc.resize(g + 1);
    return acc[g];
  };
  auto in_range = [&](int64_t t) { return t >= q.from_ms && t < q.to_ms; };

  // Spend allocation by impression share within each (ad, local day), needed when the report
  // splits or filters below the ad level (audience) or by hour.
  const bool allocate = !p.row_dims.empty() || !p.row_filter_dims.empty() ||
                        std::find(p.time_dims.begin(), p.time_dims.end(), Dim::kHour) != p.time_dims.end();
  std::unordered_map<uint64_t, double> ad_day_imps;                            // (ad, day) -> all
  std::unordered_map<uint64_t, std::unordered_map<uint64_t, int64_t>> ad_day_groups;  // -> (rp,tp) -> imps
  auto ad_day_key = [&](uint32_t ad, int64_t t) {
    return (static_cast<uint64_t>(ad) << 20) |
           static_cast<uint64_t>(FloorDiv(t + q.tz_offset_ms, kDayMs) - p.day0);
  };

  // Windows.
  const int64_t click_override = q.click_window_days ? *q.click_window_days * kDayMs : -1;
  const int64_t view_override = q.view_window_days ? *q.view_window_days * kDayMs : -1;
  int64_t max_window = std::max<int64_t>(click_override, view_override);
  if (click_override < 0 || view_override < 0) max_window = std::max<int64_t>(max_window, 90 * kDayMs);
  std::vector<attribution::TouchWindow> win;
  std::vector<uint8_t> is_click;
  std::vector<uint32_t> journey;
  std::vector<double> weights;
  std::vector<int64_t> journey_ms;
  std::vector<int32_t> once_groups;  // ad groups (global index) already converted in this cluster
  std::vector<int32_t> adgroup_index(d.ad_ids().size(), -1);
  std::vector<uint8_t> adgroup_once(d.ad_ids().size(), 0);
  {
    int32_t gi = 0;
    for (const auto& c : d.catalog().campaigns)
      for (const auto& g : c.adgroups) {
        for (const auto& a : g.ads) {
          uint32_t code = d.ad_ids().Find(a.ad_id);
          if (code < adgroup_index.size()) {
            adgroup_index[code] = gi;
            adgroup_once[code] = q.count_mode ? *q.count_mode == CountMode::kOnce
                                              : g.count_mode == CountMode::kOnce;
          }
        }
        ++gi;
      }
    if (q.count_mode == CountMode::kOnce)
      for (uint32_t a = 0; a < adgroup_once.size(); ++a) {
        adgroup_once[a] = 1;
        if (adgroup_index[a] < 0) adgroup_index[a] = -2 - static_cast<int32_t>(a);  // ad as its own group
      }
  }

  const size_t n_clusters = d.cluster_count();
  const size_t anon = d.anonymous_cluster();
  for (size_t c = 0; c < n_clusters; ++c) {
    const uint32_t tb = d.ad_begin(c), te = d.ad_begin(c + 1);
    const uint32_t cluster_id = static_cast<uint32_t>(c);
    // Delivery.
    bool total_reached = false;
    for (uint32_t r = tb; r < te; ++r) {
      const int64_t t = ads.time_ms[r];
      if (!in_range(t)) continue;
      const auto& parts = p.ad_parts[ads.ad[r]];
      if (parts.empty() || !row_passes(r)) continue;
      const uint8_t type = ads.type[r];
      const uint64_t rp = row_part(r), tp = time_part(t);
      auto add = [&](Acc& a, bool reach_counts) {
        Metrics& m = a.m;
        if (type == static_cast<uint8_t>(AdEventType::kImpression)) {
          m.impressions++;
          if (reach_counts && c != anon && a.last_cluster != cluster_id) {
            m.reach++;
            a.last_cluster = cluster_id;
          }
        } else if (type == static_cast<uint8_t>(AdEventType::kClick)) {
          m.clicks++;
        } else {
          const uint32_t w = ads.watch_ms[r], v = ads.video_ms[r];
          m.video_plays++;
          m.watch_ms += w;
          m.views_2s += w >= 2000 || (v && w >= v);
          m.views_6s += w >= 6000 || (v && w >= v);
          if (v) {
            m.p25 += 4ull * w >= v;
            m.p50 += 2ull * w >= v;
            m.p75 += 4ull * w >= 3ull * v;
            m.p100 += w >= v;
          }
        }
      };
      for (uint64_t part : parts) add(group_of(part, rp, tp), true);
      add(total, !total_reached);
      if (type == static_cast<uint8_t>(AdEventType::kImpression)) {
        if (c != anon) total_reached = true;
        if (allocate) ad_day_groups[ad_day_key(ads.ad[r], t)][rp * p.time_card + tp]++;
      }
    }
    if (allocate)
      for (uint32_t r = tb; r < te; ++r)
        if (ads.type[r] == static_cast<uint8_t>(AdEventType::kImpression) && in_range(ads.time_ms[r]))
          ad_day_imps[ad_day_key(ads.ad[r], ads.time_ms[r])] += 1;
    if (c == anon) continue;

    // Attribution of this cluster's conversions.
    const uint32_t sb = d.site_begin(c), se = d.site_begin(c + 1);
    bool prepared = false;
    once_groups.clear();
    for (uint32_t i = sb; i < se; ++i) {
      const uint32_t row = d.site_order()[i];
      if (!is_conversion[sites.event[row]] || sites.is_test[row]) continue;
      if (pixel_code != UINT32_MAX && sites.pixel[row] != pixel_code) continue;
      const int64_t conv_t = sites.time_ms[row];
      if (q.basis == Basis::kConversion ? !in_range(conv_t)
                                        : (conv_t < q.from_ms || conv_t >= q.to_ms + max_window))
        continue;
      if (!prepared) {
        const size_t n = te - tb;
        win.resize(n);
        is_click.resize(n);
        for (size_t k = 0; k < n; ++k) {
          const uint32_t r = tb + static_cast<uint32_t>(k);
          is_click[k] = ads.type[r] == static_cast<uint8_t>(AdEventType::kClick);
          const AdGroup* g = d.CatalogAdGroup(ads.ad[r]);
          win[k].click_ms = click_override >= 0 ? click_override : (g ? g->click_window_days : 7) * kDayMs;
          win[k].view_ms = view_override >= 0 ? view_override : (g ? g->view_window_days : 1) * kDayMs;
        }
        prepared = true;
      }
      attribution::ClusterTouches touches{
          std::span<const int64_t>(ads.time_ms.data() + tb, te - tb),
          std::span<const uint8_t>(is_click.data(), te - tb),
          std::span<const attribution::TouchWindow>(win.data(), te - tb)};
      const bool clicks = attribution::BuildJourney(touches, conv_t, journey);
      if (journey.empty()) {
        if (in_range(conv_t)) out.unattributed_conversions += 1;
        continue;
      }
      journey_ms.resize(journey.size());
      for (size_t k = 0; k < journey.size(); ++k) journey_ms[k] = ads.time_ms[tb + journey[k]];
      weights.assign(journey.size(), 0);
      (*model)->Credit(attribution::Journey{conv_t, journey_ms, clicks}, weights);
      const double value = std::isnan(sites.value[row]) ? 0 : sites.value[row];
      size_t once_before = once_groups.size();
      for (size_t k = 0; k < journey.size(); ++k) {
        const double w = weights[k];
        if (w <= 0) continue;
        const uint32_t r = tb + journey[k];
        const uint32_t ad = ads.ad[r];
        if (adgroup_once[ad]) {
          const int32_t g = adgroup_index[ad];
          if (std::find(once_groups.begin(), once_groups.begin() + once_before, g) !=
              once_groups.begin() + once_before)
            continue;  // this person already converted for this ad group
          if (std::find(once_groups.begin() + once_before, once_groups.end(), g) == once_groups.end())
            once_groups.push_back(g);
        }
        const int64_t basis_t = q.basis == Basis::kTouch ? ads.time_ms[r] : conv_t;
        if (!in_range(basis_t)) continue;
        const auto& parts = p.ad_parts[ad];
        if (parts.empty() || !row_passes(r)) continue;
        bool engaged = false;
        if (!clicks) {
          for (uint32_t j : journey) {
            const uint32_t rj = tb + j;
            engaged |= ads.ad[rj] == ad && ads.type[rj] == static_cast<uint8_t>(AdEventType::kVideoPlay) &&
                       ads.watch_ms[rj] >= 6000;
          }
        }
        auto credit = [&](Metrics& m) {
          (clicks ? m.conversions_click : m.conversions_view) += w;
          if (engaged) m.conversions_engaged_view += w;
          m.value += w * value;
        };
        const uint64_t rp = row_part(r), tp = time_part(basis_t);
        for (uint64_t part : parts) credit(group_of(part, rp, tp).m);
        credit(total.m);
      }
    }
  }

  // Spend.
  for (const SpendRow& s : d.spend()) {
    const int64_t local_start = s.day_ms - q.tz_offset_ms;  // spend dates are account-local days
    if (!in_range(local_start)) continue;
    const uint32_t ad = d.ad_ids().Find(s.ad_id);
    if (ad == UINT32_MAX || ad >= p.ad_parts.size() || p.ad_parts[ad].empty()) continue;
    if (!allocate) {
      const uint64_t tp = time_part(local_start);
      for (uint64_t part : p.ad_parts[ad]) group_of(part, 0, tp).m.spend += s.spend;
      total.m.spend += s.spend;
      continue;
    }
    const uint64_t key = ad_day_key(ad, local_start);
    auto all = ad_day_imps.find(key);
    auto split = ad_day_groups.find(key);
    if (all == ad_day_imps.end() || all->second == 0) {
      // No impressions that day: the spend cannot be split by audience; it goes to "unknown".
      if (!p.row_filter_dims.empty()) continue;
      const uint64_t tp = time_part(local_start);
      for (uint64_t part : p.ad_parts[ad]) group_of(part, 0, tp).m.spend += s.spend;
      total.m.spend += s.spend;
      continue;
    }
    if (split == ad_day_groups.end()) continue;  // all of that day's impressions filtered out
    for (const auto& [rt, imps] : split->second) {
      const double share = s.spend * static_cast<double>(imps) / all->second;
      for (uint64_t part : p.ad_parts[ad])
        group_of(part, rt / p.time_card, rt % p.time_card).m.spend += share;
      total.m.spend += share;
    }
  }

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
        int64_t local_ms = (dim == Dim::kDay) ? (p.day0 + static_cast<int64_t>(code)) * kDayMs
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
    if (it == q.dims.end()) return InvalidArgument("sort", ": " + key + " is not among the dimensions");
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
  return out;
}

}  // namespace touchpoint::query
