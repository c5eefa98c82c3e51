#include "query/funnel.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>
#include <unordered_map>

#include "core/json_writer.h"
#include "core/time.h"
#include "query/report_format.h"

namespace touchpoint::query {

namespace {

constexpr size_t kMaxSteps = 16;

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t e = s.find(sep, start);
    std::string part(s.substr(start, e == std::string_view::npos ? s.npos : e - start));
    while (!part.empty() && part.front() == ' ') part.erase(part.begin());
    while (!part.empty() && part.back() == ' ') part.pop_back();
    if (!part.empty()) out.push_back(part);
    if (e == std::string_view::npos) break;
    start = e + 1;
  }
  return out;
}

bool IsAdLevel(Dim d) { return d <= Dim::kTag; }
bool IsRowLevel(Dim d) { return d >= Dim::kAge && d <= Dim::kDevice; }

std::string RowLevelValue(const Dataset& d, size_t r, Dim dim) {
  const auto& a = d.ads();
  switch (dim) {
    case Dim::kAge:
      return std::string(kAgeNames[a.age[r]]);
    case Dim::kGender:
      return std::string(kGenderNames[a.gender[r]]);
    case Dim::kCountry:
      return std::string(d.countries().Get(a.country[r]));
    case Dim::kRegion:
      return std::string(d.regions().Get(a.region[r]));
    case Dim::kPlacement:
      return std::string(d.placements().Get(a.placement[r]));
    case Dim::kOs:
      return std::string(d.oses().Get(a.os[r]));
    case Dim::kDevice:
      return std::string(d.devices().Get(a.device[r]));
    default:
      return "";
  }
}

bool AdRowMatches(const AdColumns& a, size_t r, StepKind kind) {
  const uint8_t type = a.type[r];
  switch (kind) {
    case StepKind::kImpression:
      return type == static_cast<uint8_t>(AdEventType::kImpression);
    case StepKind::kClick:
      return type == static_cast<uint8_t>(AdEventType::kClick);
    case StepKind::kVideoPlay:
      return type == static_cast<uint8_t>(AdEventType::kVideoPlay);
    case StepKind::kVideoView2s:
    case StepKind::kVideoView6s: {
      if (type != static_cast<uint8_t>(AdEventType::kVideoPlay)) return false;
      const uint32_t w = a.watch_ms[r], v = a.video_ms[r];
      const uint32_t need = kind == StepKind::kVideoView2s ? 2000 : 6000;
      return w >= need || (v && w >= v);  // as the report's video_views_2s / _6s
    }
    case StepKind::kSite:
      return false;
  }
  return false;
}

// Per group: people reaching each step and the time each took from the step before.
struct GroupAcc {
  std::vector<int64_t> counts;
  std::vector<std::vector<int64_t>> deltas;
};

std::optional<double> Median(std::vector<int64_t>& v) {
  if (v.empty()) return std::nullopt;
  const size_t n = v.size(), mid = n / 2;
  std::nth_element(v.begin(), v.begin() + mid, v.end());
  const int64_t hi = v[mid];
  if (n % 2) return static_cast<double>(hi);
  const int64_t lo = *std::max_element(v.begin(), v.begin() + mid);
  return (static_cast<double>(lo) + static_cast<double>(hi)) / 2;
}

FunnelGroup Finish(std::string value, GroupAcc& acc) {
  FunnelGroup g;
  g.value = std::move(value);
  for (size_t k = 0; k < acc.counts.size(); ++k)
    g.steps.push_back(FunnelStepResult{acc.counts[k], k ? Median(acc.deltas[k]) : std::nullopt});
  return g;
}

std::string Percent(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f%%", 100 * v);
  return buf;
}

std::string Duration(double ms) {
  char buf[32];
  if (ms < kMinuteMs)
    std::snprintf(buf, sizeof buf, "%.1fs", ms / 1000);
  else if (ms < kHourMs)
    std::snprintf(buf, sizeof buf, "%.1fm", ms / kMinuteMs);
  else if (ms < kDayMs)
    std::snprintf(buf, sizeof buf, "%.1fh", ms / kHourMs);
  else
    std::snprintf(buf, sizeof buf, "%.1fd", ms / kDayMs);
  return buf;
}

std::string Table(const std::vector<std::vector<std::string>>& cells, size_t left_columns) {
  std::vector<size_t> width;
  for (const auto& row : cells)
    for (size_t i = 0; i < row.size(); ++i) {
      if (width.size() <= i) width.push_back(0);
      width[i] = std::max(width[i], row[i].size());
    }
  std::string out;
  for (size_t ri = 0; ri < cells.size(); ++ri) {
    const auto& row = cells[ri];
    for (size_t i = 0; i < row.size(); ++i) {
      std::string pad(width[i] - row[i].size(), ' ');
      out += i < left_columns ? row[i] + pad : pad + row[i];
      out += i + 1 < row.size() ? "  " : "\n";
    }
    if (ri == 0) {
      for (size_t i = 0; i < row.size(); ++i)
        out += std::string(width[i], '-') + (i + 1 < row.size() ? "  " : "\n");
    }
  }
  return out;
}

// "7", "7d", "36h", "90m", "30s", "1500ms": a duration; a bare number is days.
std::optional<int64_t> ParseDuration(std::string_view s) {
  double v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || !(v >= 0)) return std::nullopt;
  std::string_view unit(p, static_cast<size_t>(s.data() + s.size() - p));
  double scale;
  if (unit.empty() || unit == "d")
    scale = kDayMs;
  else if (unit == "h")
    scale = kHourMs;
  else if (unit == "m")
    scale = kMinuteMs;
  else if (unit == "s")
    scale = kSecondMs;
  else if (unit == "ms")
    scale = 1;
  else
    return std::nullopt;
  const double ms = v * scale;
  if (ms > 366.0 * kDayMs) return std::nullopt;
  return static_cast<int64_t>(std::llround(ms));
}

}  // namespace

StatusOr<FunnelStep> ParseFunnelStep(std::string_view text) {
  FunnelStep step;
  step.label = std::string(text);
  if (text == "impression")
    step.kind = StepKind::kImpression;
  else if (text == "video_play")
    step.kind = StepKind::kVideoPlay;
  else if (text == "video_view_2s" || text == "video_views_2s")
    step.kind = StepKind::kVideoView2s;
  else if (text == "video_view_6s" || text == "video_views_6s")
    step.kind = StepKind::kVideoView6s;
  else if (text == "click")
    step.kind = StepKind::kClick;
  else if (text == "conversion") {
    step.kind = StepKind::kSite;
    step.conversion = true;
  } else {
    step.kind = StepKind::kSite;
    step.events = Split(text, '|');
    if (step.events.empty()) return InvalidArgument("steps", ": empty step");
    for (const auto& e : step.events)
      if (e.size() > 100)
        return InvalidArgument("steps", ": event name longer than 100 characters");
  }
  return step;
}

StatusOr<FunnelResult> RunFunnel(const Dataset& d, const FunnelQuery& q) {
  if (q.to_ms <= q.from_ms) return InvalidArgument("to", ": must be after from");
  if (q.steps.size() < 2 || q.steps.size() > kMaxSteps)
    return InvalidArgument("steps", ": a funnel needs 2 to 16 steps");
  if (q.window_ms <= 0) return InvalidArgument("window", ": must be longer than 0");
  if (q.breakdown && !IsAdLevel(*q.breakdown) && !IsRowLevel(*q.breakdown))
    return InvalidArgument("breakdown", ": day and hour are not funnel breakdowns; use from/to");
  const auto& ads = d.ads();
  const auto& sites = d.sites();
  const size_t n_steps = q.steps.size();

  // Site steps: which event-name codes each one accepts.
  std::vector<std::vector<uint8_t>> site_match(n_steps);
  for (size_t k = 0; k < n_steps; ++k) {
    if (q.steps[k].ad_side()) continue;
    site_match[k].assign(d.event_names().size(), 0);
    for (const auto& e : q.steps[k].events) {
      uint32_t c = d.event_names().Find(e);
      if (c != UINT32_MAX) site_match[k][c] = 1;
    }
  }
  uint32_t pixel_code = UINT32_MAX;
  if (!q.pixel_id.empty()) {
    pixel_code = d.pixels().Find(q.pixel_id);
    if (pixel_code == UINT32_MAX) return NotFound("pixel_id: unknown pixel " + q.pixel_id);
  }
  // "conversion" steps: explicit events go to site_match; otherwise the event a person's
  // campaign is judged on (per ad code; UINT32_MAX: none set, the pixel's rule applies) or
  // the converting pixel's events (table per pixel code; 0 is the purchase rule).
  const uint32_t n_events = d.event_names().size();
  std::vector<uint32_t> ad_event(d.ad_ids().size(), UINT32_MAX);
  std::vector<uint32_t> pixel_table(d.pixels().size(), 0);
  std::vector<std::vector<uint8_t>> pixel_counts(1, std::vector<uint8_t>(n_events, 0));
  bool judged = false;
  for (size_t k = 0; k < n_steps; ++k) {
    if (!q.steps[k].conversion) continue;
    if (q.events.empty()) {
      judged = true;
      continue;
    }
    for (const auto& e : q.events)
      if (uint32_t c = d.event_names().Find(e); c != UINT32_MAX) site_match[k][c] = 1;
  }
  if (judged) {
    for (uint32_t e = 0; e < n_events; ++e)
      pixel_counts[0][e] = IsPurchaseEvent(d.event_names().Get(e));
    for (const auto& [pixel, events] : q.pixel_events) {
      const uint32_t px = d.pixels().Find(pixel);
      if (px == UINT32_MAX || events.empty()) continue;
      pixel_table[px] = static_cast<uint32_t>(pixel_counts.size());
      auto& counts = pixel_counts.emplace_back(n_events, 0);
      for (const auto& e : events)
        if (uint32_t c = d.event_names().Find(e); c != UINT32_MAX) counts[c] = 1;
    }
    for (uint32_t a = 0; a < ad_event.size(); ++a) {
      const Campaign* camp = d.CatalogCampaign(a);
      if (!camp || camp->optimization_event.empty()) continue;
      const uint32_t c = d.event_names().Find(camp->optimization_event);
      ad_event[a] = c == UINT32_MAX ? UINT32_MAX - 1 : c;  // unknown name: matches nothing
    }
  }
  uint32_t person_ad = UINT32_MAX;  // the ad whose campaign judges this person's conversions
  auto site_ok = [&](uint32_t row, size_t k) {
    if (pixel_code != UINT32_MAX && sites.pixel[row] != pixel_code) return false;
    const uint32_t ev = sites.event[row];
    if (!q.steps[k].conversion || !q.events.empty()) return site_match[k][ev] != 0;
    const uint32_t judge = person_ad == UINT32_MAX ? UINT32_MAX : ad_event[person_ad];
    if (judge != UINT32_MAX) return ev == judge;
    return pixel_counts[pixel_table[sites.pixel[row]]][ev] != 0;
  };

  // Ad-level breakdown values per ad code, computed once.
  std::vector<std::vector<std::string>> ad_values;
  if (q.breakdown && IsAdLevel(*q.breakdown)) {
    ad_values.resize(d.ad_ids().size());
    for (uint32_t a = 0; a < ad_values.size(); ++a)
      ad_values[a] = AdDimensionValues(d, a, *q.breakdown);
  }

  GroupAcc total;
  total.counts.assign(n_steps, 0);
  total.deltas.assign(n_steps, {});
  std::unordered_map<std::string, GroupAcc> groups;
  std::vector<int64_t> times(n_steps);
  std::vector<std::string> values;
  std::vector<uint32_t> used_ad, used_site;  // rows (ads) and positions (sites) steps have used

  const FunnelStep& first = q.steps[0];
  const size_t n_clusters = d.cluster_count();
  const size_t anon = d.anonymous_cluster();
  for (size_t c = 0; c < n_clusters; ++c) {
    if (c == anon) continue;  // rows without identifiers cannot be followed
    const uint32_t tb = d.ad_begin(c), te = d.ad_begin(c + 1);
    const uint32_t sb = d.site_begin(c), se = d.site_begin(c + 1);
    if (first.ad_side() ? tb == te : sb == se) continue;

    // Step 1: the first occurrence in range.
    int64_t t1 = 0;
    used_ad.clear();
    used_site.clear();
    int64_t breakdown_row = -1;  // ad row the breakdown value comes from
    person_ad = UINT32_MAX;
    uint32_t entry_ad = UINT32_MAX;
    bool entered = false;
    if (first.ad_side()) {
      for (uint32_t r = tb; r < te; ++r) {
        const int64_t t = ads.time_ms[r];
        if (t >= q.to_ms) break;
        if (t < q.from_ms || !AdRowMatches(ads, r, first.kind)) continue;
        t1 = t;
        used_ad.push_back(r);
        breakdown_row = r;
        entry_ad = ads.ad[r];
        entered = true;
        break;
      }
    } else {
      for (uint32_t i = sb; i < se; ++i) {
        const uint32_t row = d.site_order()[i];
        const int64_t t = sites.time_ms[row];
        if (t >= q.to_ms) break;
        if (t < q.from_ms || !site_ok(row, 0)) continue;
        t1 = t;
        used_site.push_back(i);
        entered = true;
        break;
      }
      if (entered && (q.breakdown || judged)) {
        // The last click at most lookback before step 1 (a click in the same second counts:
        // site times have whole seconds).
        const int64_t limit = t1 / 1000 * 1000 + 999;
        for (uint32_t r = te; r-- > tb;) {
          const int64_t t = ads.time_ms[r];
          if (t > limit) continue;
          if (t < t1 - q.lookback_ms) break;
          if (ads.type[r] == static_cast<uint8_t>(AdEventType::kClick)) {
            breakdown_row = r;
            break;
          }
        }
      }
    }
    if (!entered) continue;
    if (breakdown_row >= 0) person_ad = ads.ad[breakdown_row];
    times[0] = t1;
    size_t reached = 1;
    const int64_t deadline = t1 + q.window_ms;
    // Each later step: the earliest unused matching event at or after the previous step's time
    // and within the window. Earliest-first is what lets the most later steps fit. Events with
    // equal times may fill consecutive steps in either row order; one event fills one step.
    for (size_t k = 1; k < n_steps; ++k) {
      const FunnelStep& step = q.steps[k];
      const bool prev_ad = q.steps[k - 1].ad_side();
      const int64_t prev_t = times[k - 1];
      bool found = false;
      if (step.ad_side()) {
        const auto tbegin = ads.time_ms.begin();
        const auto start = std::lower_bound(tbegin + tb, tbegin + te, prev_t) - tbegin;
        for (uint32_t r = static_cast<uint32_t>(start); r < te; ++r) {
          const int64_t t = ads.time_ms[r];
          if (t > deadline) break;
          if (!AdRowMatches(ads, r, step.kind)) continue;
          if (q.same_ad && first.ad_side() && ads.ad[r] != entry_ad) continue;
          if (std::find(used_ad.begin(), used_ad.end(), r) != used_ad.end()) continue;
          times[k] = t;
          used_ad.push_back(r);
          found = true;
          break;
        }
      } else {
        // Site times have whole seconds: after an ad step, an event stamped in the same second
        // counts as following it.
        const int64_t threshold = prev_ad ? prev_t / 1000 * 1000 : prev_t;
        const auto& order = d.site_order();
        const auto from =
            std::partition_point(order.begin() + sb, order.begin() + se,
                                 [&](uint32_t row) { return sites.time_ms[row] < threshold; });
        for (uint32_t i = static_cast<uint32_t>(from - order.begin()); i < se; ++i) {
          const uint32_t row = d.site_order()[i];
          const int64_t t = sites.time_ms[row];
          if (t > deadline) break;
          if (!site_ok(row, k)) continue;
          if (std::find(used_site.begin(), used_site.end(), i) != used_site.end()) continue;
          times[k] = t;
          used_site.push_back(i);
          found = true;
          break;
        }
      }
      if (!found) break;
      reached = k + 1;
    }

    auto add = [&](GroupAcc& g) {
      if (g.counts.empty()) {
        g.counts.assign(n_steps, 0);
        g.deltas.assign(n_steps, {});
      }
      for (size_t k = 0; k < reached; ++k) {
        g.counts[k]++;
        // Never negative: a site event stamped in its click's second may read a little earlier.
        if (k) g.deltas[k].push_back(std::max<int64_t>(0, times[k] - times[k - 1]));
      }
    };
    add(total);
    if (q.breakdown) {
      values.clear();
      if (breakdown_row < 0)
        values.push_back("(no click)");
      else if (IsAdLevel(*q.breakdown))
        values = ad_values[ads.ad[breakdown_row]];
      else
        values.push_back(RowLevelValue(d, static_cast<size_t>(breakdown_row), *q.breakdown));
      for (const auto& v : values) add(groups[v]);
    }
  }

  FunnelResult out;
  out.total = Finish("", total);
  for (auto& [value, acc] : groups) out.groups.push_back(Finish(value, acc));
  std::sort(out.groups.begin(), out.groups.end(), [](const FunnelGroup& a, const FunnelGroup& b) {
    if (a.steps[0].count != b.steps[0].count) return a.steps[0].count > b.steps[0].count;
    return a.value < b.value;
  });
  return out;
}

StatusOr<FunnelRequest> ParseFunnelParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms) {
  FunnelRequest req;
  FunnelQuery& q = req.query;
  std::vector<std::pair<std::string, std::string>> range;  // parsed as the report's
  bool have_steps = false;
  for (const auto& [k, v] : params) {
    if (k == "from" || k == "to" || k == "tz" || k == "token") {
      range.emplace_back(k, v);
    } else if (k == "pixel_id") {
      q.pixel_id = v;
    } else if (k == "event" || k == "events") {
      q.events = v == "campaign" ? std::vector<std::string>{} : Split(v, ',');
      if (v != "campaign" && q.events.empty())
        return InvalidArgument(k, ": must name at least one event");
    } else if (k == "steps") {
      q.steps.clear();
      for (const auto& s : Split(v, ',')) {
        auto step = ParseFunnelStep(s);
        if (!step.ok()) return step.status();
        q.steps.push_back(std::move(*step));
      }
      have_steps = true;
    } else if (k == "window" || k == "window_days") {
      auto ms = ParseDuration(v);
      if (!ms || *ms <= 0)
        return InvalidArgument(k,
                               ": must be a duration up to 366 days: 7 (days), 7d, 36h, 90m, 30s");
      q.window_ms = *ms;
    } else if (k == "lookback" || k == "lookback_days") {
      auto ms = ParseDuration(v);
      if (!ms) return InvalidArgument(k, ": must be a duration up to 366 days: 7 (days), 7d, 36h");
      q.lookback_ms = *ms;
    } else if (k == "breakdown") {
      if (v.empty() || v == "none") {
        q.breakdown.reset();
        continue;
      }
      auto dim = ParseDim(v);
      if (!dim || !(IsAdLevel(*dim) || IsRowLevel(*dim)))
        return InvalidArgument("breakdown",
                               ": must be an ad-level or audience dimension "
                               "(campaign, adgroup, ad, format, length, cta, tag, age, "
                               "gender, country, region, placement, os, device)");
      q.breakdown = *dim;
    } else if (k == "same_ad") {
      if (v == "true" || v == "1")
        q.same_ad = true;
      else if (v == "false" || v == "0")
        q.same_ad = false;
      else
        return InvalidArgument("same_ad", ": must be true or false");
    } else if (k == "format") {
      if (v != "json" && v != "table") return InvalidArgument("format", ": must be json or table");
      req.format = v;
    } else {
      return InvalidArgument(k, ": unknown parameter");
    }
  }
  if (!have_steps)
    return InvalidArgument("steps",
                           ": required, e.g. steps=impression,click,PageView,CompletePayment");
  if (q.steps.size() < 2 || q.steps.size() > kMaxSteps)
    return InvalidArgument("steps", ": a funnel needs 2 to 16 steps");
  auto parsed = ParseReportParams(range, now_ms);
  if (!parsed.ok()) return parsed.status();
  q.from_ms = parsed->query.from_ms;
  q.to_ms = parsed->query.to_ms;
  return req;
}

std::string FunnelToJson(const FunnelQuery& q, const FunnelResult& r) {
  std::string out;
  JsonWriter w(out);
  auto write_group = [&](const FunnelGroup& g) {
    w.Key("steps").BeginArray();
    for (size_t k = 0; k < g.steps.size(); ++k) {
      const auto& s = g.steps[k];
      w.BeginObject().Key("step").String(q.steps[k].label).Key("count").Int(s.count);
      w.Key("step_conversion");
      if (k && g.steps[k - 1].count)
        w.Double(static_cast<double>(s.count) / g.steps[k - 1].count);
      else
        w.Null();
      w.Key("overall_conversion");
      if (g.steps[0].count)
        w.Double(static_cast<double>(s.count) / g.steps[0].count);
      else
        w.Null();
      w.Key("drop_off");
      if (k)
        w.Int(g.steps[k - 1].count - s.count);
      else
        w.Null();
      w.Key("median_ms_from_previous");
      if (s.median_ms)
        w.Double(*s.median_ms);
      else
        w.Null();
      w.EndObject();
    }
    w.EndArray();
  };
  w.BeginObject();
  w.Key("from").String(FormatIso8601Ms(q.from_ms)).Key("to").String(FormatIso8601Ms(q.to_ms));
  w.Key("window_ms").Int(q.window_ms);
  w.Key("steps").BeginArray();
  for (const auto& s : q.steps) w.String(s.label);
  w.EndArray();
  w.Key("breakdown");
  if (q.breakdown)
    w.String(DimName(*q.breakdown));
  else
    w.Null();
  if (!q.pixel_id.empty()) w.Key("pixel_id").String(q.pixel_id);
  w.Key("same_ad").Bool(q.same_ad);
  w.Key("total").BeginObject();
  write_group(r.total);
  w.EndObject();
  w.Key("groups").BeginArray();
  for (const auto& g : r.groups) {
    w.BeginObject().Key("value").String(g.value);
    write_group(g);
    w.EndObject();
  }
  w.EndArray();
  w.EndObject();
  return out;
}

std::string FunnelToTable(const FunnelQuery& q, const FunnelResult& r) {
  std::string out = "funnel " + FormatIso8601Ms(q.from_ms).substr(0, 16) + " .. " +
                    FormatIso8601Ms(q.to_ms).substr(0, 16) + ", window " +
                    Duration(static_cast<double>(q.window_ms)) + " from step 1" +
                    (q.breakdown ? ", by " + std::string(DimName(*q.breakdown)) : "") + "\n\n";
  std::vector<std::vector<std::string>> cells = {
      {"#", "step", "people", "from previous", "overall", "dropped", "median time"}};
  const auto& t = r.total.steps;
  for (size_t k = 0; k < t.size(); ++k) {
    std::vector<std::string> row = {std::to_string(k + 1), q.steps[k].label,
                                    std::to_string(t[k].count)};
    row.push_back(k && t[k - 1].count ? Percent(static_cast<double>(t[k].count) / t[k - 1].count)
                                      : "-");
    row.push_back(t[0].count ? Percent(static_cast<double>(t[k].count) / t[0].count) : "-");
    row.push_back(k ? std::to_string(t[k - 1].count - t[k].count) : "-");
    row.push_back(t[k].median_ms ? Duration(*t[k].median_ms) : "-");
    cells.push_back(std::move(row));
  }
  out += Table(cells, 2);
  if (!q.breakdown) return out;
  out += "\nby " + std::string(DimName(*q.breakdown)) +
         " (people reaching each step; last column: overall)\n";
  cells.assign(1, {std::string(DimName(*q.breakdown))});
  for (const auto& s : q.steps) cells[0].push_back(s.label);
  cells[0].push_back("overall");
  for (const auto& g : r.groups) {
    std::vector<std::string> row = {g.value.empty() ? "(unknown)" : g.value};
    for (const auto& s : g.steps) row.push_back(std::to_string(s.count));
    row.push_back(g.steps[0].count
                      ? Percent(static_cast<double>(g.steps.back().count) / g.steps[0].count)
                      : "-");
    cells.push_back(std::move(row));
  }
  out += Table(cells, 1);
  return out;
}

}  // namespace touchpoint::query
