#include "ingest/ad_events.h"

#include <simdjson.h>

#include <cmath>

#include "format/json_fields.h"
#include "ingest/hashing.h"

namespace touchpoint::ingest {

using namespace format;  // JSON field access and URLs (src/format/)

bool IsAgeBucket(std::string_view age) {
  return age == "13-17" || age == "18-24" || age == "25-34" || age == "35-44" || age == "45-54" ||
         age == "55+";
}

bool IsGender(std::string_view g) { return g == "female" || g == "male" || g == "unknown"; }

namespace {

// A lift study's fields: study_id and cell go together; ghost impressions are the control
// cell's (the ads those people would have seen, not shown).
Status ParseStudy(object obj, const JsonPath& path, const IngestLimits& lim, AdEvent& ev) {
  TP_RETURN_IF_ERROR(ReadString(obj, "study_id", path, lim.max_name_bytes, ev.study_id));
  TP_RETURN_IF_ERROR(ReadString(obj, "cell", path, 16, ev.cell));
  if (!ev.cell.empty() && ev.cell != "test" && ev.cell != "control")
    return InvalidArgument(FieldPath(path, "cell"), ": must be test or control");
  if (!ev.study_id.empty() && ev.cell.empty())
    return InvalidArgument(FieldPath(path, "cell"), ": required with study_id (test or control)");
  if (ev.study_id.empty() && !ev.cell.empty())
    return InvalidArgument(FieldPath(path, "study_id"), ": required with cell");
  simdjson::dom::element ghost;
  if (obj["ghost"].get(ghost) == simdjson::SUCCESS && !ghost.is_null()) {
    bool g = false;
    if (ghost.get_bool().get(g))
      return InvalidArgument(FieldPath(path, "ghost"), ": must be true or false");
    if (g && ev.cell != "control")
      return InvalidArgument(FieldPath(path, "ghost"),
                             ": only the control cell of a study (cell: control) has ghost "
                             "impressions");
    if (g && ev.type != AdEventType::kImpression)
      return InvalidArgument(FieldPath(path, "ghost"), ": only impressions can be ghosts");
    ev.ghost = g;
  }
  return OkStatus();
}

Status ParseOne(element el, const JsonPath& path, const ParseContext& ctx, AdEvent& ev) {
  object obj;
  if (el.get_object().get(obj)) return InvalidArgument(path.str(), ": must be an object");
  const auto& lim = ctx.limits;
  std::string type;
  TP_RETURN_IF_ERROR(ReadString(obj, "type", path, 32, type));
  if (type.empty()) return InvalidArgument(FieldPath(path, "type"), ": required");
  auto t = ParseAdEventType(type);
  if (!t)
    return InvalidArgument(FieldPath(path, "type"), ": must be impression, video_play or click");
  ev.type = *t;
  TP_RETURN_IF_ERROR(ReadString(obj, "ad_id", path, lim.max_name_bytes, ev.ad_id));
  if (ev.ad_id.empty()) return InvalidArgument(FieldPath(path, "ad_id"), ": required");
  TP_RETURN_IF_ERROR(ReadString(obj, "event_id", path, lim.max_name_bytes, ev.event_id));
  std::optional<double> secs;
  TP_RETURN_IF_ERROR(ReadNumber(obj, "event_time", path, secs));
  const JsonPath tpath = path.Key("event_time");
  if (!secs) return InvalidArgument(tpath.str(), ": required (Unix seconds)");
  if (!std::isfinite(*secs) || *secs < 0 || *secs > 1e11)
    return InvalidArgument(tpath.str(), ": must be Unix seconds");
  ev.event_time_ms = static_cast<int64_t>(std::llround(*secs * 1000));
  if (ev.event_time_ms < ctx.now_ms - lim.max_event_age_ms)
    return InvalidArgument(
        tpath.str(), ": more than " + std::to_string(lim.max_event_age_ms / kDayMs) + " days old");
  if (ev.event_time_ms > ctx.now_ms + lim.max_future_skew_ms)
    return InvalidArgument(tpath.str(), ": more than " +
                                            std::to_string(lim.max_future_skew_ms / kMinuteMs) +
                                            " minutes in the future");
  TP_RETURN_IF_ERROR(ReadString(obj, "user_key", path, lim.max_name_bytes, ev.user_key));
  TP_RETURN_IF_ERROR(ReadString(obj, "click_id", path, lim.max_string_bytes, ev.click_id));
  if (ev.type == AdEventType::kClick && ev.click_id.empty())
    return InvalidArgument(FieldPath(path, "click_id"), ": required for a click");
  std::optional<int64_t> watch, video;
  TP_RETURN_IF_ERROR(ReadInt(obj, "watch_ms", path, watch));
  TP_RETURN_IF_ERROR(ReadInt(obj, "video_ms", path, video));
  if (ev.type == AdEventType::kVideoPlay) {
    if (!watch) return InvalidArgument(FieldPath(path, "watch_ms"), ": required for a video_play");
    if (*watch < 0) return InvalidArgument(FieldPath(path, "watch_ms"), ": must be >= 0");
    if (video && *video <= 0) return InvalidArgument(FieldPath(path, "video_ms"), ": must be > 0");
    ev.watch_ms = *watch;
    ev.video_ms = video.value_or(0);
  }
  std::vector<std::string> email, phone;
  TP_RETURN_IF_ERROR(ReadStringList(obj, "email", path, lim.max_string_bytes, email));
  TP_RETURN_IF_ERROR(ReadStringList(obj, "phone", path, lim.max_string_bytes, phone));
  for (const auto& e : email) {
    auto h = HashIdentifier(IdentifierKind::kEmail, e);
    if (h.empty()) return InvalidArgument(FieldPath(path, "email"), ": not a valid value");
    ev.email_sha256.push_back(std::move(h));
  }
  for (const auto& p : phone) {
    auto h = HashIdentifier(IdentifierKind::kPhone, p);
    if (h.empty()) return InvalidArgument(FieldPath(path, "phone"), ": not a valid value");
    ev.phone_sha256.push_back(std::move(h));
  }
  TP_RETURN_IF_ERROR(ReadString(obj, "age", path, 16, ev.age));
  if (!ev.age.empty() && !IsAgeBucket(ev.age))
    return InvalidArgument(FieldPath(path, "age"),
                           ": must be one of 13-17, 18-24, 25-34, 35-44, 45-54, 55+");
  TP_RETURN_IF_ERROR(ReadString(obj, "gender", path, 16, ev.gender));
  if (!ev.gender.empty() && !IsGender(ev.gender))
    return InvalidArgument(FieldPath(path, "gender"), ": must be female, male or unknown");
  TP_RETURN_IF_ERROR(ReadString(obj, "country", path, 8, ev.country));
  TP_RETURN_IF_ERROR(ReadString(obj, "region", path, lim.max_name_bytes, ev.region));
  TP_RETURN_IF_ERROR(ReadString(obj, "placement", path, lim.max_name_bytes, ev.placement));
  TP_RETURN_IF_ERROR(ReadString(obj, "os", path, lim.max_name_bytes, ev.os));
  TP_RETURN_IF_ERROR(ReadString(obj, "device", path, lim.max_name_bytes, ev.device));
  return ParseStudy(obj, path, lim, ev);
}

void Add(std::vector<ParsedAdEvent>& out, Status st, AdEvent&& ev) {
  ParsedAdEvent p;
  if (st.ok())
    p.event = std::move(ev);
  else
    p.status = std::move(st);
  out.push_back(std::move(p));
}

}  // namespace

StatusOr<std::vector<ParsedAdEvent>> ParseAdEvents(std::string_view body, const ParseContext& ctx) {
  if (body.size() > ctx.limits.max_body_bytes)
    return TooLarge("body: larger than " + std::to_string(ctx.limits.max_body_bytes) + " bytes");
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first == std::string_view::npos) return InvalidArgument("body", ": empty");
  thread_local simdjson::dom::parser parser;
  std::vector<ParsedAdEvent> out;
  if (body[first] == '[') {
    element root;
    auto error = parser.parse(body.data(), body.size(), true).get(root);
    if (error) return JsonSyntaxError(error);
    simdjson::dom::array arr;
    if (root.get_array().get(arr)) return InvalidArgument("body", ": must be a JSON array");
    if (arr.size() > ctx.limits.max_batch_events)
      return TooLarge("body: more than " + std::to_string(ctx.limits.max_batch_events) +
                      " events in one request");
    if (arr.size() == 0) return InvalidArgument("body", ": must hold at least one event");
    size_t i = 0;
    const JsonPath events("events");
    for (element el : arr) {
      AdEvent ev;
      const JsonPath path = events.Index(i++);
      Status st = ParseOne(el, path, ctx, ev);
      Add(out, std::move(st), std::move(ev));
    }
    return out;
  }
  // NDJSON: each non-empty line is one event; a malformed line is rejected alone.
  size_t line_no = 0;
  size_t pos = 0;
  const JsonPath events("events");
  while (pos < body.size()) {
    size_t nl = body.find('\n', pos);
    std::string_view line = body.substr(pos, nl == std::string_view::npos ? body.npos : nl - pos);
    pos = nl == std::string_view::npos ? body.size() : nl + 1;
    if (line.find_first_not_of(" \t\r") == std::string_view::npos) continue;
    if (out.size() >= ctx.limits.max_batch_events)
      return TooLarge("body: more than " + std::to_string(ctx.limits.max_batch_events) +
                      " events in one request");
    const JsonPath path = events.Index(line_no++);
    element el;
    auto error = parser.parse(line.data(), line.size(), true).get(el);
    AdEvent ev;
    Status st = error ? InvalidArgument(path.str(), std::string(": malformed JSON (") +
                                                        simdjson::error_message(error) + ")")
                      : ParseOne(el, path, ctx, ev);
    Add(out, std::move(st), std::move(ev));
  }
  if (out.empty()) return InvalidArgument("body", ": must hold at least one event");
  return out;
}

}  // namespace touchpoint::ingest
