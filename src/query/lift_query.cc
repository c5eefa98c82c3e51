#include "query/lift_query.h"

#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <set>
#include <unordered_map>

#include "core/json_writer.h"
#include "core/time.h"
#include "format/json_fields.h"
#include "query/report_format.h"

namespace touchpoint::query {

namespace {

struct Person {
  int8_t cell = -1;  // 0 control, 1 test, 2 both
  int64_t entry_ms = INT64_MAX;
  bool matchable = false;
  bool converted = false;
  int64_t conversions = 0;
  double value = 0;
};

}  // namespace

StatusOr<LiftAnswer> RunLift(const Dataset& data, const LiftQuery& q) {
  const uint32_t study = data.studies().Find(q.study);
  LiftAnswer a;
  a.study = q.study;
  std::unordered_map<uint32_t, Person> people;  // by person node
  std::set<uint32_t> test_ads;
  a.first_ms = INT64_MAX;
  a.last_ms = INT64_MIN;
  if (study != UINT32_MAX) {
    for (const auto& row : data.study_rows()) {
      if (row.study != study || row.time_ms < q.from_ms || row.time_ms >= q.to_ms) continue;
      a.first_ms = std::min(a.first_ms, row.time_ms);
      a.last_ms = std::max(a.last_ms, row.time_ms);
      if (row.test) test_ads.insert(row.ad);
      if (row.person == kNoNode) {
        ++a.events_without_person;
        continue;
      }
      Person& p = people[row.person];
      const int8_t cell = row.test ? 1 : 0;
      p.cell = p.cell == -1 || p.cell == cell ? cell : 2;
      p.entry_ms = std::min(p.entry_ms, row.time_ms);
    }
  }
  if (a.first_ms == INT64_MAX)
    return NotFound("study: no ad event with study_id " + q.study + " in the range");

  // Match keys: identifier node -> the people whose study events carry it.
  std::unordered_map<uint32_t, std::vector<uint32_t>> by_key;
  for (const auto& [person, key] : data.study_match_keys()) {
    auto it = people.find(person);
    if (it == people.end()) continue;
    it->second.matchable = true;
    auto& v = by_key[key];
    if (std::find(v.begin(), v.end(), person) == v.end()) v.push_back(person);
  }

  // The conversions: site rows of the events asked for (and pixel), reached through a match key.
  std::vector<bool> wanted_event(data.event_names().size(), false);
  for (const auto& e : q.events)
    if (uint32_t code = data.event_names().Find(e); code != UINT32_MAX) wanted_event[code] = true;
  const uint32_t pixel = q.pixel_id.empty() ? UINT32_MAX : data.pixels().Find(q.pixel_id);
  if (!q.pixel_id.empty() && pixel == UINT32_MAX) wanted_event.assign(wanted_event.size(), false);
  const auto& sites = data.sites();
  std::vector<std::pair<uint32_t, uint32_t>> hits;  // (person, site row), once each
  for (const auto& [row, key] : data.site_match_keys()) {
    if (!wanted_event[sites.event[row]]) continue;
    if (pixel != UINT32_MAX && sites.pixel[row] != pixel) continue;
    auto it = by_key.find(key);
    if (it == by_key.end()) continue;
    for (uint32_t person : it->second) hits.emplace_back(person, row);
  }
  std::sort(hits.begin(), hits.end());
  hits.erase(std::unique(hits.begin(), hits.end()), hits.end());
  std::set<uint32_t> value_currencies;
  for (const auto& [person, row] : hits) {
    Person& p = people[person];
    const int64_t t = sites.time_ms[row];
    if (p.cell == 2 || t < p.entry_ms || t >= q.to_ms) continue;
    p.converted = true;
    ++p.conversions;
    if (!std::isnan(sites.value[row])) {
      p.value += sites.value[row];
      value_currencies.insert(sites.currency[row]);
    }
  }
  for (uint32_t c : value_currencies) a.value_currencies.emplace_back(data.currencies().Get(c));

  for (const auto& [node, p] : people) {
    if (p.cell == 2) {
      ++a.people_in_both_cells;
      continue;
    }
    LiftCellInfo& cell = p.cell == 1 ? a.test : a.control;
    if (!p.matchable) {
      ++cell.unmatchable_people;
      continue;
    }
    auto& t = cell.totals;
    ++t.people;
    t.converters += p.converted;
    t.conversions += p.conversions;
    t.value += p.value;
    t.value_sq += p.value * p.value;
  }

  // Spend on the test cell's ads, on the days the range covers.
  std::set<std::string> spend_currencies;
  for (uint32_t ad : test_ads) a.ads.emplace_back(data.ad_ids().Get(ad));
  std::sort(a.ads.begin(), a.ads.end());
  for (const auto& row : data.spend()) {
    if (!std::binary_search(a.ads.begin(), a.ads.end(), row.ad_id)) continue;
    if (row.day_ms + kDayMs <= q.from_ms || row.day_ms >= q.to_ms) continue;
    if (q.from_ms == INT64_MIN && row.day_ms + kDayMs <= a.first_ms) continue;
    a.spend += row.spend;
    spend_currencies.insert(row.currency);
  }
  a.spend_currencies.assign(spend_currencies.begin(), spend_currencies.end());
  a.result = lift::EstimateUserLevel(a.test.totals, a.control.totals, a.spend);
  return a;
}

std::vector<StudySummary> ListStudies(const Dataset& data) {
  std::vector<StudySummary> out(data.studies().size());
  for (uint32_t i = 0; i < out.size(); ++i) {
    out[i].study = std::string(data.studies().Get(i));
    out[i].first_ms = INT64_MAX;
    out[i].last_ms = INT64_MIN;
  }
  for (const auto& row : data.study_rows()) {
    auto& s = out[row.study];
    (row.test ? s.test_events : s.control_events)++;
    s.ghost_events += row.ghost;
    s.first_ms = std::min(s.first_ms, row.time_ms);
    s.last_ms = std::max(s.last_ms, row.time_ms);
  }
  std::erase_if(out, [](const StudySummary& s) { return s.test_events + s.control_events == 0; });
  std::sort(out.begin(), out.end(),
            [](const StudySummary& x, const StudySummary& y) { return x.study < y.study; });
  return out;
}

}  // namespace touchpoint::query

// --- The API's side ------------------------------------------------------------------------------

namespace touchpoint::query {

namespace {

void Num(JsonWriter& w, std::string_view key, double v) {
  w.Key(key);
  if (std::isfinite(v))
    w.Double(v);
  else
    w.Null();  // an unbounded interval end
}

void EstimateJson(JsonWriter& w, std::string_view key, const lift::Estimate& e) {
  w.Key(key).BeginObject();
  Num(w, "value", e.value);
  Num(w, "ci95_low", e.ci95.low);
  Num(w, "ci95_high", e.ci95.high);
  w.EndObject();
}

void OptionalEstimateJson(JsonWriter& w, std::string_view key,
                          const std::optional<lift::Estimate>& e) {
  if (e)
    EstimateJson(w, key, *e);
  else
    w.Key(key).Null();
}

std::vector<std::string> SplitList(std::string_view v) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= v.size()) {
    size_t comma = v.find(',', start);
    if (comma == std::string_view::npos) comma = v.size();
    if (comma > start) out.emplace_back(v.substr(start, comma - start));
    start = comma + 1;
  }
  return out;
}

std::string Plain(double v) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", v);
  return buf;
}

StatusOr<double> ParseNumber(std::string_view key, const std::string& v, double lo, double hi) {
  char* end = nullptr;
  double d = std::strtod(v.c_str(), &end);
  if (v.empty() || end != v.c_str() + v.size() || !std::isfinite(d) || d < lo || d > hi)
    return InvalidArgument(key, ": must be a number from " + Plain(lo) + " to " + Plain(hi));
  return d;
}

}  // namespace

StatusOr<LiftRequest> ParseLiftParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms) {
  LiftRequest req;
  std::vector<std::pair<std::string, std::string>> range;
  for (const auto& [k, v] : params) {
    if (k == "from" || k == "to" || k == "tz" || k == "token") {
      if (k != "token") range.emplace_back(k, v);
    } else if (k == "study") {
      if (v.empty()) return InvalidArgument("study", ": must not be empty");
      req.query.study = v;
    } else if (k == "event" || k == "events") {
      req.query.events = SplitList(v);
      if (req.query.events.empty()) return InvalidArgument(k, ": must name at least one event");
    } else if (k == "pixel_id") {
      req.query.pixel_id = v;
    } else if (k == "format") {
      if (v != "json" && v != "text") return InvalidArgument("format", ": must be json or text");
      req.format = v;
    } else {
      return InvalidArgument(k, ": unknown parameter");
    }
  }
  req.list = req.query.study.empty();
  bool has_from = false, has_to = false;
  for (const auto& [k, v] : range) has_from |= k == "from", has_to |= k == "to";
  if (has_from || has_to) {
    auto parsed = ParseReportParams(range, now_ms);
    if (!parsed.ok()) return parsed.status();
    if (has_from) req.query.from_ms = parsed->query.from_ms;
    if (has_to) req.query.to_ms = parsed->query.to_ms;
  }
  return req;
}

std::string LiftToJson(const LiftQuery& q, const LiftAnswer& a) {
  std::string out;
  JsonWriter w(out);
  const auto& r = a.result;
  w.BeginObject().Key("study").String(a.study);
  w.Key("events").BeginArray();
  for (const auto& e : q.events) w.String(e);
  w.EndArray();
  w.StringIf("pixel_id", q.pixel_id);
  w.Key("first_event_time").Int(a.first_ms / 1000).Key("last_event_time").Int(a.last_ms / 1000);
  auto cell = [&](std::string_view key, const LiftCellInfo& c, double rate,
                  const stats::Interval& ci) {
    w.Key(key).BeginObject();
    w.Key("people").Int(c.totals.people).Key("converters").Int(c.totals.converters);
    w.Key("conversions").Int(c.totals.conversions).Key("value").Double(c.totals.value);
    Num(w, "conversion_rate", rate);
    Num(w, "conversion_rate_ci95_low", ci.low);
    Num(w, "conversion_rate_ci95_high", ci.high);
    w.Key("unmatchable_people").Int(c.unmatchable_people);
    w.EndObject();
  };
  cell("test", a.test, r.test_rate, r.test_rate_ci95);
  cell("control", a.control, r.control_rate, r.control_rate_ci95);
  OptionalEstimateJson(w, "lift", r.lift);
  EstimateJson(w, "incremental_conversions", r.incremental_converters);
  Num(w, "p_value", r.p_value);
  EstimateJson(w, "incremental_value", r.incremental_value);
  Num(w, "spend", a.spend);
  OptionalEstimateJson(w, "iroas", r.iroas);
  w.Key("value_currencies").BeginArray();
  for (const auto& c : a.value_currencies) w.String(c);
  w.EndArray().Key("spend_currencies").BeginArray();
  for (const auto& c : a.spend_currencies) w.String(c);
  w.EndArray().Key("ads").BeginArray();
  for (const auto& ad : a.ads) w.String(ad);
  w.EndArray();
  w.Key("people_in_both_cells").Int(a.people_in_both_cells);
  w.Key("events_without_person").Int(a.events_without_person);
  w.StringIf("note", r.note);
  w.EndObject();
  return out;
}

std::string StudiesToJson(const std::vector<StudySummary>& studies) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("studies").BeginArray();
  for (const auto& s : studies) {
    w.BeginObject().Key("study").String(s.study);
    w.Key("test_events").Int(s.test_events).Key("control_events").Int(s.control_events);
    w.Key("ghost_impressions").Int(s.ghost_events);
    w.Key("first_event_time").Int(s.first_ms / 1000).Key("last_event_time").Int(s.last_ms / 1000);
    w.EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

namespace {

std::string Pct(double v) {
  if (!std::isfinite(v)) return v > 0 ? "+inf" : "-inf";
  char buf[32];
  std::snprintf(buf, sizeof buf, "%+.1f%%", v * 100);
  return buf;
}

std::string Fixed(double v, int digits) {
  if (!std::isfinite(v)) return v > 0 ? "inf" : "-inf";
  char buf[48];
  std::snprintf(buf, sizeof buf, "%.*f", digits, v);
  return buf;
}

}  // namespace

std::string LiftToText(const LiftQuery& q, const LiftAnswer& a) {
  const auto& r = a.result;
  std::string out = "Study " + a.study + " (" + FormatIso8601Ms(a.first_ms) + " to " +
                    FormatIso8601Ms(a.last_ms) + "), conversions: ";
  for (size_t i = 0; i < q.events.size(); ++i) out += (i ? "," : "") + q.events[i];
  out += "\n\n  cell      people  converters  rate      95% interval\n";
  auto row = [&](const char* name, const LiftCellInfo& c, double rate, const stats::Interval& ci) {
    char buf[160];
    std::snprintf(buf, sizeof buf, "  %-8s %7lld  %10lld  %-8s  %s .. %s\n", name,
                  static_cast<long long>(c.totals.people),
                  static_cast<long long>(c.totals.converters), Pct(rate).c_str() + 1,
                  Pct(ci.low).c_str() + 1, Pct(ci.high).c_str() + 1);
    out += buf;
  };
  row("test", a.test, r.test_rate, r.test_rate_ci95);
  row("control", a.control, r.control_rate, r.control_rate_ci95);
  out += "\n";
  if (r.lift)
    out += "  lift " + Pct(r.lift->value) + " (95% interval " + Pct(r.lift->ci95.low) + " .. " +
           Pct(r.lift->ci95.high) + "), p " +
           (r.p_value < 1e-4 ? std::string("< 0.0001") : "= " + Fixed(r.p_value, 4)) + "\n";
  else
    out += "  lift: " + r.note + "\n";
  out += "  incremental conversions " + Fixed(r.incremental_converters.value, 1) + " (" +
         Fixed(r.incremental_converters.ci95.low, 1) + " .. " +
         Fixed(r.incremental_converters.ci95.high, 1) + ")\n";
  out += "  incremental value " + Fixed(r.incremental_value.value, 2) + " (" +
         Fixed(r.incremental_value.ci95.low, 2) + " .. " + Fixed(r.incremental_value.ci95.high, 2) +
         ")\n";
  if (r.iroas)
    out += "  iROAS " + Fixed(r.iroas->value, 2) + " (" + Fixed(r.iroas->ci95.low, 2) + " .. " +
           Fixed(r.iroas->ci95.high, 2) + ") on spend " + Fixed(a.spend, 2) + "\n";
  out += "\n  ";
  if (!r.lift)
    out += "No verdict yet.";
  else if (r.p_value < 0.05 && r.lift->value > 0)
    out +=
        "The ads caused conversions: the test cell converts more than the control cell, "
        "beyond chance (p < 0.05).";
  else if (r.p_value < 0.05)
    out += "The test cell converts LESS than the control cell, beyond chance (p < 0.05).";
  else
    out +=
        "No difference beyond chance yet: the interval still includes no effect. A larger or "
        "longer study narrows it (touchpoint lift plan).";
  out += "\n";
  if (a.people_in_both_cells > 0 || a.test.unmatchable_people + a.control.unmatchable_people > 0)
    out += "  Left out: " + std::to_string(a.people_in_both_cells) + " people in both cells, " +
           std::to_string(a.test.unmatchable_people + a.control.unmatchable_people) +
           " without an email or phone to match conversions by.\n";
  return out;
}

std::string StudiesToText(const std::vector<StudySummary>& studies) {
  if (studies.empty()) return "No lift study: ad events carry study_id and cell to make one.\n";
  std::string out = "  study                 test events  control events  ghost impressions\n";
  for (const auto& s : studies) {
    char buf[200];
    std::snprintf(buf, sizeof buf, "  %-20s  %11lld  %14lld  %17lld\n", s.study.c_str(),
                  static_cast<long long>(s.test_events), static_cast<long long>(s.control_events),
                  static_cast<long long>(s.ghost_events));
    out += buf;
  }
  return out;
}

StatusOr<std::string> PlanLiftJson(const std::vector<std::pair<std::string, std::string>>& params) {
  double baseline = -1, min_lift = -1, alpha = 0.05, power = 0.8, share = 0.5, per_day = 0;
  for (const auto& [k, v] : params) {
    double* target = k == "baseline_rate"    ? &baseline
                     : k == "min_lift"       ? &min_lift
                     : k == "alpha"          ? &alpha
                     : k == "power"          ? &power
                     : k == "control_share"  ? &share
                     : k == "people_per_day" ? &per_day
                                             : nullptr;
    if (k == "token") continue;
    if (!target) return InvalidArgument(k, ": unknown parameter");
    const bool open01 = k != "people_per_day" && k != "min_lift";
    auto d = ParseNumber(k, v, 0, k == "people_per_day" ? 1e12 : k == "min_lift" ? 100 : 1);
    if (!d.ok()) return d.status();
    if (open01 && (*d == 0 || *d == 1)) return InvalidArgument(k, ": must be between 0 and 1");
    *target = *d;
  }
  if (baseline < 0) return InvalidArgument("baseline_rate", ": required, e.g. 0.02 for 2 %");
  if (min_lift <= 0) return InvalidArgument("min_lift", ": required and > 0, e.g. 0.1 for 10 %");
  if (baseline * (1 + min_lift) >= 1)
    return InvalidArgument("min_lift", ": baseline_rate x (1 + min_lift) must stay below 1");
  auto plan = lift::PlanUserLevel(baseline, min_lift, alpha, power, share, per_day);
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("baseline_rate").Double(baseline).Key("min_lift").Double(min_lift);
  w.Key("alpha").Double(alpha).Key("power").Double(power).Key("control_share").Double(share);
  w.Key("test_people").Int(plan.test_people).Key("control_people").Int(plan.control_people);
  w.Key("total_people").Int(plan.test_people + plan.control_people);
  w.Key("days");
  if (plan.days)
    w.Int(*plan.days);
  else
    w.Null();
  w.EndObject();
  return out;
}

StatusOr<std::string> GeoLiftJson(std::string_view body) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (auto err = parser.parse(body.data(), body.size()).get(root))
    return format::JsonSyntaxError(err);
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return InvalidArgument("body", ": must be a JSON object");
  simdjson::dom::array regions;
  if (obj["regions"].get_array().get(regions))
    return InvalidArgument("regions", ": required, an array of {name, cell, pre, post}");
  std::vector<lift::Region> in;
  size_t i = 0;
  for (simdjson::dom::element el : regions) {
    const std::string path = "regions[" + std::to_string(i++) + "]";
    simdjson::dom::object r;
    if (el.get_object().get(r)) return InvalidArgument(path, ": must be an object");
    lift::Region region;
    std::string cell;
    TP_RETURN_IF_ERROR(format::ReadString(r, "name", path, 256, region.name));
    TP_RETURN_IF_ERROR(format::ReadString(r, "cell", path, 16, cell));
    if (cell != "test" && cell != "control")
      return InvalidArgument(path + ".cell", ": must be test or control");
    region.test = cell == "test";
    std::optional<double> pre, post;
    TP_RETURN_IF_ERROR(format::ReadNumber(r, "pre", path, pre));
    TP_RETURN_IF_ERROR(format::ReadNumber(r, "post", path, post));
    if (!pre || !std::isfinite(*pre)) return InvalidArgument(path + ".pre", ": required, a number");
    if (!post || !std::isfinite(*post))
      return InvalidArgument(path + ".post", ": required, a number");
    region.pre = *pre;
    region.post = *post;
    in.push_back(std::move(region));
  }
  if (in.size() > 10000) return InvalidArgument("regions", ": at most 10000");
  int tests = 0;
  for (const auto& r : in) tests += r.test;
  if (tests < 2 || static_cast<int>(in.size()) - tests < 2)
    return InvalidArgument("regions", ": need at least two test and two control regions");
  std::optional<int64_t> perms, seed;
  TP_RETURN_IF_ERROR(format::ReadInt(obj, "permutations", "", perms));
  TP_RETURN_IF_ERROR(format::ReadInt(obj, "seed", "", seed));
  if (perms && (*perms < 100 || *perms > 100000))
    return InvalidArgument("permutations", ": must be from 100 to 100000");
  auto g = lift::EstimateGeo(in, static_cast<int>(perms.value_or(4000)),
                             static_cast<uint64_t>(seed.value_or(1)));
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  EstimateJson(w, "incremental", g.incremental);
  OptionalEstimateJson(w, "lift", g.lift);
  Num(w, "p_value", g.p_value);
  w.Key("permutations").Int(g.permutations).Key("exact").Bool(g.exact);
  w.Key("test_regions")
      .Int(tests)
      .Key("control_regions")
      .Int(static_cast<int64_t>(in.size()) - tests);
  w.EndObject();
  return out;
}

}  // namespace touchpoint::query
