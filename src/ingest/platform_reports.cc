#include "ingest/platform_reports.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>

#include "core/ascii.h"
#include "core/time.h"
#include "format/catalog_file.h"
#include "format/json_fields.h"

namespace touchpoint::ingest {

using namespace format;  // JSON field access and the spend formats (src/format/)

namespace {

constexpr size_t kMaxId = 128;

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

// A report day: "2026-12-01", or "2026-12-01 00:00:00" as TikTok writes stat_time_day.
Status ParseDay(std::string_view text, const std::string& where, int64_t& out) {
  std::string_view s = Trim(text);
  if (s.empty()) return InvalidArgument(where, ": required (a day, YYYY-MM-DD)");
  std::string_view rest = s.size() > 10 ? s.substr(10) : std::string_view();
  auto day = ParseDateMs(s.substr(0, 10));
  if (!day || (!rest.empty() && rest != " 00:00:00" && rest != "T00:00:00"))
    return InvalidArgument(where, ": must be a day, YYYY-MM-DD or YYYY-MM-DD 00:00:00 (got \"" +
                                      std::string(s.substr(0, 40)) +
                                      "\"; hourly rows are not imported)");
  out = *day;
  return OkStatus();
}

// "1,234.50" -> "1234.50": thousands separators only where they group three digits.
std::string WithoutThousands(std::string_view s) {
  const size_t dot = s.find('.');
  std::string_view whole = s.substr(0, dot);
  if (whole.find(',') == std::string_view::npos) return std::string(s);
  std::string out;
  size_t digits_since = 0;
  bool first_group = true;
  for (char c : whole) {
    if (c == ',') {
      if (digits_since == 0 || digits_since > 3 || (!first_group && digits_since != 3)) return "";
      first_group = false;
      digits_since = 0;
      continue;
    }
    out += c;
    ++digits_since;
  }
  if (digits_since != 3) return "";
  if (dot != std::string_view::npos) out.append(s.substr(dot));
  return out;
}

// A metric as reports write it: a decimal string ("12.30", "1,234"), a JSON number, or "-" /
// empty for none. Amounts are finite and >= 0; counts are whole.
Status ParseMetric(std::string_view text, const std::string& where, bool whole,
                   std::optional<double>& out) {
  std::string_view s = Trim(text);
  if (s.empty() || s == "-") return OkStatus();
  std::string plain = WithoutThousands(s);
  double v = 0;
  auto [ptr, ec] = std::from_chars(plain.data(), plain.data() + plain.size(), v);
  const bool bad = plain.empty() || ec != std::errc() || ptr != plain.data() + plain.size() ||
                   !std::isfinite(v) || v < 0 || (whole && v != std::floor(v)) || v > 1e15;
  if (bad)
    return InvalidArgument(where, whole ? ": must be a whole number >= 0 (got \"" +
                                              std::string(s.substr(0, 40)) + "\")"
                                        : ": must be a number >= 0, like 12.30 (got \"" +
                                              std::string(s.substr(0, 40)) + "\")");
  out = v;
  return OkStatus();
}

Status ParseCount(std::string_view text, const std::string& where, std::optional<int64_t>& out) {
  std::optional<double> v;
  TP_RETURN_IF_ERROR(ParseMetric(text, where, true, v));
  if (v) out = static_cast<int64_t>(*v);
  return OkStatus();
}

Status CheckAdId(std::string_view id, const std::string& where) {
  if (id.empty()) return InvalidArgument(where, ": required");
  if (id.size() > kMaxId) return InvalidArgument(where, ": longer than 128 bytes");
  if (!simdjson::validate_utf8(id.data(), id.size()))
    return InvalidArgument(where, ": not valid UTF-8");
  for (unsigned char c : id)
    if (c < 0x20 || c == 0x7f) return InvalidArgument(where, ": must not hold control characters");
  return OkStatus();
}

Status CheckLabel(std::string_view v, const std::string& where) {
  if (v.size() > kMaxId) return InvalidArgument(where, ": longer than 128 bytes");
  if (!simdjson::validate_utf8(v.data(), v.size()))
    return InvalidArgument(where, ": not valid UTF-8");
  return OkStatus();
}

// A JSON value that reports write as a string but clients may turn into a number: its text.
Status ValueText(element e, const std::string& where, std::string& out) {
  std::string_view s;
  if (!e.get_string().get(s)) {
    out.assign(s);
    return OkStatus();
  }
  int64_t i;
  uint64_t u;
  double d;
  if (!e.get_int64().get(i)) {
    out = std::to_string(i);
  } else if (!e.get_uint64().get(u)) {
    out = std::to_string(u);
  } else if (!e.get_double().get(d)) {
    char buf[64];
    auto res = std::to_chars(buf, buf + sizeof buf, d);
    out.assign(buf, res.ptr);
  } else if (!e.is_null()) {
    return InvalidArgument(where, ": must be a string or a number");
  }
  return OkStatus();
}

// The text of obj[key] ("" when absent or null).
Status FieldText(object obj, std::string_view key, const std::string& path, std::string& out) {
  out.clear();
  element e;
  if (obj.at_key(key).get(e) || e.is_null()) return OkStatus();
  return ValueText(e, FieldPath(path, key), out);
}

// spend, impressions and clicks, which both platforms' JSON name so.
Status ReadSpendImpressionsClicks(object obj, const std::string& path, PlatformStatRow& r) {
  std::string text;
  TP_RETURN_IF_ERROR(FieldText(obj, "spend", path, text));
  TP_RETURN_IF_ERROR(ParseMetric(text, FieldPath(path, "spend"), false, r.spend));
  TP_RETURN_IF_ERROR(FieldText(obj, "impressions", path, text));
  TP_RETURN_IF_ERROR(ParseCount(text, FieldPath(path, "impressions"), r.impressions));
  TP_RETURN_IF_ERROR(FieldText(obj, "clicks", path, text));
  return ParseCount(text, FieldPath(path, "clicks"), r.clicks);
}

// Daily spend per ad from the rows: summed over age and gender cells; a (day, ad) whose rows
// carry no spend at all has none. Cells in different currencies cannot be summed.
StatusOr<std::vector<SpendRow>> DailySpend(const std::vector<PlatformStatRow>& stats) {
  std::map<std::pair<int64_t, std::string>, SpendRow> by_day;
  for (const auto& r : stats) {
    if (!r.spend) continue;
    auto [it, fresh] = by_day.try_emplace({r.day_ms, r.ad_id});
    SpendRow& s = it->second;
    if (fresh) {
      s.day_ms = r.day_ms;
      s.ad_id = r.ad_id;
      s.currency = r.currency;
    } else if (s.currency != r.currency) {
      return InvalidArgument("currency", ": ad " + r.ad_id + " on " +
                                             FormatIso8601Ms(r.day_ms).substr(0, 10) +
                                             " has rows in " + s.currency + " and " + r.currency);
    }
    s.spend += *r.spend;
  }
  std::vector<SpendRow> out;
  out.reserve(by_day.size());
  for (auto& [key, row] : by_day) out.push_back(std::move(row));
  return out;
}

StatusOr<SpendImport> Finish(std::string format, std::vector<PlatformStatRow> stats) {
  auto spend = DailySpend(stats);
  if (!spend.ok()) return spend.status();
  return SpendImport{std::move(format), std::move(*spend), std::move(stats)};
}

StatusOr<element> ParseJson(std::string_view body) {
  element root;
  if (auto err = Parser().parse(body.data(), body.size(), true).get(root))
    return JsonSyntaxError(err);
  return root;
}

}  // namespace

StatusOr<SpendImport> ParseTikTokReport(std::string_view body) {
  auto root = ParseJson(body);
  if (!root.ok()) return root.status();
  object top;
  if (root->get_object().get(top)) return InvalidArgument("body", ": must be a JSON object");
  int64_t code = 0;
  if (element c; !top.at_key("code").get(c) && !c.get_int64().get(code) && code != 0) {
    std::string_view message;
    element m;
    if (!top.at_key("message").get(m) && m.get_string().get(message)) message = {};
    return InvalidArgument("code", ": the file is TikTok's error answer " + std::to_string(code) +
                                       " (" + std::string(message.substr(0, 200)) +
                                       "), not a report");
  }
  object data;
  element d;
  if (top.at_key("data").get(d) || d.get_object().get(data))
    return InvalidArgument("data", ": required, an object with list[] (report/integrated/get)");
  simdjson::dom::array list;
  element l;
  if (data.at_key("list").get(l) || l.get_array().get(list))
    return InvalidArgument("data.list", ": required, an array of report rows");
  std::vector<PlatformStatRow> stats;
  size_t i = 0;
  for (element item : list) {
    const std::string path = IndexPath("data.list", i++);
    object row;
    if (item.get_object().get(row)) return InvalidArgument(path, ": must be an object");
    std::optional<object> dims, metrics;
    TP_RETURN_IF_ERROR(ReadObject(row, "dimensions", path, dims));
    TP_RETURN_IF_ERROR(ReadObject(row, "metrics", path, metrics));
    const std::string dpath = FieldPath(path, "dimensions");
    if (!dims) return InvalidArgument(dpath, ": required");
    PlatformStatRow r;
    r.platform = "tiktok";
    TP_RETURN_IF_ERROR(FieldText(*dims, "ad_id", dpath, r.ad_id));
    if (r.ad_id.empty()) {
      element other;
      for (const char* level : {"campaign_id", "adgroup_id", "advertiser_id"})
        if (!dims->at_key(level).get(other))
          return InvalidArgument(FieldPath(dpath, "ad_id"),
                                 std::string(": required; this report is by ") + level +
                                     " (ask for data_level AUCTION_AD with dimensions "
                                     "[\"ad_id\",\"stat_time_day\"])");
    }
    TP_RETURN_IF_ERROR(CheckAdId(r.ad_id, FieldPath(dpath, "ad_id")));
    std::string day;
    TP_RETURN_IF_ERROR(FieldText(*dims, "stat_time_day", dpath, day));
    if (element hour; day.empty() && !dims->at_key("stat_time_hour").get(hour))
      return InvalidArgument(FieldPath(dpath, "stat_time_hour"),
                             ": hourly reports are not imported; ask for stat_time_day");
    TP_RETURN_IF_ERROR(ParseDay(day, FieldPath(dpath, "stat_time_day"), r.day_ms));
    TP_RETURN_IF_ERROR(FieldText(*dims, "age", dpath, r.age));
    TP_RETURN_IF_ERROR(CheckLabel(r.age, FieldPath(dpath, "age")));
    TP_RETURN_IF_ERROR(FieldText(*dims, "gender", dpath, r.gender));
    TP_RETURN_IF_ERROR(CheckLabel(r.gender, FieldPath(dpath, "gender")));
    if (metrics) {
      const std::string mpath = FieldPath(path, "metrics");
      TP_RETURN_IF_ERROR(ReadSpendImpressionsClicks(*metrics, mpath, r));
      std::string text;
      TP_RETURN_IF_ERROR(FieldText(*metrics, "video_play_actions", mpath, text));
      TP_RETURN_IF_ERROR(ParseCount(text, FieldPath(mpath, "video_play_actions"), r.video_views));
      TP_RETURN_IF_ERROR(FieldText(*metrics, "currency", mpath, r.currency));
      TP_RETURN_IF_ERROR(CheckLabel(r.currency, FieldPath(mpath, "currency")));
    }
    stats.push_back(std::move(r));
  }
  return Finish("tiktok_report", std::move(stats));
}

StatusOr<SpendImport> ParseMetaInsights(std::string_view body) {
  auto root = ParseJson(body);
  if (!root.ok()) return root.status();
  object top;
  if (root->get_object().get(top)) return InvalidArgument("body", ": must be a JSON object");
  if (element err; !top.at_key("error").get(err))
    return InvalidArgument("error", ": the file is Meta's error answer, not insights");
  simdjson::dom::array list;
  element d;
  if (top.at_key("data").get(d) || d.get_array().get(list))
    return InvalidArgument("data", ": required, an array of insights rows");
  std::vector<PlatformStatRow> stats;
  size_t i = 0;
  for (element item : list) {
    const std::string path = IndexPath("data", i++);
    object row;
    if (item.get_object().get(row)) return InvalidArgument(path, ": must be an object");
    PlatformStatRow r;
    r.platform = "meta";
    TP_RETURN_IF_ERROR(FieldText(row, "ad_id", path, r.ad_id));
    TP_RETURN_IF_ERROR(CheckAdId(r.ad_id, FieldPath(path, "ad_id")));
    std::string start, stop;
    TP_RETURN_IF_ERROR(FieldText(row, "date_start", path, start));
    TP_RETURN_IF_ERROR(ParseDay(start, FieldPath(path, "date_start"), r.day_ms));
    TP_RETURN_IF_ERROR(FieldText(row, "date_stop", path, stop));
    if (!stop.empty() && Trim(stop) != Trim(start))
      return InvalidArgument(FieldPath(path, "date_stop"),
                             ": must equal date_start (export one row per day: time_increment=1)");
    TP_RETURN_IF_ERROR(ReadSpendImpressionsClicks(row, path, r));
    std::string text;
    // Video views are an action list: [{"action_type":"video_view","value":"340"}].
    element plays;
    simdjson::dom::array actions;
    if (!row.at_key("video_play_actions").get(plays) && !plays.get_array().get(actions)) {
      size_t k = 0;
      const std::string list_path = FieldPath(path, "video_play_actions");
      for (element a : actions) {
        const std::string apath = IndexPath(list_path, k++);
        object ao;
        if (a.get_object().get(ao)) return InvalidArgument(apath, ": must be an object");
        TP_RETURN_IF_ERROR(FieldText(ao, "value", apath, text));
        std::optional<int64_t> n;
        TP_RETURN_IF_ERROR(ParseCount(text, FieldPath(apath, "value"), n));
        if (n) r.video_views = r.video_views.value_or(0) + *n;
      }
    }
    TP_RETURN_IF_ERROR(FieldText(row, "age", path, r.age));
    TP_RETURN_IF_ERROR(CheckLabel(r.age, FieldPath(path, "age")));
    TP_RETURN_IF_ERROR(FieldText(row, "gender", path, r.gender));
    TP_RETURN_IF_ERROR(CheckLabel(r.gender, FieldPath(path, "gender")));
    TP_RETURN_IF_ERROR(FieldText(row, "account_currency", path, r.currency));
    TP_RETURN_IF_ERROR(CheckLabel(r.currency, FieldPath(path, "account_currency")));
    stats.push_back(std::move(r));
  }
  return Finish("meta_insights", std::move(stats));
}

namespace {

// A CSV header cell as matched: lowercase, trimmed, a byte-order mark removed.
std::string HeaderKey(std::string_view cell) {
  if (cell.substr(0, 3) == "\xEF\xBB\xBF") cell.remove_prefix(3);
  return AsciiLowered(Trim(cell));
}

// The first of `names` the header has (in the order given: the better match first), or -1.
int FindColumn(const std::vector<std::string>& header,
               std::initializer_list<std::string_view> names, std::string* found = nullptr) {
  for (std::string_view n : names)
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == n) {
        if (found) *found = header[i];
        return static_cast<int>(i);
      }
  return -1;
}

}  // namespace

StatusOr<SpendImport> ParsePlatformCsv(std::string_view body) {
  // Spreadsheet exports start with a byte-order mark, before a quoted first cell.
  if (body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  auto rows = ParseCsv(body);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return InvalidArgument("line 1", ": missing header");
  std::vector<std::string> header;
  for (const auto& cell : (*rows)[0]) header.push_back(HeaderKey(cell));
  // Meta names the spend column after the account currency: "Amount spent (USD)".
  std::string spend_currency;
  int spend_col = FindColumn(header, {"spend", "cost", "total cost", "amount spent"});
  bool meta = false;
  for (size_t i = 0; i < header.size() && spend_col < 0; ++i) {
    const std::string& h = header[i];
    if (h.rfind("amount spent (", 0) == 0 && h.size() == 18 && h.back() == ')' &&
        std::all_of(h.begin() + 14, h.begin() + 17,
                    [](char ch) { return ch >= 'a' && ch <= 'z'; })) {
      spend_col = static_cast<int>(i);
      spend_currency = h.substr(14, 3);
      for (char& ch : spend_currency) ch = static_cast<char>(ch - 'a' + 'A');
      meta = true;
    }
  }
  const int day_col =
      FindColumn(header, {"date", "day", "by day", "stat_time_day", "date_start", "time"});
  const int start_col = FindColumn(header, {"reporting starts"});
  const int end_col = FindColumn(header, {"reporting ends"});
  const int ad_col = FindColumn(header, {"ad_id", "ad id"});
  std::string clicks_name;
  const int imps_col = FindColumn(header, {"impressions"});
  const int clicks_col = FindColumn(
      header, {"clicks", "clicks (destination)", "link clicks", "clicks (all)"}, &clicks_name);
  const int views_col =
      FindColumn(header, {"video_play_actions", "video views", "video plays", "video_views"});
  const int age_col = FindColumn(header, {"age"});
  const int gender_col = FindColumn(header, {"gender"});
  const int currency_col = FindColumn(header, {"currency", "account currency"});
  if (ad_col < 0) return InvalidArgument("header", ": missing column Ad ID (or ad_id)");
  if (day_col < 0 && start_col < 0)
    return InvalidArgument("header", ": missing column Date (or Day, By Day, Reporting starts)");
  if (spend_col < 0 && imps_col < 0 && clicks_col < 0)
    return InvalidArgument("header",
                           ": no metric column (Cost, Amount spent (USD), Spend, Impressions or "
                           "Clicks)");
  meta |= start_col >= 0 || clicks_name == "link clicks" || clicks_name == "clicks (all)";
  const bool tiktok = !meta && (FindColumn(header, {"cost", "clicks (destination)", "by day",
                                                    "video views", "stat_time_day"}) >= 0);
  std::vector<PlatformStatRow> stats;
  for (size_t i = 1; i < rows->size(); ++i) {
    const auto& row = (*rows)[i];
    const std::string line = "line " + std::to_string(i + 1);
    if (row.size() != header.size()) {
      // Ads Manager ends some exports with a one-cell note or a total line.
      if (row.size() == 1) continue;
      return InvalidArgument(line, ": has " + std::to_string(row.size()) + " fields, header has " +
                                       std::to_string(header.size()));
    }
    auto cell = [&](int col) -> std::string_view {
      return col < 0 ? std::string_view() : std::string_view(row[static_cast<size_t>(col)]);
    };
    auto where = [&](int col) { return line + "." + (*rows)[0][static_cast<size_t>(col)]; };
    PlatformStatRow r;
    r.platform = meta ? "meta" : tiktok ? "tiktok" : "";
    // Meta's summary line ("Total", no ad id) is not an ad's row.
    r.ad_id = std::string(Trim(cell(ad_col)));
    if (r.ad_id.empty() && (Trim(cell(day_col)).empty() || AsciiLowered(row[0]) == "total"))
      continue;
    TP_RETURN_IF_ERROR(CheckAdId(r.ad_id, where(ad_col)));
    if (day_col >= 0) {
      TP_RETURN_IF_ERROR(ParseDay(cell(day_col), where(day_col), r.day_ms));
    } else {
      TP_RETURN_IF_ERROR(ParseDay(cell(start_col), where(start_col), r.day_ms));
      if (end_col >= 0 && Trim(cell(end_col)) != Trim(cell(start_col)))
        return InvalidArgument(where(end_col),
                               ": must equal Reporting starts (export with a Day breakdown)");
    }
    if (spend_col >= 0)
      TP_RETURN_IF_ERROR(ParseMetric(cell(spend_col), where(spend_col), false, r.spend));
    if (imps_col >= 0)
      TP_RETURN_IF_ERROR(ParseCount(cell(imps_col), where(imps_col), r.impressions));
    if (clicks_col >= 0)
      TP_RETURN_IF_ERROR(ParseCount(cell(clicks_col), where(clicks_col), r.clicks));
    if (views_col >= 0)
      TP_RETURN_IF_ERROR(ParseCount(cell(views_col), where(views_col), r.video_views));
    r.age = std::string(Trim(cell(age_col)));
    r.gender = std::string(Trim(cell(gender_col)));
    r.currency = currency_col >= 0 ? std::string(Trim(cell(currency_col))) : spend_currency;
    for (int col : {age_col, gender_col, currency_col})
      if (col >= 0) TP_RETURN_IF_ERROR(CheckLabel(cell(col), where(col)));
    stats.push_back(std::move(r));
  }
  return Finish(meta ? "meta_csv" : tiktok ? "tiktok_csv" : "csv", std::move(stats));
}

StatusOr<SpendImport> ParseSpendImport(std::string_view body) {
  const size_t first = body.find_first_not_of(" \t\r\n");
  const char c = first == std::string_view::npos ? '\0' : body[first];
  if (c == '[' || c == '\0') {
    auto rows = ParseSpend(body);
    if (!rows.ok()) return rows.status();
    return SpendImport{"touchpoint", std::move(*rows), {}};
  }
  if (c == '{') {
    auto root = ParseJson(body);
    if (!root.ok()) return root.status();
    object top;
    element data;
    if (!root->get_object().get(top) && !top.at_key("data").get(data)) {
      if (data.is_array()) return ParseMetaInsights(body);
      if (data.is_object()) return ParseTikTokReport(body);
    }
    if (!root->get_object().get(top) && !top.at_key("code").get(data))
      return ParseTikTokReport(body);  // TikTok's error answer: says so
    if (!root->get_object().get(top) && !top.at_key("error").get(data))
      return ParseMetaInsights(body);
    return InvalidArgument("body",
                           ": not a spend file: expected TikTok's report/integrated/get answer "
                           "({\"data\":{\"list\":[...]}}), Meta's insights ({\"data\":[...]}), a "
                           "JSON array of spend rows, or CSV");
  }
  // CSV: Touchpoint's own (date, ad_id, spend) keeps its own parser and messages.
  auto rows = ParseCsv(body.substr(0, 3) == "\xEF\xBB\xBF" ? body.substr(3) : body);
  if (!rows.ok()) return rows.status();
  if (!rows->empty()) {
    std::vector<std::string> header;
    for (const auto& cell : (*rows)[0]) header.push_back(HeaderKey(cell));
    if (FindColumn(header, {"date"}) >= 0 && FindColumn(header, {"ad_id"}) >= 0 &&
        FindColumn(header, {"impressions", "clicks", "age", "gender"}) < 0) {
      auto own = ParseSpendCsv(body);
      if (!own.ok()) return own.status();
      return SpendImport{"touchpoint", std::move(*own), {}};
    }
  }
  return ParsePlatformCsv(body);
}

}  // namespace touchpoint::ingest
