#include "query/report_format.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <cstdio>

#include "core/json_writer.h"
#include "core/time.h"
#include "query/channels.h"

namespace touchpoint::query {

namespace {

const std::vector<std::string>& DefaultMetrics() {
  static const std::vector<std::string> k = {"spend",
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
                                             "conversions",
                                             "conversions_click",
                                             "conversions_view",
                                             "conversions_engaged_view",
                                             "cvr_click",
                                             "cvr_impression",
                                             "value",
                                             "cpa",
                                             "roas"};
  return k;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start <= s.size()) {
    size_t e = s.find(sep, start);
    std::string part(s.substr(start, e == std::string_view::npos ? s.npos : e - start));
    if (!part.empty()) out.push_back(part);
    if (e == std::string_view::npos) break;
    start = e + 1;
  }
  return out;
}

std::string FormatNumber(double v) {
  if (v == std::floor(v) && std::fabs(v) < 1e15) return std::to_string(static_cast<int64_t>(v));
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.4f", v);
  std::string s = buf;
  while (!s.empty() && s.back() == '0') s.pop_back();
  if (!s.empty() && s.back() == '.') s.pop_back();
  return s;
}

}  // namespace

std::string CsvField(std::string_view s) {
  // A cell a spreadsheet would run as a formula gets a leading apostrophe (OWASP's rule): names
  // and dimension values can come from anonymous click parameters.
  const bool formula = !s.empty() && std::string_view("=+-@\t\r").find(s[0]) != s.npos;
  const bool quoted = s.find_first_of(",\"\n\r") != std::string_view::npos;
  std::string out;
  out.reserve(s.size() + 3);
  if (quoted) out += '"';
  if (formula) out += '\'';
  for (char c : s) {
    if (quoted && c == '"') out += '"';
    out += c;
  }
  if (quoted) out += '"';
  return out;
}

namespace {

std::string BasisName(Basis b) { return b == Basis::kTouch ? "touch" : "real_time"; }

std::string TzName(int64_t offset_ms) {
  int64_t m = offset_ms / kMinuteMs;
  char buf[16];
  std::snprintf(buf, sizeof buf, "%c%02lld:%02lld", m < 0 ? '-' : '+',
                static_cast<long long>(std::llabs(m) / 60),
                static_cast<long long>(std::llabs(m) % 60));
  return buf;
}

void WriteMetrics(JsonWriter& w, const Metrics& m, const std::vector<std::string>& metrics) {
  w.BeginObject();
  for (const auto& name : metrics) {
    w.Key(name);
    auto v = m.Get(name);
    if (v)
      w.Double(*v);
    else
      w.Null();
  }
  w.EndObject();
}

// {"CompletePayment": {"conversions": .., "value": ..}, ...}, one entry per event column.
void WriteEventColumns(JsonWriter& w, const ReportQuery& q, const std::vector<EventColumn>& cols) {
  w.BeginObject();
  for (size_t k = 0; k < q.event_columns.size(); ++k) {
    const EventColumn c = k < cols.size() ? cols[k] : EventColumn{};
    w.Key(q.event_columns[k]).BeginObject();
    w.Key("conversions").Double(c.conversions).Key("value").Double(c.value);
    w.EndObject();
  }
  w.EndObject();
}

}  // namespace

StatusOr<std::vector<std::string>> ResolveMetrics(const std::vector<std::string>& requested) {
  if (requested.empty()) return DefaultMetrics();
  for (const auto& m : requested)
    if (std::find(MetricNames().begin(), MetricNames().end(), m) == MetricNames().end())
      return InvalidArgument("metrics", ": unknown metric " + m);
  return requested;
}

std::string ReportToJson(const ReportQuery& q, const ReportResult& r,
                         const std::vector<std::string>& metrics) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject();
  w.Key("from").String(FormatIso8601Ms(q.from_ms)).Key("to").String(FormatIso8601Ms(q.to_ms));
  w.Key("tz").String(TzName(q.tz_offset_ms));
  w.Key("model").String(q.model);
  if (q.model == "time_decay") w.Key("half_life_days").Double(q.params.half_life_days);
  if (q.model == "markov") w.Key("markov_order").Int(q.params.markov_order);
  w.Key("click_window_days");
  if (q.click_window_days)
    w.Int(*q.click_window_days);
  else
    w.String("adgroup");
  w.Key("view_window_days");
  if (q.view_window_days)
    w.Int(*q.view_window_days);
  else
    w.String("adgroup");
  w.Key("count");
  if (q.count_mode)
    w.String(CountModeName(*q.count_mode));
  else
    w.String("adgroup");
  w.Key("basis").String(BasisName(q.basis));
  w.Key("events").BeginArray();
  for (const auto& e : q.events) w.String(e);
  w.EndArray();
  w.Key("conversion_events").String(q.events.empty() ? "campaign" : "explicit");
  if (!q.event_columns.empty()) {
    w.Key("event_columns").BeginArray();
    for (const auto& e : q.event_columns) w.String(e);
    w.EndArray();
  }
  w.Key("dimensions").BeginArray();
  for (Dim d : q.dims) w.String(DimName(d));
  w.EndArray();
  w.Key("metrics").BeginArray();
  for (const auto& m : metrics) w.String(m);
  w.EndArray();
  w.Key("rows").BeginArray();
  for (const auto& row : r.rows) {
    w.BeginObject().Key("dimensions").BeginObject();
    for (size_t i = 0; i < q.dims.size(); ++i) w.Key(DimName(q.dims[i])).String(row.dims[i]);
    w.EndObject().Key("metrics");
    WriteMetrics(w, row.metrics, metrics);
    if (!q.event_columns.empty()) {
      w.Key("by_event");
      WriteEventColumns(w, q, row.by_event);
    }
    if (row.cvr_flag) {
      const CvrFlag& f = *row.cvr_flag;
      w.Key("cvr_flag").BeginObject();
      w.Key("below_campaign").Bool(f.below);
      w.Key("campaign_cvr_click").Double(f.campaign_cvr_click);
      w.Key("rest_cvr_click").Double(f.rest_cvr_click);
      w.Key("p_value").Double(f.p_value).Key("p_adjusted").Double(f.p_adjusted);
      w.EndObject();
    }
    w.EndObject();
  }
  w.EndArray();
  w.Key("total_rows").Int(static_cast<int64_t>(r.groups));
  w.Key("totals");
  WriteMetrics(w, r.totals, metrics);
  if (!q.event_columns.empty()) {
    w.Key("totals_by_event");
    WriteEventColumns(w, q, r.totals_by_event);
  }
  w.Key("unattributed_conversions").Double(r.unattributed_conversions);
  if (r.channel) {
    // What the data-driven model learnt (docs/metrics.md#data-driven-models).
    w.Key("model_fit").BeginObject();
    w.Key("channel").String(DimName(*r.channel));
    w.Key("journeys_converting").Int(static_cast<int64_t>(r.journeys_converting));
    if (q.model == "markov") {  // shapley's game counts conversions only
      w.Key("journeys_not_converting").Int(static_cast<int64_t>(r.journeys_not_converting));
      w.Key("states").Int(static_cast<int64_t>(r.markov_states));
      w.Key("conversion_probability").Double(r.markov_conversion_probability);
    }
    w.Key("channels").BeginArray();
    for (const auto& c : r.channel_fit) {
      w.BeginObject().Key("channel").String(c.channel);
      if (q.model == "markov") w.Key("removal_effect").Double(c.removal_effect);
      w.Key("conversions").Double(c.conversions).Key("value").Double(c.value).EndObject();
    }
    w.EndArray().EndObject();
  }
  if (r.cvr_flags) {
    size_t flagged = 0;
    for (const auto& row : r.rows) flagged += row.cvr_flag && row.cvr_flag->below;
    w.Key("cvr_flags").BeginObject();
    w.Key("comparisons").Int(static_cast<int64_t>(r.cvr_comparisons));
    w.Key("flagged").Int(static_cast<int64_t>(flagged));
    w.Key("fdr").Double(0.05).EndObject();
  }
  w.EndObject();
  return out;
}

std::string ReportToCsv(const ReportQuery& q, const ReportResult& r,
                        const std::vector<std::string>& metrics) {
  std::string out;
  bool first = true;
  for (Dim d : q.dims) {
    out += (first ? "" : ",") + std::string(DimName(d));
    first = false;
  }
  for (const auto& m : metrics) {
    out += (first ? "" : ",") + m;
    first = false;
  }
  for (const auto& e : q.event_columns)
    out += (first ? "" : ",") + CsvField("conversions:" + e) + "," + CsvField("value:" + e);
  if (r.cvr_flags) out += first ? "cvr_below_campaign" : ",cvr_below_campaign";
  out += "\n";
  for (const auto& row : r.rows) {
    first = true;
    for (const auto& v : row.dims) {
      out += (first ? "" : ",") + CsvField(v);
      first = false;
    }
    for (const auto& m : metrics) {
      auto v = row.metrics.Get(m);
      out += (first ? "" : ",") + (v ? FormatNumber(*v) : std::string());
      first = false;
    }
    for (const auto& c : row.by_event)
      out += (first ? "" : ",") + FormatNumber(c.conversions) + "," + FormatNumber(c.value);
    if (r.cvr_flags)
      out += std::string(first ? "" : ",") + (row.cvr_flag && row.cvr_flag->below ? "yes" : "");
    out += "\n";
  }
  return out;
}

std::string ReportToTable(const ReportQuery& q, const ReportResult& r,
                          const std::vector<std::string>& metrics) {
  std::vector<std::vector<std::string>> cells;
  std::vector<std::string> header;
  for (Dim d : q.dims) header.emplace_back(DimName(d));
  for (const auto& m : metrics) header.push_back(m);
  cells.push_back(header);
  auto add_row = [&](const std::vector<std::string>& dims, const Metrics& m) {
    std::vector<std::string> row = dims;
    for (const auto& name : metrics) {
      auto v = m.Get(name);
      row.push_back(v ? FormatNumber(std::round(*v * 100) / 100) : "-");
    }
    cells.push_back(row);
  };
  for (const auto& row : r.rows) add_row(row.dims, row.metrics);
  std::vector<std::string> total_dims(q.dims.size(), "");
  if (!total_dims.empty()) total_dims[0] = "TOTAL";
  add_row(total_dims, r.totals);
  std::vector<size_t> width(header.size(), 0);
  for (const auto& row : cells)
    for (size_t i = 0; i < row.size(); ++i) width[i] = std::max(width[i], row[i].size());
  std::string out;
  out +=
      "model " + q.model +
      (r.channel ? std::string(" by ") + std::string(DimName(*r.channel)) : std::string()) +
      ", windows " +
      (q.click_window_days ? std::to_string(*q.click_window_days) + "d click" : "ad group click") +
      " / " +
      (q.view_window_days ? std::to_string(*q.view_window_days) + "d view" : "ad group view") +
      ", basis " + BasisName(q.basis) + ", " + FormatIso8601Ms(q.from_ms).substr(0, 10) + " .. " +
      FormatIso8601Ms(q.to_ms - 1).substr(0, 10) + "\n";
  for (size_t ri = 0; ri < cells.size(); ++ri) {
    const auto& row = cells[ri];
    if (ri == cells.size() - 1) {
      for (size_t i = 0; i < row.size(); ++i)
        out += std::string(width[i], '-') + (i + 1 < row.size() ? "  " : "\n");
    }
    for (size_t i = 0; i < row.size(); ++i) {
      bool numeric = i >= q.dims.size();
      std::string pad(width[i] - row[i].size(), ' ');
      out += numeric ? pad + row[i] : row[i] + pad;
      out += i + 1 < row.size() ? "  " : "\n";
    }
    if (ri == 0) {
      for (size_t i = 0; i < row.size(); ++i)
        out += std::string(width[i], '-') + (i + 1 < row.size() ? "  " : "\n");
    }
  }
  if (r.groups > r.rows.size())
    out += "(" + std::to_string(r.rows.size()) + " of " + std::to_string(r.groups) + " rows)\n";
  if (r.unattributed_conversions > 0)
    out += FormatNumber(r.unattributed_conversions) + " conversions had no touchpoint in window\n";
  return out;
}

namespace {

std::optional<int64_t> ParseTime(std::string_view s, bool end_of_day) {
  int64_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size() && v >= 0 && v < 100'000'000'000LL)
    return v * 1000;
  if (auto d = ParseDateMs(s)) return *d + (end_of_day ? kDayMs : 0);
  return ParseIso8601Ms(s);
}

std::optional<int64_t> ParseTz(std::string_view s) {
  if (s.empty() || s == "UTC" || s == "Z" || s == "utc") return 0;
  if (s.size() != 6 || (s[0] != '+' && s[0] != '-') || s[3] != ':') return std::nullopt;
  int h = (s[1] - '0') * 10 + (s[2] - '0'), m = (s[4] - '0') * 10 + (s[5] - '0');
  for (size_t i : {1, 2, 4, 5})
    if (s[i] < '0' || s[i] > '9') return std::nullopt;
  if (h > 14 || m > 59) return std::nullopt;
  int64_t ms = (h * 60 + m) * kMinuteMs;
  return s[0] == '-' ? -ms : ms;
}

std::optional<int> ParseDays(std::string_view s, int min, int max) {
  int v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || p != s.data() + s.size() || v < min || v > max) return std::nullopt;
  return v;
}

}  // namespace

StatusOr<ReportRequest> ParseReportParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms) {
  ReportRequest req;
  ReportQuery& q = req.query;
  std::optional<int64_t> from, to;
  std::string from_s, to_s;
  for (const auto& [k, v] : params) {
    if (k == "from")
      from_s = v;
    else if (k == "to")
      to_s = v;
    else if (k == "tz") {
      auto tz = ParseTz(v);
      if (!tz) return InvalidArgument("tz", ": must be UTC or an offset like +02:00");
      q.tz_offset_ms = *tz;
    } else if (k == "dimensions") {
      for (const auto& name : Split(v, ',')) {
        auto d = ParseDim(name);
        if (!d) return InvalidArgument("dimensions", ": unknown dimension " + name);
        if (std::find(q.dims.begin(), q.dims.end(), *d) != q.dims.end())
          return InvalidArgument("dimensions", ": " + name + " given twice");
        q.dims.push_back(*d);
      }
    } else if (k == "metrics") {
      req.metrics = Split(v, ',');
    } else if (k == "events" || k == "event") {
      if (v == "campaign") {  // each campaign's own event, the default
        q.events.clear();
        continue;
      }
      q.events = Split(v, ',');
      if (q.events.empty()) return InvalidArgument(k, ": must name at least one event");
      if (k == "event" && q.events.size() > 1)
        return InvalidArgument("event", ": one event; use events= for several");
    } else if (k == "flags") {
      for (const auto& f : Split(v, ','))
        if (f != "cvr") return InvalidArgument("flags", ": unknown flag " + f + " (cvr)");
      req.flag_cvr = !v.empty();
    } else if (k == "event_columns") {
      q.event_columns = Split(v, ',');
      if (q.event_columns.size() > 8)
        return InvalidArgument("event_columns", ": at most 8 events side by side");
    } else if (k == "pixel_id") {
      q.pixel_id = v;
    } else if (k == "model") {
      q.model = v;
    } else if (k == "markov_order") {
      auto n = ParseDays(v, 1, 4);
      if (!n) return InvalidArgument("markov_order", ": must be 1, 2, 3 or 4");
      q.params.markov_order = *n;
    } else if (k == "channel") {
      auto dim = ParseDim(v);
      if (!dim || !IsChannelDim(*dim))
        return InvalidArgument("channel",
                               ": must be an ad-side dimension (campaign, adgroup, ad, "
                               "format, length, cta, tag, placement)");
      q.channel = *dim;
    } else if (k == "half_life_days") {
      char* end = nullptr;
      q.params.half_life_days = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size() || !(q.params.half_life_days > 0))
        return InvalidArgument("half_life_days", ": must be a number > 0");
    } else if (k == "click_window" || k == "click_window_days") {
      auto d = ParseDays(v, 1, 90);
      if (!d) return InvalidArgument(k, ": must be whole days from 1 to 90 (TikTok: 1, 7, 14, 28)");
      q.click_window_days = *d;
    } else if (k == "view_window" || k == "view_window_days") {
      auto d = ParseDays(v, 0, 28);
      if (!d)
        return InvalidArgument(k, ": must be whole days from 0 (off) to 28 (TikTok: 0, 1, 7)");
      q.view_window_days = *d;
    } else if (k == "count") {
      if (v == "every")
        q.count_mode = CountMode::kEvery;
      else if (v == "once")
        q.count_mode = CountMode::kOnce;
      else
        return InvalidArgument("count", ": must be every or once");
    } else if (k == "basis") {
      if (v == "touch" || v == "impression")
        q.basis = Basis::kTouch;
      else if (v == "real_time" || v == "conversion")
        q.basis = Basis::kConversion;
      else
        return InvalidArgument("basis", ": must be touch or real_time");
    } else if (k == "sort") {
      q.sort = v;
    } else if (k == "limit") {
      auto d = ParseDays(v, 0, 1000000);
      if (!d) return InvalidArgument("limit", ": must be an integer from 0 to 1000000");
      q.limit = static_cast<size_t>(*d);
    } else if (k == "format") {
      if (v != "json" && v != "csv") return InvalidArgument("format", ": must be json or csv");
      req.format = v;
    } else if (k == "filter" || k.rfind("filter.", 0) == 0) {
      // filter=age:18-24|25-34,country:US   or   filter.age=18-24|25-34
      std::vector<std::string> clauses =
          k == "filter" ? Split(v, ',') : std::vector<std::string>{k.substr(7) + ":" + v};
      for (const auto& clause : clauses) {
        size_t colon = clause.find(':');
        if (colon == std::string::npos)
          return InvalidArgument("filter", ": must be dimension:value[|value...]");
        auto d = ParseDim(clause.substr(0, colon));
        if (!d) return InvalidArgument("filter", ": unknown dimension " + clause.substr(0, colon));
        q.filters.push_back(DimFilter{*d, Split(clause.substr(colon + 1), '|')});
      }
    } else if (k != "token") {
      return InvalidArgument(k, ": unknown parameter");
    }
  }
  // Default range: the last 30 days up to now (local days).
  if (!to_s.empty()) {
    to = ParseTime(to_s, true);
    if (!to)
      return InvalidArgument("to", ": must be YYYY-MM-DD (inclusive), ISO 8601 or Unix seconds");
    if (ParseDateMs(to_s)) *to -= q.tz_offset_ms;
  } else {
    to = now_ms;
  }
  if (!from_s.empty()) {
    from = ParseTime(from_s, false);
    if (!from) return InvalidArgument("from", ": must be YYYY-MM-DD, ISO 8601 or Unix seconds");
    if (ParseDateMs(from_s)) *from -= q.tz_offset_ms;
  } else {
    from = *to - 30 * kDayMs;
  }
  if (*to <= *from) return InvalidArgument("to", ": must be after from");
  q.from_ms = *from;
  q.to_ms = *to;
  auto metrics = ResolveMetrics(req.metrics);
  if (!metrics.ok()) return metrics.status();
  req.metrics = *metrics;
  // Skip the pass over delivery events when only conversion metrics were asked for.
  static const std::vector<std::string> kConversionOnly = {"spend",
                                                           "conversions",
                                                           "conversions_click",
                                                           "conversions_view",
                                                           "conversions_engaged_view",
                                                           "value",
                                                           "cpa",
                                                           "roas"};
  q.delivery = false;
  for (const auto& m : req.metrics)
    if (std::find(kConversionOnly.begin(), kConversionOnly.end(), m) == kConversionOnly.end())
      q.delivery = true;
  return req;
}

}  // namespace touchpoint::query
