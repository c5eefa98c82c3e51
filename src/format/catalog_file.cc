#include "format/catalog_file.h"

#include <simdjson.h>

#include <charconv>
#include <cmath>
#include <map>
#include <set>

#include "core/json_writer.h"
#include "core/time.h"
#include "format/json_fields.h"
#include "format/url.h"

namespace touchpoint::format {

namespace {

constexpr size_t kMaxId = 128;
constexpr size_t kMaxText = 1024;
constexpr size_t kMaxUrl = 4096;
constexpr size_t kMaxEventName = 128;  // an optimisation event's name

simdjson::dom::parser& Parser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Status ReadWindow(object o, std::string_view key, const std::string& path, int min, int max,
                  int& out) {
  std::optional<int64_t> v;
  TP_RETURN_IF_ERROR(ReadInt(o, key, path, v));
  if (!v) return OkStatus();
  if (*v < min || *v > max)
    return InvalidArgument(FieldPath(path, key), ": must be between " + std::to_string(min) +
                                                     " and " + std::to_string(max) + " days");
  out = static_cast<int>(*v);
  return OkStatus();
}

Status ParseCountMode(std::string_view s, const std::string& path, CountMode& out) {
  if (s.empty() || s == "every")
    out = CountMode::kEvery;
  else if (s == "once")
    out = CountMode::kOnce;
  else
    return InvalidArgument(path, ": must be every or once");
  return OkStatus();
}

}  // namespace

StatusOr<Catalog> ParseCatalogJson(std::string_view body) {
  element root;
  if (auto err = Parser().parse(body.data(), body.size(), true).get(root))
    return JsonSyntaxError(err);
  object top;
  if (root.get_object().get(top)) return InvalidArgument("body", ": must be a JSON object");
  simdjson::dom::array campaigns;
  element ce;
  if (top.at_key("campaigns").get(ce) || ce.get_array().get(campaigns))
    return InvalidArgument("campaigns", ": required, an array");
  Catalog cat;
  size_t ci = 0;
  for (element c : campaigns) {
    std::string cpath = IndexPath("campaigns", ci++);
    object co;
    if (c.get_object().get(co)) return InvalidArgument(cpath, ": must be an object");
    Campaign camp;
    TP_RETURN_IF_ERROR(ReadString(co, "campaign_id", cpath, kMaxId, camp.campaign_id));
    TP_RETURN_IF_ERROR(ReadString(co, "name", cpath, kMaxText, camp.name));
    TP_RETURN_IF_ERROR(
        ReadString(co, "optimization_event", cpath, kMaxEventName, camp.optimization_event));
    simdjson::dom::array groups;
    element ge;
    if (!co.at_key("adgroups").get(ge) && !ge.is_null()) {
      if (ge.get_array().get(groups))
        return InvalidArgument(FieldPath(cpath, "adgroups"), ": must be an array");
      size_t gi = 0;
      for (element g : groups) {
        std::string gpath = JsonPath(cpath).Key("adgroups").Index(gi++).str();
        object go;
        if (g.get_object().get(go)) return InvalidArgument(gpath, ": must be an object");
        AdGroup group;
        TP_RETURN_IF_ERROR(ReadString(go, "adgroup_id", gpath, kMaxId, group.adgroup_id));
        TP_RETURN_IF_ERROR(ReadString(go, "name", gpath, kMaxText, group.name));
        TP_RETURN_IF_ERROR(
            ReadWindow(go, "click_window_days", gpath, 1, 90, group.click_window_days));
        TP_RETURN_IF_ERROR(
            ReadWindow(go, "view_window_days", gpath, 0, 28, group.view_window_days));
        std::string mode;
        TP_RETURN_IF_ERROR(ReadString(go, "count_mode", gpath, 16, mode));
        TP_RETURN_IF_ERROR(ParseCountMode(mode, FieldPath(gpath, "count_mode"), group.count_mode));
        simdjson::dom::array ads;
        element ae;
        if (!go.at_key("ads").get(ae) && !ae.is_null()) {
          if (ae.get_array().get(ads))
            return InvalidArgument(FieldPath(gpath, "ads"), ": must be an array");
          size_t ai = 0;
          for (element a : ads) {
            std::string apath = JsonPath(gpath).Key("ads").Index(ai++).str();
            object ao;
            if (a.get_object().get(ao)) return InvalidArgument(apath, ": must be an object");
            Ad ad;
            TP_RETURN_IF_ERROR(ReadString(ao, "ad_id", apath, kMaxId, ad.ad_id));
            TP_RETURN_IF_ERROR(ReadString(ao, "name", apath, kMaxText, ad.name));
            TP_RETURN_IF_ERROR(ReadString(ao, "landing_url", apath, kMaxUrl, ad.landing_url));
            std::optional<object> cr;
            TP_RETURN_IF_ERROR(ReadObject(ao, "creative", apath, cr));
            if (cr) {
              std::string crpath = FieldPath(apath, "creative");
              TP_RETURN_IF_ERROR(ReadString(*cr, "format", crpath, kMaxId, ad.creative.format));
              std::optional<int64_t> vms;
              TP_RETURN_IF_ERROR(ReadInt(*cr, "video_ms", crpath, vms));
              if (vms && *vms < 0)
                return InvalidArgument(FieldPath(crpath, "video_ms"), ": must be >= 0");
              ad.creative.video_ms = vms.value_or(0);
              TP_RETURN_IF_ERROR(
                  ReadString(*cr, "call_to_action", crpath, kMaxId, ad.creative.call_to_action));
              TP_RETURN_IF_ERROR(ReadStringList(*cr, "tags", crpath, kMaxId, ad.creative.tags));
            }
            group.ads.push_back(std::move(ad));
          }
        }
        camp.adgroups.push_back(std::move(group));
      }
    }
    cat.campaigns.push_back(std::move(camp));
  }
  TP_RETURN_IF_ERROR(ValidateCatalog(cat));
  return cat;
}

StatusOr<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string field;
  bool in_quotes = false, field_started = false;
  size_t line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (in_quotes) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          field += '"';
          ++i;
        } else {
          in_quotes = false;
        }
      } else {
        if (c == '\n') ++line;
        field += c;
      }
      continue;
    }
    if (c == '"' && !field_started) {
      in_quotes = true;
      field_started = true;
    } else if (c == ',') {
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      row.push_back(std::move(field));
      field.clear();
      field_started = false;
      if (!(row.size() == 1 && row[0].empty())) rows.push_back(std::move(row));
      row.clear();
      ++line;
    } else {
      field += c;
      field_started = true;
    }
  }
  if (in_quotes)
    return Status(StatusCode::kInvalidArgument,
                  "line " + std::to_string(line) + ": unterminated quoted field");
  if (field_started || !row.empty()) {
    row.push_back(std::move(field));
    rows.push_back(std::move(row));
  }
  return rows;
}

namespace {

// Rows of a CSV file with a header, as column-name -> value maps.
struct CsvTable {
  std::vector<std::string> header;
  std::vector<std::vector<std::string>> rows;
  int Col(std::string_view name) const {
    for (size_t i = 0; i < header.size(); ++i)
      if (header[i] == name) return static_cast<int>(i);
    return -1;
  }
};

StatusOr<CsvTable> ReadTable(std::string_view text,
                             std::initializer_list<std::string_view> required) {
  auto rows = ParseCsv(text);
  if (!rows.ok()) return rows.status();
  if (rows->empty()) return InvalidArgument("line 1", ": missing header");
  CsvTable t;
  t.header = std::move((*rows)[0]);
  for (auto& h : t.header) {
    while (!h.empty() && (h.back() == ' ')) h.pop_back();
    while (!h.empty() &&
           (h.front() == ' ' || h.front() == '\xEF' || h.front() == '\xBB' || h.front() == '\xBF'))
      h.erase(0, 1);
  }
  for (auto r : required)
    if (t.Col(r) < 0) return InvalidArgument("header", ": missing column " + std::string(r));
  for (size_t i = 1; i < rows->size(); ++i) {
    if ((*rows)[i].size() != t.header.size())
      return InvalidArgument("line " + std::to_string(i + 1),
                             ": has " + std::to_string((*rows)[i].size()) + " fields, header has " +
                                 std::to_string(t.header.size()));
    t.rows.push_back(std::move((*rows)[i]));
  }
  return t;
}

std::string Get(const CsvTable& t, const std::vector<std::string>& row, std::string_view col) {
  int i = t.Col(col);
  return i < 0 ? std::string() : row[static_cast<size_t>(i)];
}

Status ParseIntField(std::string_view s, const std::string& where, int64_t min, int64_t max,
                     int64_t& out) {
  int64_t v = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc() || ptr != s.data() + s.size())
    return InvalidArgument(where, ": must be an integer");
  if (v < min || v > max)
    return InvalidArgument(
        where, ": must be between " + std::to_string(min) + " and " + std::to_string(max));
  out = v;
  return OkStatus();
}

}  // namespace

StatusOr<Catalog> ParseCatalogCsv(std::string_view body) {
  auto table = ReadTable(body, {"campaign_id", "adgroup_id", "ad_id", "landing_url"});
  if (!table.ok()) return table.status();
  Catalog cat;
  std::map<std::string, size_t> camp_idx;
  std::map<std::pair<size_t, std::string>, size_t> group_idx;
  for (size_t i = 0; i < table->rows.size(); ++i) {
    const auto& row = table->rows[i];
    std::string where = "line " + std::to_string(i + 2);
    auto get = [&](std::string_view c) { return Get(*table, row, c); };
    std::string cid = get("campaign_id");
    auto [cit, cnew] = camp_idx.emplace(cid, cat.campaigns.size());
    if (cnew)
      cat.campaigns.push_back(Campaign{.campaign_id = cid,
                                       .name = get("campaign_name"),
                                       .adgroups = {},
                                       .optimization_event = get("optimization_event")});
    Campaign& camp = cat.campaigns[cit->second];
    std::string gid = get("adgroup_id");
    auto [git, gnew] = group_idx.emplace(std::make_pair(cit->second, gid), camp.adgroups.size());
    if (gnew) {
      AdGroup g{.adgroup_id = gid, .name = get("adgroup_name")};
      int64_t v;
      if (auto s = get("click_window_days"); !s.empty()) {
        TP_RETURN_IF_ERROR(ParseIntField(s, where + ".click_window_days", 1, 90, v));
        g.click_window_days = static_cast<int>(v);
      }
      if (auto s = get("view_window_days"); !s.empty()) {
        TP_RETURN_IF_ERROR(ParseIntField(s, where + ".view_window_days", 0, 28, v));
        g.view_window_days = static_cast<int>(v);
      }
      TP_RETURN_IF_ERROR(ParseCountMode(get("count_mode"), where + ".count_mode", g.count_mode));
      camp.adgroups.push_back(std::move(g));
    }
    AdGroup& group = camp.adgroups[git->second];
    Ad ad{.ad_id = get("ad_id"), .name = get("ad_name"), .landing_url = get("landing_url")};
    ad.creative.format = get("format");
    ad.creative.call_to_action = get("call_to_action");
    if (auto s = get("video_ms"); !s.empty()) {
      int64_t v;
      TP_RETURN_IF_ERROR(ParseIntField(s, where + ".video_ms", 0, 24 * 3600 * 1000LL, v));
      ad.creative.video_ms = v;
    }
    std::string tags = get("tags");
    size_t start = 0;
    while (start <= tags.size() && !tags.empty()) {
      size_t bar = tags.find('|', start);
      std::string tag =
          tags.substr(start, bar == std::string::npos ? std::string::npos : bar - start);
      if (!tag.empty()) ad.creative.tags.push_back(tag);
      if (bar == std::string::npos) break;
      start = bar + 1;
    }
    group.ads.push_back(std::move(ad));
  }
  TP_RETURN_IF_ERROR(ValidateCatalog(cat));
  return cat;
}

StatusOr<Catalog> ParseCatalog(std::string_view body) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '{') return ParseCatalogJson(body);
  return ParseCatalogCsv(body);
}

Status ValidateCatalog(const Catalog& cat) {
  std::set<std::string_view> ads, groups, camps;
  // Text fields: valid UTF-8 and bounded, whichever file format they came from.
  auto check_text = [](std::string_view v, const std::string& where, size_t max) -> Status {
    if (v.size() > max)
      return InvalidArgument(where, ": longer than " + std::to_string(max) + " bytes");
    if (!simdjson::validate_utf8(v.data(), v.size()))
      return InvalidArgument(where, ": not valid UTF-8");
    return OkStatus();
  };
  auto check_id = [](std::string_view id, const std::string& where) -> Status {
    if (id.empty()) return InvalidArgument(where, ": required");
    if (id.size() > kMaxId) return InvalidArgument(where, ": longer than 128 bytes");
    for (unsigned char c : id)
      if (c < 0x20 || c == '/' || c == '?' || c == '#' || c == 0x7f)
        return InvalidArgument(where, ": must not hold control characters, '/', '?' or '#'");
    return OkStatus();
  };
  for (size_t ci = 0; ci < cat.campaigns.size(); ++ci) {
    const auto& c = cat.campaigns[ci];
    std::string cpath = IndexPath("campaigns", ci);
    TP_RETURN_IF_ERROR(check_id(c.campaign_id, cpath + ".campaign_id"));
    TP_RETURN_IF_ERROR(check_text(c.campaign_id, cpath + ".campaign_id", kMaxId));
    TP_RETURN_IF_ERROR(check_text(c.name, cpath + ".name", kMaxText));
    TP_RETURN_IF_ERROR(
        check_text(c.optimization_event, cpath + ".optimization_event", kMaxEventName));
    if (!camps.insert(c.campaign_id).second)
      return InvalidArgument(cpath + ".campaign_id", ": duplicate id " + c.campaign_id);
    for (size_t gi = 0; gi < c.adgroups.size(); ++gi) {
      const auto& g = c.adgroups[gi];
      std::string gpath = JsonPath(cpath).Key("adgroups").Index(gi).str();
      TP_RETURN_IF_ERROR(check_id(g.adgroup_id, gpath + ".adgroup_id"));
      TP_RETURN_IF_ERROR(check_text(g.adgroup_id, gpath + ".adgroup_id", kMaxId));
      TP_RETURN_IF_ERROR(check_text(g.name, gpath + ".name", kMaxText));
      if (!groups.insert(g.adgroup_id).second)
        return InvalidArgument(gpath + ".adgroup_id", ": duplicate id " + g.adgroup_id);
      for (size_t ai = 0; ai < g.ads.size(); ++ai) {
        const auto& a = g.ads[ai];
        std::string apath = JsonPath(gpath).Key("ads").Index(ai).str();
        TP_RETURN_IF_ERROR(check_id(a.ad_id, apath + ".ad_id"));
        TP_RETURN_IF_ERROR(check_text(a.ad_id, apath + ".ad_id", kMaxId));
        TP_RETURN_IF_ERROR(check_text(a.name, apath + ".name", kMaxText));
        TP_RETURN_IF_ERROR(check_text(a.landing_url, apath + ".landing_url", kMaxUrl));
        TP_RETURN_IF_ERROR(check_text(a.creative.format, apath + ".creative.format", kMaxId));
        TP_RETURN_IF_ERROR(
            check_text(a.creative.call_to_action, apath + ".creative.call_to_action", kMaxId));
        if (a.creative.tags.size() > 16)
          return InvalidArgument(apath + ".creative.tags", ": more than 16 values");
        for (const auto& t : a.creative.tags)
          TP_RETURN_IF_ERROR(check_text(t, apath + ".creative.tags", kMaxId));
        if (!ads.insert(a.ad_id).second)
          return InvalidArgument(apath + ".ad_id", ": duplicate id " + a.ad_id);
        if (!IsHttpUrl(a.landing_url))
          return InvalidArgument(apath + ".landing_url", ": must be an absolute http(s) URL");
      }
    }
  }
  return OkStatus();
}

StatusOr<std::vector<SpendRow>> ParseSpendCsv(std::string_view body) {
  auto table = ReadTable(body, {"date", "ad_id", "spend"});
  if (!table.ok()) return table.status();
  std::vector<SpendRow> out;
  for (size_t i = 0; i < table->rows.size(); ++i) {
    const auto& row = table->rows[i];
    std::string where = "line " + std::to_string(i + 2);
    SpendRow r;
    auto day = ParseDateMs(Get(*table, row, "date"));
    if (!day) return InvalidArgument(where + ".date", ": must be YYYY-MM-DD");
    r.day_ms = *day;
    r.ad_id = Get(*table, row, "ad_id");
    if (r.ad_id.empty()) return InvalidArgument(where + ".ad_id", ": required");
    std::string s = Get(*table, row, "spend");
    char* end = nullptr;
    r.spend = std::strtod(s.c_str(), &end);
    if (s.empty() || end != s.c_str() + s.size() || !std::isfinite(r.spend) || r.spend < 0)
      return InvalidArgument(where + ".spend", ": must be a number >= 0");
    r.currency = Get(*table, row, "currency");
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<std::vector<SpendRow>> ParseSpendJson(std::string_view body) {
  element root;
  if (auto err = Parser().parse(body.data(), body.size(), true).get(root))
    return JsonSyntaxError(err);
  simdjson::dom::array arr;
  if (root.get_array().get(arr)) return InvalidArgument("body", ": must be a JSON array");
  std::vector<SpendRow> out;
  size_t i = 0;
  for (element e : arr) {
    std::string path = IndexPath("spend", i++);
    object o;
    if (e.get_object().get(o)) return InvalidArgument(path, ": must be an object");
    SpendRow r;
    std::string date;
    TP_RETURN_IF_ERROR(ReadString(o, "date", path, 16, date));
    auto day = ParseDateMs(date);
    if (!day) return InvalidArgument(FieldPath(path, "date"), ": must be YYYY-MM-DD");
    r.day_ms = *day;
    TP_RETURN_IF_ERROR(ReadString(o, "ad_id", path, kMaxId, r.ad_id));
    if (r.ad_id.empty()) return InvalidArgument(FieldPath(path, "ad_id"), ": required");
    std::optional<double> spend;
    TP_RETURN_IF_ERROR(ReadNumber(o, "spend", path, spend));
    if (!spend || !std::isfinite(*spend) || *spend < 0)
      return InvalidArgument(FieldPath(path, "spend"), ": must be a number >= 0");
    r.spend = *spend;
    TP_RETURN_IF_ERROR(ReadString(o, "currency", path, 8, r.currency));
    out.push_back(std::move(r));
  }
  return out;
}

StatusOr<std::vector<SpendRow>> ParseSpend(std::string_view body) {
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos && body[first] == '[') return ParseSpendJson(body);
  return ParseSpendCsv(body);
}

std::string CatalogToJson(const Catalog& cat) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("campaigns").BeginArray();
  for (const auto& c : cat.campaigns) {
    w.BeginObject().Key("campaign_id").String(c.campaign_id).Key("name").String(c.name);
    w.Key("optimization_event").String(c.optimization_event);
    w.Key("adgroups").BeginArray();
    for (const auto& g : c.adgroups) {
      w.BeginObject().Key("adgroup_id").String(g.adgroup_id).Key("name").String(g.name);
      w.Key("click_window_days").Int(g.click_window_days);
      w.Key("view_window_days").Int(g.view_window_days);
      w.Key("count_mode").String(CountModeName(g.count_mode));
      w.Key("ads").BeginArray();
      for (const auto& a : g.ads) {
        w.BeginObject().Key("ad_id").String(a.ad_id).Key("name").String(a.name);
        w.Key("landing_url").String(a.landing_url);
        w.Key("creative").BeginObject();
        w.Key("format").String(a.creative.format).Key("video_ms").Int(a.creative.video_ms);
        w.Key("call_to_action").String(a.creative.call_to_action);
        w.Key("tags").BeginArray();
        for (const auto& t : a.creative.tags) w.String(t);
        w.EndArray().EndObject().EndObject();
      }
      w.EndArray().EndObject();
    }
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return out;
}

}  // namespace touchpoint::format
