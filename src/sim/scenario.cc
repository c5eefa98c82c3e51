#include "sim/scenario.h"

#include <simdjson.h>

#include <fstream>
#include <sstream>

#include "format/json_fields.h"

namespace touchpoint::sim {

namespace {

using simdjson::dom::element;
using simdjson::dom::object;

std::string Join(std::string_view path, std::string_view key) {
  return path.empty() ? std::string(key) : std::string(path) + "." + std::string(key);
}

Status ReadProbability(element e, const std::string& path, double& out) {
  if (e.get_double().get(out)) return InvalidArgument(path, ": must be a number");
  if (!(out >= 0 && out <= 1)) return InvalidArgument(path, ": must be between 0 and 1");
  return OkStatus();
}

Status ReadNonNegative(element e, const std::string& path, double& out) {
  if (e.get_double().get(out)) return InvalidArgument(path, ": must be a number");
  if (!(out >= 0 && out <= 1e6)) return InvalidArgument(path, ": must be between 0 and 1000000");
  return OkStatus();
}

Status ReadText(element e, const std::string& path, std::string& out) {
  std::string_view s;
  if (e.get_string().get(s)) return InvalidArgument(path, ": must be a string");
  out.assign(s);
  return OkStatus();
}

Status ReadCount(element e, const std::string& path, int min, int max, int& out) {
  int64_t v;
  if (e.get_int64().get(v)) return InvalidArgument(path, ": must be an integer");
  if (v < min || v > max)
    return InvalidArgument(
        path, ": must be between " + std::to_string(min) + " and " + std::to_string(max));
  out = static_cast<int>(v);
  return OkStatus();
}

Status AsObject(element e, const std::string& path, object& out) {
  if (e.get_object().get(out)) return InvalidArgument(path, ": must be an object");
  return OkStatus();
}

Status Unknown(const std::string& path) { return InvalidArgument(path, ": unknown key"); }

Status ParseRates(object o, const std::string& path, Rates& r) {
  for (auto [key, value] : o) {
    std::string p = Join(path, key);
    if (key == "impressions_per_user_day")
      TP_RETURN_IF_ERROR(ReadNonNegative(value, p, r.impressions_per_user_day));
    else if (key == "video_play_rate")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.video_play_rate));
    else if (key == "video_completion")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.video_completion));
    else if (key == "ctr")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.ctr));
    else if (key == "landing_pageview_rate")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.landing_pageview_rate));
    else if (key == "purchase_per_click")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.purchase_per_click));
    else if (key == "lead_per_click")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.lead_per_click));
    else if (key == "view_through_visit_rate")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.view_through_visit_rate));
    else if (key == "organic_visits_per_user_day")
      TP_RETURN_IF_ERROR(ReadNonNegative(value, p, r.organic_visits_per_user_day));
    else if (key == "organic_purchase_per_visit")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.organic_purchase_per_visit));
    else if (key == "organic_lead_per_visit")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, r.organic_lead_per_visit));
    else
      return Unknown(p);
  }
  if (r.organic_purchase_per_visit + r.organic_lead_per_visit > 1)
    return InvalidArgument(path,
                           ": organic_purchase_per_visit + organic_lead_per_visit must be <= 1");
  return OkStatus();
}

Status ParseMess(object o, const std::string& path, Mess& m) {
  for (auto [key, value] : o) {
    std::string p = Join(path, key);
    if (key == "invalid_share")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, m.invalid_share));
    else if (key == "pixel_blocked_browsers")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, m.pixel_blocked_browsers));
    else if (key == "server_copy_missing")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, m.server_copy_missing));
    else if (key == "unshared_event_id")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, m.unshared_event_id));
    else if (key == "retried_batches")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, m.retried_batches));
    else if (key == "late_server_events")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, m.late_server_events));
    else if (key == "late_ad_logs")
      TP_RETURN_IF_ERROR(ReadProbability(value, p, m.late_ad_logs));
    else
      return Unknown(p);
  }
  if (m.invalid_share > 0.5)
    return InvalidArgument(Join(path, "invalid_share"), ": must be at most 0.5");
  return OkStatus();
}

bool IsAge(std::string_view a) {
  return a == "13-17" || a == "18-24" || a == "25-34" || a == "35-44" || a == "45-54" || a == "55+";
}

Status ParseEffect(object o, const std::string& path, Effect& out) {
  std::string kind;
  element k;
  if (o.at_key("effect").get(k)) return InvalidArgument(Join(path, "effect"), ": required");
  TP_RETURN_IF_ERROR(ReadText(k, Join(path, "effect"), kind));
  if (kind == "broken_landing") {
    BrokenLanding e;
    for (auto [key, value] : o) {
      std::string p = Join(path, key);
      if (key == "effect") continue;
      if (key == "ad_id")
        TP_RETURN_IF_ERROR(ReadText(value, p, e.ad_id));
      else if (key == "ctr")
        TP_RETURN_IF_ERROR(ReadProbability(value, p, e.ctr));
      else if (key == "purchase_per_click")
        TP_RETURN_IF_ERROR(ReadProbability(value, p, e.purchase_per_click));
      else
        return Unknown(p);
    }
    if (e.ad_id.empty()) return InvalidArgument(Join(path, "ad_id"), ": required");
    out = e;
  } else if (kind == "style_by_age") {
    StyleByAge e;
    for (auto [key, value] : o) {
      std::string p = Join(path, key);
      if (key == "effect") continue;
      if (key == "tag")
        TP_RETURN_IF_ERROR(ReadText(value, p, e.tag));
      else if (key == "vs")
        TP_RETURN_IF_ERROR(ReadText(value, p, e.vs));
      else if (key == "cvr_ratio_by_age") {
        object ages;
        TP_RETURN_IF_ERROR(AsObject(value, p, ages));
        for (auto [age, ratio] : ages) {
          std::string ap = Join(p, age);
          if (!IsAge(age))
            return InvalidArgument(ap,
                                   ": not an age bucket (13-17, 18-24, 25-34, 35-44, 45-54, 55+)");
          double r;
          TP_RETURN_IF_ERROR(ReadNonNegative(ratio, ap, r));
          e.cvr_ratio_by_age[std::string(age)] = r;
        }
      } else {
        return Unknown(p);
      }
    }
    if (e.tag.empty()) return InvalidArgument(Join(path, "tag"), ": required");
    out = e;
  } else if (kind == "video_length_completion") {
    VideoLengthCompletion e;
    for (auto [key, value] : o) {
      std::string p = Join(path, key);
      if (key == "effect") continue;
      if (key == "short_max_ms") {
        int v;
        TP_RETURN_IF_ERROR(ReadCount(value, p, 1, 3600000, v));
        e.short_max_ms = v;
      } else if (key == "short_completion") {
        TP_RETURN_IF_ERROR(ReadProbability(value, p, e.short_completion));
      } else if (key == "long_completion") {
        TP_RETURN_IF_ERROR(ReadProbability(value, p, e.long_completion));
      } else {
        return Unknown(p);
      }
    }
    out = e;
  } else if (kind == "region_cvr") {
    RegionCvr e;
    for (auto [key, value] : o) {
      std::string p = Join(path, key);
      if (key == "effect") continue;
      if (key == "region")
        TP_RETURN_IF_ERROR(ReadText(value, p, e.region));
      else if (key == "cvr_ratio")
        TP_RETURN_IF_ERROR(ReadNonNegative(value, p, e.cvr_ratio));
      else
        return Unknown(p);
    }
    if (e.region.empty()) return InvalidArgument(Join(path, "region"), ": required");
    out = e;
  } else {
    return InvalidArgument(Join(path, "effect"),
                           ": unknown effect '" + kind +
                               "' (known: broken_landing, style_by_age, video_length_completion, "
                               "region_cvr)");
  }
  return OkStatus();
}

}  // namespace

StatusOr<Scenario> ParseScenario(std::string_view json) {
  simdjson::dom::parser parser;
  element root;
  if (auto err = parser.parse(json.data(), json.size()).get(root))
    return format::JsonSyntaxError(err);
  object top;
  TP_RETURN_IF_ERROR(AsObject(root, "scenario", top));
  Scenario s;
  for (auto [key, value] : top) {
    std::string p(key);
    if (key == "name") {
      TP_RETURN_IF_ERROR(ReadText(value, p, s.name));
    } else if (key == "description") {
      TP_RETURN_IF_ERROR(ReadText(value, p, s.description));
    } else if (key == "defaults") {
      object o;
      TP_RETURN_IF_ERROR(AsObject(value, p, o));
      for (auto [k, v] : o) {
        std::string dp = Join(p, k);
        if (k == "users")
          TP_RETURN_IF_ERROR(ReadCount(v, dp, 1, 100000000, s.users));
        else if (k == "days")
          TP_RETURN_IF_ERROR(ReadCount(v, dp, 1, 3650, s.days));
        else if (k == "campaigns")
          TP_RETURN_IF_ERROR(ReadCount(v, dp, 1, 99, s.campaigns));
        else
          return Unknown(dp);
      }
    } else if (key == "rates") {
      object o;
      TP_RETURN_IF_ERROR(AsObject(value, p, o));
      TP_RETURN_IF_ERROR(ParseRates(o, p, s.rates));
    } else if (key == "mess") {
      object o;
      TP_RETURN_IF_ERROR(AsObject(value, p, o));
      TP_RETURN_IF_ERROR(ParseMess(o, p, s.mess));
    } else if (key == "effects") {
      simdjson::dom::array arr;
      if (value.get_array().get(arr)) return InvalidArgument(p, ": must be an array");
      size_t i = 0;
      for (element e : arr) {
        std::string ep = format::IndexPath(p, i++);
        object o;
        TP_RETURN_IF_ERROR(AsObject(e, ep, o));
        Effect effect;
        TP_RETURN_IF_ERROR(ParseEffect(o, ep, effect));
        s.effects.push_back(std::move(effect));
      }
    } else {
      return Unknown(p);
    }
  }
  if (s.name.empty()) return InvalidArgument("name", ": required");
  return s;
}

StatusOr<Scenario> LoadScenario(std::string_view name_or_path) {
  std::string_view builtin = BuiltinScenarioJson(name_or_path);
  if (!builtin.empty()) return ParseScenario(builtin);
  std::ifstream in{std::string(name_or_path), std::ios::binary};
  if (!in)
    return NotFound("scenario " + std::string(name_or_path) +
                    ": neither a built-in scenario (demo, null) nor a readable file");
  std::stringstream ss;
  ss << in.rdbuf();
  auto s = ParseScenario(ss.str());
  if (!s.ok())
    return Status(s.status().code(), std::string(name_or_path) + ": " + s.status().message());
  return s;
}

}  // namespace touchpoint::sim
