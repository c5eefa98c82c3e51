#include "ingest/events_api.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cmath>

#include "core/utf8.h"
#include "format/json_fields.h"
#include "format/url.h"
#include "ingest/hashing.h"
#include "ingest/ip.h"
#include "ingest/scrub.h"

namespace touchpoint::ingest {

using namespace format;  // JSON field access and URLs (src/format/)

size_t ParsedEventBatch::RejectedCount() const {
  size_t n = 0;
  for (const auto& e : events) n += !e.status.ok();
  return n;
}

const Status* ParsedEventBatch::FirstError() const {
  for (const auto& e : events)
    if (!e.status.ok()) return &e.status;
  return nullptr;
}

std::vector<std::string> ParsedEventBatch::Warnings(size_t max) const {
  std::vector<std::string> out;
  size_t total = warnings.size();
  for (const auto& e : events) total += e.warnings.size();
  auto add = [&](const std::vector<std::string>& from) {
    for (const auto& w : from)
      if (out.size() < max) out.push_back(w);
  };
  add(warnings);
  for (const auto& e : events) add(e.warnings);
  if (total > out.size())
    out.push_back("... and " + std::to_string(total - out.size()) + " more warnings");
  return out;
}

namespace {

using simdjson::dom::array;

simdjson::dom::parser& ThreadParser() {
  thread_local simdjson::dom::parser parser;
  return parser;
}

Status CheckEventTime(int64_t ms, const JsonPath& path, const ParseContext& ctx) {
  if (ms < ctx.now_ms - ctx.limits.max_event_age_ms)
    return InvalidArgument(
        path.str(),
        ": more than " + std::to_string(ctx.limits.max_event_age_ms / kDayMs) + " days old");
  if (ms > ctx.now_ms + ctx.limits.max_future_skew_ms)
    return InvalidArgument(
        path.str(), ": more than " + std::to_string(ctx.limits.max_future_skew_ms / kMinuteMs) +
                        " minutes in the future");
  return OkStatus();
}

using Warnings = std::vector<std::string>;

// Each key of `obj` that is not in `known` is accepted, not stored, and said so.
void WarnUnknown(object obj, const JsonPath& path, std::initializer_list<std::string_view> known,
                 Warnings& out) {
  for (auto field : obj) {
    std::string_view key = field.key;
    if (std::find(known.begin(), known.end(), key) != known.end()) continue;
    out.push_back(FieldPath(path, ValidUtf8Prefix(key, 64)) +
                  ": not stored (not a field Touchpoint keeps)");
  }
}

// An id TikTok documents as a string that clients also send as a JSON integer (offline event
// set ids, lead ids, app ids): the digits of an integer are kept as the string.
Status ReadIdString(object obj, std::string_view key, const JsonPath& path, size_t max_len,
                    std::string& out) {
  element e;
  if (obj.at_key(key).get(e) || e.is_null()) return OkStatus();
  uint64_t u;
  int64_t i;
  if (!e.get_uint64().get(u)) {
    out = std::to_string(u);
    return OkStatus();
  }
  if (!e.get_int64().get(i)) {
    out = std::to_string(i);
    return OkStatus();
  }
  if (e.is_double())
    return InvalidArgument(FieldPath(path, key),
                           ": must be a string (as a number this large it loses digits)");
  return ReadString(obj, key, path, max_len, out);
}

// One advanced-matching address field (user.first_name, ...): normalized and hashed. A value
// that normalizes to nothing (a country that is not an ISO code) is not stored, with a warning.
Status ReadHashedField(object obj, std::string_view key, IdentifierKind kind, const JsonPath& path,
                       size_t max_len, std::string& out, Warnings& warnings) {
  std::string clear;
  TP_RETURN_IF_ERROR(ReadString(obj, key, path, max_len, clear));
  if (clear.empty()) return OkStatus();
  out = HashIdentifier(kind, clear);
  if (out.empty())
    warnings.push_back(FieldPath(path, key) + ": not stored (" +
                       (kind == IdentifierKind::kCountry ? "not an ISO 3166-1 alpha-2 code like US"
                                                         : "nothing left after normalization") +
                       ")");
  return OkStatus();
}

Status HashList(const std::vector<std::string>& clear, IdentifierKind kind, const JsonPath& path,
                std::vector<std::string>& out) {
  for (const auto& v : clear) {
    std::string h = HashIdentifier(kind, v);
    if (h.empty()) return InvalidArgument(path.str(), ": not a valid value");
    out.push_back(std::move(h));
  }
  return OkStatus();
}

bool IsCurrencyCode(std::string_view c) {
  if (c.size() != 3) return false;
  for (char ch : c)
    if (ch < 'A' || ch > 'Z') return false;
  return true;
}

// A limit as people write it: 1000000000, not 1e+09.
std::string FormatLimit(double v) {
  char buf[400];  // the longest fixed form of a double
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::fixed);
  return std::string(buf, res.ptr);
}

// A money amount (value, price): finite, not negative, at most the pixel's max_value. `what`
// is the field's rendered path.
Status CheckAmount(double v, std::string_view what, const IngestLimits& lim) {
  if (!std::isfinite(v) || v < 0) return InvalidArgument(what, ": must be a finite number >= 0");
  if (v > lim.max_value)
    return InvalidArgument(what, ": must be at most " + FormatLimit(lim.max_value));
  return OkStatus();
}

Status ReadAmount(object obj, std::string_view key, const JsonPath& path, const IngestLimits& lim,
                  std::optional<double>& out) {
  TP_RETURN_IF_ERROR(ReadNumber(obj, key, path, out));
  return out ? CheckAmount(*out, FieldPath(path, key), lim) : OkStatus();
}

Status ReadQuantity(object obj, const JsonPath& path, const IngestLimits& lim,
                    std::optional<int64_t>& out) {
  TP_RETURN_IF_ERROR(ReadInt(obj, "quantity", path, out));
  if (out && (*out < 0 || *out > lim.max_quantity))
    return InvalidArgument(FieldPath(path, "quantity"),
                           ": must be an integer from 0 to " + std::to_string(lim.max_quantity));
  return OkStatus();
}

// An IP address field (user.ip, context.ip): stored truncated, and only when it is an address.
Status ReadIp(object obj, const JsonPath& path, const ParseContext& ctx, std::string& out) {
  std::string text;
  TP_RETURN_IF_ERROR(ReadString(obj, "ip", path, ctx.limits.max_name_bytes, text));
  if (text.empty()) return OkStatus();
  out = TruncateIp(text);
  if (out.empty()) return InvalidArgument(FieldPath(path, "ip"), ": not an IP address");
  return OkStatus();
}

// Events API 2.0 `user` object (also the beacon's).
Status ParseUser(object user, const JsonPath& path, const ParseContext& ctx, UserKeys& out,
                 Warnings& warnings) {
  const auto& lim = ctx.limits;
  TP_RETURN_IF_ERROR(ReadString(user, "ttclid", path, lim.max_string_bytes, out.ttclid));
  TP_RETURN_IF_ERROR(ReadString(user, "ttp", path, lim.max_name_bytes, out.ttp));
  std::vector<std::string> email, phone, external;
  TP_RETURN_IF_ERROR(ReadStringList(user, "email", path, lim.max_string_bytes, email));
  TP_RETURN_IF_ERROR(ReadStringList(user, "sha256_email", path, lim.max_string_bytes, email));
  TP_RETURN_IF_ERROR(ReadStringList(user, "phone", path, lim.max_string_bytes, phone));
  TP_RETURN_IF_ERROR(ReadStringList(user, "phone_number", path, lim.max_string_bytes, phone));
  TP_RETURN_IF_ERROR(
      ReadStringList(user, "sha256_phone_number", path, lim.max_string_bytes, phone));
  TP_RETURN_IF_ERROR(ReadStringList(user, "external_id", path, lim.max_string_bytes, external));
  TP_RETURN_IF_ERROR(HashList(email, IdentifierKind::kEmail, path.Key("email"), out.email_sha256));
  TP_RETURN_IF_ERROR(HashList(phone, IdentifierKind::kPhone, path.Key("phone"), out.phone_sha256));
  TP_RETURN_IF_ERROR(HashList(external, IdentifierKind::kExternalId, path.Key("external_id"),
                              out.external_id_sha256));
  TP_RETURN_IF_ERROR(ReadIp(user, path, ctx, out.ip));
  TP_RETURN_IF_ERROR(ReadString(user, "user_agent", path, lim.max_string_bytes, out.user_agent));
  TP_RETURN_IF_ERROR(ReadString(user, "locale", path, lim.max_name_bytes, out.locale));
  const size_t max = lim.max_name_bytes;
  TP_RETURN_IF_ERROR(ReadHashedField(user, "first_name", IdentifierKind::kFirstName, path, max,
                                     out.first_name_sha256, warnings));
  TP_RETURN_IF_ERROR(ReadHashedField(user, "last_name", IdentifierKind::kLastName, path, max,
                                     out.last_name_sha256, warnings));
  TP_RETURN_IF_ERROR(ReadHashedField(user, "zip_code", IdentifierKind::kZipCode, path, max,
                                     out.zip_code_sha256, warnings));
  TP_RETURN_IF_ERROR(
      ReadHashedField(user, "city", IdentifierKind::kCity, path, max, out.city_sha256, warnings));
  TP_RETURN_IF_ERROR(ReadHashedField(user, "state", IdentifierKind::kState, path, max,
                                     out.state_sha256, warnings));
  TP_RETURN_IF_ERROR(ReadHashedField(user, "country", IdentifierKind::kCountry, path, max,
                                     out.country_sha256, warnings));
  WarnUnknown(user, path,
              {"ttclid", "ttp", "email", "sha256_email", "phone", "phone_number",
               "sha256_phone_number", "external_id", "ip", "user_agent", "locale", "first_name",
               "last_name", "zip_code", "city", "state", "country"},
              warnings);
  return OkStatus();
}

Status ParseContents(object props, const JsonPath& path, const ParseContext& ctx,
                     std::vector<ContentItem>& out, Warnings& warnings) {
  element e;
  if (props.at_key("contents").get(e) || e.is_null()) return OkStatus();
  const JsonPath cpath = path.Key("contents");
  array arr;
  if (e.get_array().get(arr)) return InvalidArgument(cpath.str(), ": must be an array");
  size_t i = 0;
  for (element item : arr) {
    const JsonPath ipath = cpath.Index(i);
    if (i >= ctx.limits.max_contents)
      return InvalidArgument(cpath.str(),
                             ": more than " + std::to_string(ctx.limits.max_contents) + " items");
    object o;
    if (item.get_object().get(o)) return InvalidArgument(ipath.str(), ": must be an object");
    ContentItem c;
    size_t max = ctx.limits.max_string_bytes;
    TP_RETURN_IF_ERROR(ReadString(o, "content_id", ipath, max, c.content_id));
    TP_RETURN_IF_ERROR(ReadString(o, "content_name", ipath, max, c.content_name));
    TP_RETURN_IF_ERROR(ReadString(o, "content_category", ipath, max, c.content_category));
    TP_RETURN_IF_ERROR(ReadString(o, "content_type", ipath, max, c.content_type));
    TP_RETURN_IF_ERROR(ReadString(o, "brand", ipath, max, c.brand));
    TP_RETURN_IF_ERROR(ReadAmount(o, "price", ipath, ctx.limits, c.price));
    TP_RETURN_IF_ERROR(ReadQuantity(o, ipath, ctx.limits, c.quantity));
    WarnUnknown(o, ipath,
                {"content_id", "content_name", "content_category", "content_type", "brand", "price",
                 "quantity"},
                warnings);
    out.push_back(std::move(c));
    ++i;
  }
  return OkStatus();
}

Status ParseProperties(object props, const JsonPath& path, const ParseContext& ctx, SiteEvent& ev,
                       Warnings& warnings) {
  size_t max = ctx.limits.max_string_bytes;
  TP_RETURN_IF_ERROR(ReadAmount(props, "value", path, ctx.limits, ev.value));
  TP_RETURN_IF_ERROR(ReadString(props, "currency", path, 8, ev.currency));
  if (!ev.currency.empty() && !IsCurrencyCode(ev.currency))
    return InvalidArgument(FieldPath(path, "currency"),
                           ": must be an ISO 4217 code in capitals, like USD");
  TP_RETURN_IF_ERROR(ReadString(props, "order_id", path, ctx.limits.max_name_bytes, ev.order_id));
  TP_RETURN_IF_ERROR(ReadString(props, "content_type", path, max, ev.content_type));
  TP_RETURN_IF_ERROR(ReadString(props, "query", path, max, ev.query));
  TP_RETURN_IF_ERROR(ReadString(props, "description", path, max, ev.description));
  TP_RETURN_IF_ERROR(ReadIdString(props, "shop_id", path, ctx.limits.max_name_bytes, ev.shop_id));
  TP_RETURN_IF_ERROR(ReadInt(props, "num_items", path, ev.num_items));
  if (ev.num_items && (*ev.num_items < 0 || *ev.num_items > ctx.limits.max_quantity))
    return InvalidArgument(
        FieldPath(path, "num_items"),
        ": must be an integer from 0 to " + std::to_string(ctx.limits.max_quantity));
  TP_RETURN_IF_ERROR(ReadAmount(props, "predicted_ltv", path, ctx.limits, ev.predicted_ltv));
  TP_RETURN_IF_ERROR(ParseContents(props, path, ctx, ev.contents, warnings));
  // The single-item shortcut: top-level content_id etc.
  ContentItem single;
  TP_RETURN_IF_ERROR(ReadString(props, "content_id", path, max, single.content_id));
  if (!single.content_id.empty()) {
    TP_RETURN_IF_ERROR(ReadString(props, "content_name", path, max, single.content_name));
    TP_RETURN_IF_ERROR(ReadString(props, "content_category", path, max, single.content_category));
    TP_RETURN_IF_ERROR(ReadAmount(props, "price", path, ctx.limits, single.price));
    TP_RETURN_IF_ERROR(ReadQuantity(props, path, ctx.limits, single.quantity));
    ev.contents.push_back(std::move(single));
  } else {
    // The shortcut's other fields describe an item only together with its content_id.
    for (std::string_view key : {"content_name", "content_category", "price", "quantity"})
      if (element e; !props.at_key(key).get(e) && !e.is_null())
        warnings.push_back(FieldPath(path, key) + ": not stored (an item needs content_id)");
  }
  WarnUnknown(props, path,
              {"value", "currency", "order_id", "content_type", "query", "description", "contents",
               "content_id", "content_name", "content_category", "price", "quantity", "shop_id",
               "num_items", "predicted_ltv"},
              warnings);
  if (!ev.value) {
    // As TikTok's own server template does: value = sum of price x quantity when missing.
    double sum = 0;
    bool any = false;
    for (const auto& c : ev.contents) {
      if (c.price) {
        sum += *c.price * static_cast<double>(c.quantity.value_or(1));
        any = true;
      }
    }
    if (any) {
      // Each price and quantity is bounded, so the sum is finite; it is bounded like a value.
      if (sum > ctx.limits.max_value)
        return InvalidArgument(
            FieldPath(path, "contents"),
            ": price x quantity sums to more than " + FormatLimit(ctx.limits.max_value));
      ev.value = sum;
    }
  }
  return OkStatus();
}

Status ParsePage(object page, const JsonPath& path, const ParseContext& ctx, SiteEvent& ev,
                 Warnings& warnings) {
  TP_RETURN_IF_ERROR(ReadString(page, "url", path, ctx.limits.max_url_bytes, ev.page_url));
  TP_RETURN_IF_ERROR(
      ReadString(page, "referrer", path, ctx.limits.max_url_bytes, ev.page_referrer));
  WarnUnknown(page, path, {"url", "referrer"}, warnings);
  return OkStatus();
}

// ad.callback is a click id (Events API 1.0's context.ad.callback became 2.0's user.ttclid):
// it fills user.ttclid when that is missing. The other ad fields are the sender's own
// attribution, which Touchpoint computes itself: not stored, with a warning each.
Status ParseAd(object ad, const JsonPath& path, const ParseContext& ctx, SiteEvent& ev,
               Warnings& warnings) {
  std::string callback;
  TP_RETURN_IF_ERROR(ReadString(ad, "callback", path, ctx.limits.max_string_bytes, callback));
  if (!callback.empty()) {
    if (ev.user.ttclid.empty())
      ev.user.ttclid = std::move(callback);
    else if (ev.user.ttclid != callback)
      warnings.push_back(FieldPath(path, "callback") +
                         ": not stored (differs from user.ttclid, which is kept)");
  }
  WarnUnknown(ad, path, {"callback"}, warnings);
  return OkStatus();
}

Status ParseLead(object lead, const JsonPath& path, const ParseContext& ctx, SiteEvent& ev,
                 Warnings& warnings) {
  const size_t max = ctx.limits.max_name_bytes;
  TP_RETURN_IF_ERROR(ReadIdString(lead, "lead_id", path, max, ev.lead_id));
  TP_RETURN_IF_ERROR(ReadString(lead, "lead_event_source", path, max, ev.lead_event_source));
  WarnUnknown(lead, path, {"lead_id", "lead_event_source"}, warnings);
  return OkStatus();
}

Status ParseApp(object app, const JsonPath& path, const ParseContext& ctx, SiteEvent& ev,
                Warnings& warnings) {
  const size_t max = ctx.limits.max_name_bytes;
  TP_RETURN_IF_ERROR(ReadIdString(app, "app_id", path, max, ev.app_id));
  TP_RETURN_IF_ERROR(ReadString(app, "app_name", path, max, ev.app_name));
  TP_RETURN_IF_ERROR(ReadString(app, "app_version", path, max, ev.app_version));
  WarnUnknown(app, path, {"app_id", "app_name", "app_version"}, warnings);
  return OkStatus();
}

Status ParseDevice(object device, const JsonPath& path, const ParseContext& ctx, SiteEvent& ev,
                   Warnings& warnings) {
  const size_t max = ctx.limits.max_name_bytes;
  TP_RETURN_IF_ERROR(ReadString(device, "platform", path, max, ev.device_platform));
  TP_RETURN_IF_ERROR(ReadString(device, "model", path, max, ev.device_model));
  element e;
  if (!device.at_key("mobile").get(e) && !e.is_null()) {
    bool b;
    if (e.get_bool().get(b))
      return InvalidArgument(FieldPath(path, "mobile"), ": must be true or false");
    ev.device_mobile = b;
  }
  WarnUnknown(device, path, {"platform", "model", "mobile"}, warnings);
  return OkStatus();
}

Status ReadEventName(object obj, const JsonPath& path, const ParseContext& ctx, std::string& out) {
  TP_RETURN_IF_ERROR(ReadString(obj, "event", path, ctx.limits.max_name_bytes, out));
  if (out.empty()) return InvalidArgument(FieldPath(path, "event"), ": required");
  return OkStatus();
}

enum class TimeRule { kUnixSecondsRequired, kServerTime };

// One Events API 2.0 data[] element (or a beacon event).
Status ParseEvent2(element el, const JsonPath& path, const ParseContext& ctx, TimeRule rule,
                   SiteEvent& ev, Warnings& warnings) {
  object obj;
  if (el.get_object().get(obj)) return InvalidArgument(path.str(), ": must be an object");
  TP_RETURN_IF_ERROR(ReadEventName(obj, path, ctx, ev.event));
  TP_RETURN_IF_ERROR(ReadString(obj, "event_id", path, ctx.limits.max_name_bytes, ev.event_id));
  if (rule == TimeRule::kUnixSecondsRequired) {
    const JsonPath tpath = path.Key("event_time");
    element t;
    if (obj.at_key("event_time").get(t) || t.is_null())
      return InvalidArgument(tpath.str(), ": required (Unix seconds)");
    int64_t secs;
    if (t.get_int64().get(secs)) {
      std::string_view s;
      if (!t.get_string().get(s)) {
        // Some clients send the seconds as a string; accept digits only.
        if (s.empty() || s.size() > 12 || s.find_first_not_of("0123456789") != s.npos)
          return InvalidArgument(tpath.str(), ": must be Unix seconds");
        secs = std::stoll(std::string(s));
      } else {
        return InvalidArgument(tpath.str(), ": must be Unix seconds");
      }
    }
    if (secs < 0)
      return InvalidArgument(tpath.str(), ": must be Unix seconds");  // secs * 1000 overflows
    if (secs > 100'000'000'000LL)
      return InvalidArgument(tpath.str(), ": must be Unix seconds (this looks like milliseconds)");
    ev.event_time_ms = secs * 1000;
    TP_RETURN_IF_ERROR(CheckEventTime(ev.event_time_ms, tpath, ctx));
  } else {
    ev.event_time_ms = ctx.now_ms;
  }
  std::optional<object> sub;
  TP_RETURN_IF_ERROR(ReadObject(obj, "user", path, sub));
  if (sub) TP_RETURN_IF_ERROR(ParseUser(*sub, path.Key("user"), ctx, ev.user, warnings));
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(obj, "properties", path, sub));
  if (sub) TP_RETURN_IF_ERROR(ParseProperties(*sub, path.Key("properties"), ctx, ev, warnings));
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(obj, "page", path, sub));
  if (sub) TP_RETURN_IF_ERROR(ParsePage(*sub, path.Key("page"), ctx, ev, warnings));
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(obj, "ad", path, sub));
  if (sub) TP_RETURN_IF_ERROR(ParseAd(*sub, path.Key("ad"), ctx, ev, warnings));
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(obj, "lead", path, sub));
  if (sub) TP_RETURN_IF_ERROR(ParseLead(*sub, path.Key("lead"), ctx, ev, warnings));
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(obj, "app", path, sub));
  if (sub) TP_RETURN_IF_ERROR(ParseApp(*sub, path.Key("app"), ctx, ev, warnings));
  sub.reset();
  TP_RETURN_IF_ERROR(ReadObject(obj, "device", path, sub));
  if (sub) TP_RETURN_IF_ERROR(ParseDevice(*sub, path.Key("device"), ctx, ev, warnings));
  element ldu;
  if (!obj.at_key("limited_data_use").get(ldu) && !ldu.is_null()) {
    bool b;
    if (ldu.get_bool().get(b))
      return InvalidArgument(FieldPath(path, "limited_data_use"), ": must be true or false");
    ev.limited_data_use = b;
  }
  // The beacon's single event sits at the body's root, beside its pixel_id.
  WarnUnknown(obj, path,
              {"event", "event_id", "event_time", "user", "properties", "page", "ad", "lead", "app",
               "device", "limited_data_use",
               rule == TimeRule::kServerTime ? std::string_view("pixel_id") : "event"},
              warnings);
  if (ev.user.ttclid.empty() && !ev.page_url.empty()) {
    // The click id often only travels in the landing URL.
    if (auto id = QueryParamOf(ev.page_url, "ttclid");
        id && id->size() <= ctx.limits.max_string_bytes)
      ev.user.ttclid = *id;
  }
  return OkStatus();
}

StatusOr<element> ParseBody(std::string_view body, const ParseContext& ctx) {
  if (body.size() > ctx.limits.max_body_bytes)
    return TooLarge("body: larger than " + std::to_string(ctx.limits.max_body_bytes) + " bytes");
  element root;
  auto error = ThreadParser().parse(body.data(), body.size(), true).get(root);
  if (error) return JsonSyntaxError(error);
  return root;
}

Status ReadPixelId(object obj, std::string_view key, std::string& out) {
  element e;
  if (obj.at_key(key).get(e) || e.is_null()) return InvalidArgument(key, ": required");
  // Offline event sets have numeric ids ("7291234567890123456"), which some clients send as
  // a JSON integer: its digits are the id.
  uint64_t n;
  if (!e.get_uint64().get(n)) {
    out = std::to_string(n);
    return OkStatus();
  }
  std::string_view s;
  if (e.get_string().get(s))
    return InvalidArgument(key, e.is_double() ? ": must be a string (as a number this large it "
                                                "loses digits)"
                                              : ": must be a string");
  if (s.empty() || s.size() > 128) return InvalidArgument(key, ": must be a pixel id");
  out.assign(s);
  return OkStatus();
}

StatusOr<array> ReadEventArray(object obj, std::string_view key, const ParseContext& ctx) {
  element e;
  if (obj.at_key(key).get(e) || e.is_null()) return InvalidArgument(key, ": required");
  array arr;
  if (e.get_array().get(arr)) return InvalidArgument(key, ": must be an array");
  size_t n = arr.size();
  if (n == 0) return InvalidArgument(key, ": must hold at least one event");
  if (n > ctx.limits.max_batch_events)
    return TooLarge(std::string(key) + ": more than " +
                    std::to_string(ctx.limits.max_batch_events) + " events in one request");
  return arr;
}

void Finish(ParsedEventBatch& batch, Status st, SiteEvent&& ev, Warnings&& warnings = {}) {
  ParsedEvent& pe = batch.events.emplace_back();  // in place: an event is big to move
  if (st.ok()) {
    ScrubEvent(ev);  // every parser's events pass here before they can be stored
    ev.pixel_id = batch.pixel_id;
    ev.test_event_code = batch.test_event_code;
    ev.partner_name = batch.partner_name;
    pe.warnings = std::move(warnings);
    if (ev.source.empty()) ev.source = batch.event_source;
    pe.event.emplace(std::move(ev));
  } else {
    pe.status = std::move(st);
  }
}

}  // namespace

StatusOr<ParsedEventBatch> ParseEventsApi2(std::string_view body, const ParseContext& ctx) {
  auto root = ParseBody(body, ctx);
  if (!root.ok()) return root.status();
  object obj;
  if (root->get_object().get(obj)) return InvalidArgument("body", ": must be a JSON object");
  ParsedEventBatch batch;
  TP_RETURN_IF_ERROR(ReadPixelId(obj, "event_source_id", batch.pixel_id));
  batch.event_source = "web";
  TP_RETURN_IF_ERROR(ReadString(obj, "event_source", "", 16, batch.event_source));
  if (batch.event_source != "web" && batch.event_source != "app" &&
      batch.event_source != "offline" && batch.event_source != "crm")
    return InvalidArgument("event_source", ": must be one of web, app, offline, crm");
  TP_RETURN_IF_ERROR(ReadString(obj, "test_event_code", "", 128, batch.test_event_code));
  TP_RETURN_IF_ERROR(ReadString(obj, "partner_name", "", 128, batch.partner_name));
  WarnUnknown(obj, "",
              {"event_source", "event_source_id", "test_event_code", "partner_name", "data"},
              batch.warnings);
  auto arr = ReadEventArray(obj, "data", ctx);
  if (!arr.ok()) return arr.status();
  batch.events.reserve(arr->size());
  size_t i = 0;
  const JsonPath root_path("data");
  for (element el : *arr) {
    const JsonPath path = root_path.Index(i++);
    SiteEvent ev;
    Warnings warnings;
    Status st = ParseEvent2(el, path, ctx, TimeRule::kUnixSecondsRequired, ev, warnings);
    Finish(batch, std::move(st), std::move(ev), std::move(warnings));
  }
  return batch;
}

namespace {

// Events API 1.0 event: {event, event_id, timestamp (ISO 8601), context{...}, properties{...}}.
// `event_is_body`: the event's keys sit beside the body's own (/pixel/track/).
Status ParseEvent1(object obj, const JsonPath& path, const ParseContext& ctx, SiteEvent& ev,
                   Warnings& warnings, bool event_is_body) {
  TP_RETURN_IF_ERROR(ReadEventName(obj, path, ctx, ev.event));
  TP_RETURN_IF_ERROR(ReadString(obj, "event_id", path, ctx.limits.max_name_bytes, ev.event_id));
  std::string ts;
  TP_RETURN_IF_ERROR(ReadString(obj, "timestamp", path, 64, ts));
  if (ts.empty()) {
    ev.event_time_ms = ctx.now_ms;  // TikTok uses its receive time when timestamp is missing
  } else {
    auto ms = ParseIso8601Ms(ts);
    if (!ms)
      return InvalidArgument(FieldPath(path, "timestamp"),
                             ": must be ISO 8601 with a zone, like 2024-05-01T12:00:00Z");
    ev.event_time_ms = *ms;
    TP_RETURN_IF_ERROR(CheckEventTime(ev.event_time_ms, path.Key("timestamp"), ctx));
  }
  std::optional<object> context;
  TP_RETURN_IF_ERROR(ReadObject(obj, "context", path, context));
  if (context) {
    const JsonPath cpath = path.Key("context");
    std::optional<object> sub;
    TP_RETURN_IF_ERROR(ReadObject(*context, "ad", cpath, sub));
    if (sub) {
      TP_RETURN_IF_ERROR(ReadString(*sub, "callback", cpath.Key("ad"), ctx.limits.max_string_bytes,
                                    ev.user.ttclid));
      WarnUnknown(*sub, cpath.Key("ad"), {"callback"}, warnings);
    }
    sub.reset();
    TP_RETURN_IF_ERROR(ReadObject(*context, "page", cpath, sub));
    if (sub) TP_RETURN_IF_ERROR(ParsePage(*sub, cpath.Key("page"), ctx, ev, warnings));
    sub.reset();
    TP_RETURN_IF_ERROR(ReadObject(*context, "user", cpath, sub));
    if (sub) TP_RETURN_IF_ERROR(ParseUser(*sub, cpath.Key("user"), ctx, ev.user, warnings));
    TP_RETURN_IF_ERROR(ReadIp(*context, cpath, ctx, ev.user.ip));
    TP_RETURN_IF_ERROR(
        ReadString(*context, "user_agent", cpath, ctx.limits.max_string_bytes, ev.user.user_agent));
    WarnUnknown(*context, cpath, {"ad", "page", "user", "ip", "user_agent"}, warnings);
  }
  std::optional<object> props;
  TP_RETURN_IF_ERROR(ReadObject(obj, "properties", path, props));
  if (props) TP_RETURN_IF_ERROR(ParseProperties(*props, path.Key("properties"), ctx, ev, warnings));
  if (event_is_body)
    WarnUnknown(obj, path,
                {"pixel_code", "test_event_code", "partner_name", "event", "event_id", "timestamp",
                 "context", "properties"},
                warnings);
  else
    WarnUnknown(obj, path, {"type", "event", "event_id", "timestamp", "context", "properties"},
                warnings);
  if (ev.user.ttclid.empty() && !ev.page_url.empty())
    if (auto id = QueryParamOf(ev.page_url, "ttclid")) ev.user.ttclid = *id;
  return OkStatus();
}

}  // namespace

StatusOr<ParsedEventBatch> ParseEventsApi1Track(std::string_view body, const ParseContext& ctx) {
  auto root = ParseBody(body, ctx);
  if (!root.ok()) return root.status();
  object obj;
  if (root->get_object().get(obj)) return InvalidArgument("body", ": must be a JSON object");
  ParsedEventBatch batch;
  TP_RETURN_IF_ERROR(ReadPixelId(obj, "pixel_code", batch.pixel_id));
  batch.event_source = "web";
  TP_RETURN_IF_ERROR(ReadString(obj, "test_event_code", "", 128, batch.test_event_code));
  TP_RETURN_IF_ERROR(ReadString(obj, "partner_name", "", 128, batch.partner_name));
  SiteEvent ev;
  Warnings warnings;
  Status st = ParseEvent1(obj, "", ctx, ev, warnings, true);
  Finish(batch, std::move(st), std::move(ev), std::move(warnings));
  return batch;
}

StatusOr<ParsedEventBatch> ParseEventsApi1Batch(std::string_view body, const ParseContext& ctx) {
  auto root = ParseBody(body, ctx);
  if (!root.ok()) return root.status();
  object obj;
  if (root->get_object().get(obj)) return InvalidArgument("body", ": must be a JSON object");
  ParsedEventBatch batch;
  TP_RETURN_IF_ERROR(ReadPixelId(obj, "pixel_code", batch.pixel_id));
  batch.event_source = "web";
  TP_RETURN_IF_ERROR(ReadString(obj, "test_event_code", "", 128, batch.test_event_code));
  TP_RETURN_IF_ERROR(ReadString(obj, "partner_name", "", 128, batch.partner_name));
  WarnUnknown(obj, "", {"pixel_code", "test_event_code", "partner_name", "batch"}, batch.warnings);
  auto arr = ReadEventArray(obj, "batch", ctx);
  if (!arr.ok()) return arr.status();
  batch.events.reserve(arr->size());
  size_t i = 0;
  const JsonPath root_path("batch");
  for (element el : *arr) {
    const JsonPath path = root_path.Index(i++);
    SiteEvent ev;
    Warnings warnings;
    object eo;
    Status st = el.get_object().get(eo) ? InvalidArgument(path.str(), ": must be an object")
                                        : ParseEvent1(eo, path, ctx, ev, warnings, false);
    Finish(batch, std::move(st), std::move(ev), std::move(warnings));
  }
  return batch;
}

StatusOr<ParsedEventBatch> ParsePixelBeacon(std::string_view body, const ParseContext& ctx) {
  auto root = ParseBody(body, ctx);
  if (!root.ok()) return root.status();
  object obj;
  if (root->get_object().get(obj)) return InvalidArgument("body", ": must be a JSON object");
  ParsedEventBatch batch;
  TP_RETURN_IF_ERROR(ReadPixelId(obj, "pixel_id", batch.pixel_id));
  batch.event_source = "pixel";
  element events;
  if (!obj.at_key("events").get(events) && !events.is_null()) {
    auto arr = ReadEventArray(obj, "events", ctx);
    if (!arr.ok()) return arr.status();
    batch.events.reserve(arr->size());
    size_t i = 0;
    const JsonPath root_path("events");
    for (element el : *arr) {
      const JsonPath path = root_path.Index(i++);
      SiteEvent ev;
      Warnings warnings;
      Status st = ParseEvent2(el, path, ctx, TimeRule::kServerTime, ev, warnings);
      Finish(batch, std::move(st), std::move(ev), std::move(warnings));
    }
  } else {
    SiteEvent ev;
    Warnings warnings;
    Status st = ParseEvent2(*root, "", ctx, TimeRule::kServerTime, ev, warnings);
    Finish(batch, std::move(st), std::move(ev), std::move(warnings));
  }
  return batch;
}

StatusOr<ParsedEventBatch> ParsePixelQuery(std::string_view query, const ParseContext& ctx) {
  if (query.size() > 16 * 1024) return TooLarge("query: longer than 16384 bytes");
  auto pairs = ParseQuery(query);
  if (!pairs) return InvalidArgument("query", ": malformed percent-encoding");
  // Decoded escapes can spell any bytes ("%FF"): every name and value must be text. A name that
  // is not cannot be echoed in the error (it would carry the bad bytes into the answer, the
  // debugger and /metrics), so the error says which one by position.
  for (size_t i = 0; i < pairs->size(); ++i) {
    const auto& [k, v] = (*pairs)[i];
    if (!simdjson::validate_utf8(k.data(), k.size()))
      return InvalidArgument("query",
                             ": parameter " + std::to_string(i + 1) + "'s name is not valid UTF-8");
    if (!simdjson::validate_utf8(v.data(), v.size()))
      return InvalidArgument(k, ": not valid UTF-8");
  }
  ParsedEventBatch batch;
  batch.event_source = "pixel";
  SiteEvent ev;
  std::vector<std::string> email, phone, external;
  const auto& lim = ctx.limits;
  for (auto& [k, v] : *pairs) {
    size_t max = k == "url" || k == "referrer" ? lim.max_url_bytes : lim.max_string_bytes;
    if (v.size() > max)
      return InvalidArgument(k, ": longer than " + std::to_string(max) + " bytes");
    // The decoded values are ours: moved, not copied (a repeated key: the last one wins).
    if (k == "pixel_id")
      batch.pixel_id = std::move(v);
    else if (k == "event")
      ev.event = std::move(v);
    else if (k == "event_id")
      ev.event_id = std::move(v);
    else if (k == "ttclid")
      ev.user.ttclid = std::move(v);
    else if (k == "ttp")
      ev.user.ttp = std::move(v);
    else if (k == "url")
      ev.page_url = std::move(v);
    else if (k == "referrer")
      ev.page_referrer = std::move(v);
    else if (k == "currency")
      ev.currency = std::move(v);
    else if (k == "order_id")
      ev.order_id = std::move(v);
    else if (k == "content_id")
      ev.contents.emplace_back().content_id = std::move(v);
    else if (k == "email")
      email.push_back(std::move(v));
    else if (k == "phone" || k == "phone_number")
      phone.push_back(std::move(v));
    else if (k == "external_id")
      external.push_back(std::move(v));
    else if (k == "value") {
      char* end = nullptr;
      double d = std::strtod(v.c_str(), &end);
      if (v.empty() || end != v.c_str() + v.size())
        return InvalidArgument("value", ": must be a number");
      TP_RETURN_IF_ERROR(CheckAmount(d, "value", lim));
      ev.value = d;
    } else if (std::find(batch.warnings.begin(), batch.warnings.end(), k) == batch.warnings.end()) {
      batch.warnings.push_back(k.empty() ? "(empty name)" : std::move(k));
    }
  }
  if (batch.pixel_id.empty()) return InvalidArgument("pixel_id", ": required");
  if (ev.event.empty()) return InvalidArgument("event", ": required");
  if (ev.event.size() > lim.max_name_bytes || ev.event_id.size() > lim.max_name_bytes)
    return InvalidArgument(ev.event.size() > lim.max_name_bytes ? "event" : "event_id",
                           ": longer than " + std::to_string(lim.max_name_bytes) + " bytes");
  if (!ev.currency.empty() && !IsCurrencyCode(ev.currency))
    return InvalidArgument("currency", ": must be an ISO 4217 code in capitals, like USD");
  TP_RETURN_IF_ERROR(HashList(email, IdentifierKind::kEmail, "email", ev.user.email_sha256));
  TP_RETURN_IF_ERROR(HashList(phone, IdentifierKind::kPhone, "phone", ev.user.phone_sha256));
  TP_RETURN_IF_ERROR(
      HashList(external, IdentifierKind::kExternalId, "external_id", ev.user.external_id_sha256));
  if (ev.user.ttclid.empty() && !ev.page_url.empty())
    if (auto id = QueryParamOf(ev.page_url, "ttclid")) ev.user.ttclid = *id;
  ev.event_time_ms = ctx.now_ms;
  Finish(batch, OkStatus(), std::move(ev));
  return batch;
}

}  // namespace touchpoint::ingest
