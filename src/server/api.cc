#include "server/api.h"

#include <openssl/rand.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <mutex>
#include <unordered_map>

#include "core/ascii.h"
#include "core/json_writer.h"
#include "core/utf8.h"
#include "format/catalog_file.h"
#include "format/json_fields.h"
#include "format/url.h"
#include "ingest/ad_events.h"
#include "ingest/events_api.h"
#include "ingest/hashing.h"
#include "ingest/platform_reports.h"
#include "query/funnel.h"
#include "query/insights.h"
#include "query/lift_query.h"
#include "query/report_format.h"
#include "server/assets.h"
#include "server/http_status.h"

namespace touchpoint::server {

namespace {

// Where TikTok's pixel base code loads its script from (served as tp.js).
constexpr std::string_view kTikTokPixelPath = "/i18n/pixel/events.js";

using store::StoredEvent;
using store::WriteOutcome;
using store::WriteResult;

HttpResponse Json(int status, std::string body) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  return r;
}

HttpResponse Error(const Status& st) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("error").String(st.message()).EndObject();
  HttpResponse r = Json(HttpStatusFor(st), std::move(body));
  if (st.code() == StatusCode::kResourceExhausted || st.code() == StatusCode::kUnavailable)
    r.headers.emplace_back("Retry-After", "1");
  if (st.code() == StatusCode::kUnauthenticated)
    r.headers.emplace_back("WWW-Authenticate", "Bearer");
  return r;
}

std::string RequestId() {
  static std::atomic<uint64_t> counter{0};
  thread_local uint64_t salt = [] {
    uint64_t s = 0;
    RAND_bytes(reinterpret_cast<unsigned char*>(&s), sizeof s);
    return s;
  }();
  uint64_t n = counter.fetch_add(1) ^ salt;
  std::string ts = FormatIso8601Ms(SystemClock().NowMs());  // 2026-11-26T09:53:00.000Z
  std::string out;
  for (char c : ts.substr(0, 19))
    if (c >= '0' && c <= '9') out += c;
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(n));
  return out + buf;
}

// TikTok's envelope: {"code","message","request_id","data"}. TikTok answers logical errors with
// HTTP 200; only "retry later" gets 503 + Retry-After here, so that any HTTP client backs off.
HttpResponse Envelope(int code, std::string_view message, std::string_view data_json) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("code").Int(code).Key("message").String(message);
  w.Key("request_id").String(RequestId()).Key("data").Raw(data_json.empty() ? "{}" : data_json);
  w.EndObject();
  HttpResponse r = Json(code == 40100 ? 503 : (code == 50002 ? 500 : 200), std::move(body));
  if (code == 40100) r.headers.emplace_back("Retry-After", "1");
  return r;
}

HttpResponse EnvelopeError(const Status& st) {
  return Envelope(TikTokCodeFor(st), st.message(), "");
}

std::string_view BearerToken(const HttpRequest& req) {
  std::string_view auth = req.Header("authorization");
  if (auth.size() > 7 && (auth.substr(0, 7) == "Bearer " || auth.substr(0, 7) == "bearer "))
    return auth.substr(7);
  return {};
}

// A strong validator for an embedded asset (FNV-1a of its bytes), computed once per asset.
std::string AssetEtag(const EmbeddedAsset& a) {
  static std::mutex mu;
  static std::unordered_map<const char*, std::string> cache;
  std::lock_guard lock(mu);
  auto it = cache.find(a.data.data());
  if (it != cache.end()) return it->second;
  uint64_t h = 1469598103934665603ULL;
  for (unsigned char c : a.data) h = (h ^ c) * 1099511628211ULL;
  char buf[24];
  std::snprintf(buf, sizeof buf, "\"%016llx\"", static_cast<unsigned long long>(h));
  return cache[a.data.data()] = buf;
}

// 1x1 transparent GIF.
constexpr unsigned char kGif[] = {0x47, 0x49, 0x46, 0x38, 0x39, 0x61, 0x01, 0x00, 0x01, 0x00, 0x80,
                                  0x00, 0x00, 0x00, 0x00, 0x00, 0xff, 0xff, 0xff, 0x21, 0xf9, 0x04,
                                  0x01, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x00, 0x00, 0x00, 0x01,
                                  0x00, 0x01, 0x00, 0x00, 0x02, 0x02, 0x44, 0x01, 0x00, 0x3b};

// Cross-origin answers for the browser-facing endpoints. No call needs credentials (tp.js sets
// its own first-party cookie and sends it in the body), so no origin is ever echoed with
// Access-Control-Allow-Credentials: any page may send events, none may read an answer with the
// visitor's cookies for this host.
void AddCors(const HttpRequest&, HttpResponse& r) {
  r.headers.emplace_back("Access-Control-Allow-Origin", "*");
}

// Security headers on every answer, as static header lines (no allocation per answer). The
// dashboard loads only its own script and styles (no inline script); JSON, CSV and the GIF are
// never to be sniffed into something else, rendered in a frame or sent a full referrer.
constexpr std::string_view kApiHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n";
constexpr std::string_view kPageHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self' data:; connect-src 'self'; font-src 'self'; base-uri 'none'; "
    "form-action 'none'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n";
// The click redirect keeps its own Referrer-Policy (the landing page sees where the click came
// from, as with a direct link).
constexpr std::string_view kRedirectHeaders =
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n";
// The pixel GIF's own lines and the security headers, in one static string.
constexpr std::string_view kGifHeaders =
    "Cache-Control: no-store, max-age=0\r\n"
    "X-Content-Type-Options: nosniff\r\n"
    "Content-Security-Policy: default-src 'none'; frame-ancestors 'none'\r\n"
    "X-Frame-Options: DENY\r\n"
    "Referrer-Policy: strict-origin-when-cross-origin\r\n";

// Counts per-event outcomes into a JSON result list, in input order.
struct BatchTally {
  size_t accepted = 0, duplicate = 0, rejected = 0;
  std::string results;   // JSON array body
  std::string warnings;  // JSON array body, or "" when there are none
};

// The fields a batch carried that were accepted but not stored, as a JSON array; "" for none.
std::string WarningsJson(const ingest::ParsedEventBatch& batch) {
  auto warnings = batch.Warnings();
  if (warnings.empty()) return "";
  std::string out;
  JsonWriter w(out);
  w.BeginArray();
  for (const auto& m : warnings) w.String(m);
  w.EndArray();
  return out;
}

void WriteOutcomes(const std::vector<Status>& parse_errors, const WriteResult* wr, BatchTally& t) {
  JsonWriter w(t.results);
  w.BeginArray();
  size_t k = 0;  // index into the write result (only parsed-OK events were written)
  for (size_t i = 0; i < parse_errors.size(); ++i) {
    w.BeginObject().Key("index").Int(static_cast<int64_t>(i));
    if (!parse_errors[i].ok()) {
      w.Key("status").String("rejected").Key("error").String(parse_errors[i].message());
      t.rejected++;
    } else if (wr && k < wr->outcomes.size()) {
      WriteOutcome o = wr->outcomes[k];
      w.Key("status").String(store::WriteOutcomeName(o));
      if (o == WriteOutcome::kMerged || o == WriteOutcome::kReplaced) w.Key("merged").Bool(true);
      if (o == WriteOutcome::kReplaced) w.Key("replaced").Bool(true);
      w.Key("seq").Int(static_cast<int64_t>(wr->seqs[k]));
      (o == WriteOutcome::kAccepted ? t.accepted : t.duplicate)++;
      ++k;
    }
    w.EndObject();
  }
  w.EndArray();
}

std::string TallyJson(const BatchTally& t) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("accepted").Int(static_cast<int64_t>(t.accepted));
  w.Key("duplicate").Int(static_cast<int64_t>(t.duplicate));
  w.Key("rejected").Int(static_cast<int64_t>(t.rejected));
  w.Key("results").Raw(t.results);
  if (!t.warnings.empty()) w.Key("warnings").Raw(t.warnings);
  w.EndObject();
  return body;
}

std::optional<int64_t> ParseTimeParam(std::string_view s) {
  if (s.empty()) return std::nullopt;
  int64_t v;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec == std::errc() && p == s.data() + s.size()) {  // Unix seconds
    if (v < 0 || v > 100'000'000'000LL) return std::nullopt;
    return v * 1000;
  }
  if (auto d = ParseDateMs(s)) return d;
  return ParseIso8601Ms(s);
}

// A refusal for being over a rate limit: 429 with the wait (the envelope's or error's own
// Retry-After replaced).
HttpResponse TooManyRequests(HttpResponse r, int retry_after_s) {
  r.status = 429;
  std::erase_if(r.headers, [](const auto& h) { return h.first == "Retry-After"; });
  r.headers.emplace_back("Retry-After", std::to_string(retry_after_s));
  return r;
}

// The {id} of /api/v1/pixels/{id}<suffix> (the router checked the prefix and the suffix).
std::string PixelIdInPath(std::string_view path, std::string_view suffix) {
  constexpr std::string_view kPrefix = "/api/v1/pixels/";
  return std::string(path.substr(kPrefix.size(), path.size() - kPrefix.size() - suffix.size()));
}

// A request body that must be one JSON object; `parser` owns what the object points into.
StatusOr<simdjson::dom::object> BodyObject(simdjson::dom::parser& parser, std::string_view text) {
  simdjson::dom::element root;
  if (auto err = parser.parse(text).get(root)) return format::JsonSyntaxError(err);
  simdjson::dom::object obj;
  if (root.get_object().get(obj)) return InvalidArgument("body", ": must be a JSON object");
  return obj;
}

// "{"anonymous":{"per_s":N,"burst":M},"server":{...}}": either may be absent (kept), per_s 0
// is no limit, a missing burst is ten seconds' worth.
Status ParsePixelLimits(std::string_view json, PixelLimits& limits) {
  simdjson::dom::parser parser;
  auto body = BodyObject(parser, json);
  if (!body.ok()) return body.status();
  simdjson::dom::object obj = *body;
  for (auto [key, value] : obj)
    if (key != "anonymous" && key != "server" && key != "max_value")
      return InvalidArgument(std::string(key), ": unknown field (anonymous, server or max_value)");
  std::optional<double> max_value;
  TP_RETURN_IF_ERROR(format::ReadNumber(obj, "max_value", "", max_value));
  if (max_value) {
    if (!(*max_value > 0 && *max_value <= 1e15))
      return InvalidArgument("max_value", ": must be more than 0 and at most 1000000000000000");
    limits.max_value = *max_value;
  }
  for (auto [name, limit] : {std::pair<const char*, RateLimit*>{"anonymous", &limits.anonymous},
                             {"server", &limits.server}}) {
    std::optional<simdjson::dom::object> o;
    TP_RETURN_IF_ERROR(format::ReadObject(obj, name, "", o));
    if (!o) continue;
    const format::JsonPath path(name);
    std::optional<double> per_s, burst;
    TP_RETURN_IF_ERROR(format::ReadNumber(*o, "per_s", path, per_s));
    TP_RETURN_IF_ERROR(format::ReadNumber(*o, "burst", path, burst));
    if (!per_s) return InvalidArgument(path.Key("per_s").str(), ": required");
    if (!(*per_s >= 0 && *per_s <= 1e7))
      return InvalidArgument(path.Key("per_s").str(), ": must be from 0 (no limit) to 10000000");
    if (burst && !(*burst >= 1 && *burst <= 1e8))
      return InvalidArgument(path.Key("burst").str(), ": must be from 1 to 100000000");
    *limit = RateLimit{*per_s, burst ? *burst : std::max(1.0, *per_s * 10)};
  }
  return OkStatus();
}

// As stored (what ParsePixelLimits reads) or, with `per_client`, as the API shows it: with the
// pixel id and the per-client limit, which is the server's (--rate-limit-per-client).
std::string PixelLimitsJson(const PixelLimits& l, std::string_view pixel_id = {},
                            const RateLimit* per_client = nullptr) {
  std::string body;
  JsonWriter w(body);
  auto number = [&](double v) {  // whole numbers as integers: 1000000000, not 1e+09
    if (v == std::floor(v) && std::fabs(v) < 9e15)
      w.Int(static_cast<int64_t>(v));
    else
      w.Double(v);
  };
  auto limit = [&](const char* key, const RateLimit& r) {
    w.Key(key).BeginObject().Key("per_s");
    number(r.per_s);
    w.Key("burst");
    number(r.burst);
    w.EndObject();
  };
  w.BeginObject();
  if (!pixel_id.empty()) w.Key("pixel_id").String(pixel_id);
  limit("anonymous", l.anonymous);
  limit("server", l.server);
  w.Key("max_value");
  number(l.max_value);
  if (per_client) limit("per_client", *per_client);
  w.EndObject();
  return body;
}

// "2000 events/s" without a trailing ".000000".
std::string Rate(double per_s) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%g", per_s);
  return buf;
}

}  // namespace

Api::Api(store::EventStore* store, query::LiveDataset* live, const Clock* clock, ApiOptions options)
    : store_(store), live_(live), clock_(clock), options_(std::move(options)) {}

Api::~Api() = default;

ingest::ParseContext Api::Context(std::string_view pixel_id) {
  ingest::ParseContext ctx;
  ctx.now_ms = clock_->NowMs();
  ctx.limits = options_.limits;
  if (!pixel_id.empty()) ctx.limits.max_value = LimitsOf(pixel_id).max_value;
  return ctx;
}

bool Api::IsAdmin(const HttpRequest& req) const {
  std::string_view token = BearerToken(req);
  return !token.empty() && store_->IsAdminToken(token);
}

std::string Api::ClientIp(const HttpRequest& req) const {
  auto ip = ClientAddress(req);
  return ip ? ingest::FormatIp(ingest::TruncatedIp(*ip)) : std::string();
}

std::optional<ingest::IpAddress> Api::ClientAddress(const HttpRequest& req) const {
  // Every X-Forwarded-For header, in order, is one list (RFC 9110 5.3): a proxy may add its own
  // header line after the client's rather than append to it.
  std::string xff;
  if (!options_.trusted_proxies.empty())
    for (const auto& [name, value] : req.headers)
      if (name == "x-forwarded-for") {
        if (!xff.empty()) xff += ',';
        xff += value;
      }
  return ingest::ResolveClientIp(req.remote_ip, xff, options_.trusted_proxies);
}

PixelLimits Api::LimitsOf(std::string_view pixel_id) {
  std::lock_guard lock(limits_mu_);
  if (auto it = pixel_limits_.find(std::string(pixel_id)); it != pixel_limits_.end())
    return it->second;
  PixelLimits limits{options_.rate_limits.anonymous_per_pixel,
                     options_.rate_limits.server_per_pixel, options_.limits.max_value};
  if (auto json = store_->GetMeta("pixel_limits/" + std::string(pixel_id))) {
    if (Status st = ParsePixelLimits(*json, limits); !st.ok())
      spdlog::error("pixel {}: stored limits unreadable ({}); using the defaults", pixel_id,
                    st.message());
  }
  pixel_limits_.emplace(pixel_id, limits);  // only known pixels get here: bounded
  return limits;
}

std::optional<Api::Limited> Api::OverLimit(const HttpRequest& req, std::string_view pixel_id,
                                           size_t events, bool authenticated) {
  const int64_t now = clock_->NowMs();
  const double cost = static_cast<double>(std::max<size_t>(events, 1));
  // The client as resolved through trusted proxies; an IPv6 client by its /64 (one host's
  // share: it may use any address in it). Kept in memory only, never stored.
  auto client = ClientAddress(req);
  static const ingest::IpAddress kLoopback6 = *ingest::ParseIp("::1");
  const bool loopback = client && (client->v4 ? client->bytes[0] == 127 : *client == kLoopback6);
  if (client && !client->v4) std::fill(client->bytes.begin() + 8, client->bytes.end(), 0);
  if (!authenticated && (!loopback || options_.limit_loopback_clients)) {
    const RateLimit& per_client = options_.rate_limits.per_client;
    const std::string key = client ? ingest::FormatIp(*client) : std::string();
    if (auto wait = client_buckets_.Take(key, per_client, cost, now)) {
      metrics_.CountRejected("rate_limited:client", events);
      return Limited{*wait, "rate limit: more than " + Rate(per_client.per_s) +
                                " events/s from this client address; retry in " +
                                std::to_string(*wait) + " s"};
    }
  }
  if (pixel_id.empty()) return std::nullopt;
  const PixelLimits limits = LimitsOf(pixel_id);
  const RateLimit& limit = authenticated ? limits.server : limits.anonymous;
  if (auto wait =
          (authenticated ? server_buckets_ : pixel_buckets_).Take(pixel_id, limit, cost, now)) {
    metrics_.CountRejected(authenticated ? "rate_limited:server" : "rate_limited:pixel", events);
    return Limited{*wait, "rate limit: more than " + Rate(limit.per_s) + " events/s " +
                              (authenticated ? "from the server" : "through the browser") +
                              " for pixel " + std::string(pixel_id) + "; retry in " +
                              std::to_string(*wait) + " s"};
  }
  return std::nullopt;
}

std::optional<std::string> Api::AdminPixel(const HttpRequest& req, Responder& respond,
                                           std::string_view suffix) {
  if (!IsAdmin(req)) {
    respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
    return std::nullopt;
  }
  std::string pixel_id = PixelIdInPath(req.path, suffix);
  if (!store_->FindPixel(pixel_id)) {
    respond(Error(NotFound("pixel " + pixel_id + ": unknown")));
    return std::nullopt;
  }
  return pixel_id;
}

void Api::PixelLimitsPage(HttpRequest& req, Responder& respond) {
  const auto id = AdminPixel(req, respond, "/limits");
  if (!id) return;
  const std::string& pixel_id = *id;
  PixelLimits limits = LimitsOf(pixel_id);
  if (req.method == "PUT") {
    if (Status st = ParsePixelLimits(req.body, limits); !st.ok()) return respond(Error(st));
    if (Status st = store_->SetMeta("pixel_limits/" + pixel_id, PixelLimitsJson(limits)); !st.ok())
      return respond(Error(st));
    {
      std::lock_guard lock(limits_mu_);
      pixel_limits_[pixel_id] = limits;
    }
    spdlog::info("pixel {}: limits set (browser {}/s, burst {}; server {}/s, burst {})", pixel_id,
                 limits.anonymous.per_s, limits.anonymous.burst, limits.server.per_s,
                 limits.server.burst);
  }
  respond(Json(200, PixelLimitsJson(limits, pixel_id, &options_.rate_limits.per_client)));
}

namespace {

constexpr std::string_view kConversionEventsKey = "pixel_conversion_events/";

// {"events": ["CompleteRegistration", "SubmitForm"]}: an empty list restores the default
// (the purchase events). Names as sent by the pixel, case-sensitive.
StatusOr<std::vector<std::string>> ParseConversionEvents(std::string_view json) {
  simdjson::dom::parser parser;
  auto body = BodyObject(parser, json);
  if (!body.ok()) return body.status();
  simdjson::dom::object obj = *body;
  for (auto [key, value] : obj)
    if (key != "events") return InvalidArgument(std::string(key), ": unknown field (events)");
  simdjson::dom::element ev;
  simdjson::dom::array arr;
  if (obj.at_key("events").get(ev) || ev.get_array().get(arr))
    return InvalidArgument("events", ": required, an array of event names");
  std::vector<std::string> events;
  size_t i = 0;
  for (simdjson::dom::element e : arr) {
    std::string_view name;
    const std::string path = "events[" + std::to_string(i++) + "]";
    if (e.get_string().get(name)) return InvalidArgument(path, ": must be a string");
    if (name.empty() || name.size() > 128) return InvalidArgument(path, ": must be 1 to 128 bytes");
    if (std::find(events.begin(), events.end(), name) == events.end()) events.emplace_back(name);
  }
  if (events.size() > 32) return InvalidArgument("events", ": at most 32 events");
  return events;
}

std::string ConversionEventsJson(const std::vector<std::string>& events,
                                 std::string_view pixel_id = {}) {
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  if (!pixel_id.empty()) w.Key("pixel_id").String(pixel_id);
  w.Key("events").BeginArray();
  for (const auto& e : events) w.String(e);
  w.EndArray();
  if (!pixel_id.empty()) w.Key("default").Bool(events.empty());
  w.EndObject();
  return body;
}

}  // namespace

std::map<std::string, std::vector<std::string>> Api::ConversionEventsByPixel() {
  std::lock_guard lock(conversion_events_mu_);
  if (!conversion_events_) {
    conversion_events_.emplace();
    for (const auto& p : store_->ListPixels()) {
      auto json = store_->GetMeta(std::string(kConversionEventsKey) + p.pixel_id);
      if (!json) continue;
      auto events = ParseConversionEvents(*json);
      if (!events.ok()) {
        spdlog::error("pixel {}: stored conversion events unreadable ({}); using purchases",
                      p.pixel_id, events.status().message());
        continue;
      }
      if (!events->empty()) (*conversion_events_)[p.pixel_id] = std::move(*events);
    }
  }
  return *conversion_events_;
}

void Api::PixelConversionEventsPage(HttpRequest& req, Responder& respond) {
  const auto id = AdminPixel(req, respond, "/conversion_events");
  if (!id) return;
  const std::string& pixel_id = *id;
  auto all = ConversionEventsByPixel();
  std::vector<std::string> events =
      all.count(pixel_id) ? all[pixel_id] : std::vector<std::string>{};
  if (req.method == "PUT") {
    auto parsed = ParseConversionEvents(req.body);
    if (!parsed.ok()) return respond(Error(parsed.status()));
    events = std::move(*parsed);
    if (Status st = store_->SetMeta(std::string(kConversionEventsKey) + pixel_id,
                                    ConversionEventsJson(events));
        !st.ok())
      return respond(Error(st));
    {
      std::lock_guard lock(conversion_events_mu_);
      if (events.empty())
        conversion_events_->erase(pixel_id);
      else
        (*conversion_events_)[pixel_id] = events;
    }
    spdlog::info("pixel {}: {} conversion events set", pixel_id, events.size());
  }
  respond(Json(200, ConversionEventsJson(events, pixel_id)));
}

void Api::Handle(HttpRequest request, Responder respond) {
  // Wrap the responder to count every answer by route.
  // Route labels are a fixed set, so /metrics stays bounded whatever paths clients try.
  static const char* kRoutes[] = {"/open_api/v1.3/event/track/",
                                  "/open_api/v1.3/pixel/track/",
                                  "/open_api/v1.3/pixel/batch/",
                                  "/api/v1/events",
                                  "/api/v1/pixel",
                                  "/api/v1/pixel.gif",
                                  "/api/v1/ad-events",
                                  "/api/v1/pixels",
                                  "/api/v1/admin/tokens",
                                  "/api/v1/catalog",
                                  "/api/v1/spend",
                                  "/api/v1/export",
                                  "/api/v1/report",
                                  "/api/v1/funnel",
                                  "/api/v1/insights",
                                  "/api/v1/lift",
                                  "/api/v1/lift/plan",
                                  "/api/v1/lift/geo",
                                  "/api/v1/debug/events",
                                  "/healthz",
                                  "/metrics",
                                  "/tp.js"};
  const char* route = "other";  // static strings: the wrapper below carries a pointer only
  if (request.path.rfind("/c/", 0) == 0) route = "/c/{ad_id}";
  if (request.path.rfind("/api/v1/pixels/", 0) == 0) route = "/api/v1/pixels/{id}/...";
  for (const char* r : kRoutes)
    if (request.path == r) {
      route = r;
      break;
    }
  if (request.path == kTikTokPixelPath) route = "/tp.js";
  if (route == std::string_view("other") &&
      FindAsset(request.path == "/" ? "/index.html" : request.path))
    route = "static";
  Responder counted = [this, route, respond = std::move(respond)](HttpResponse r) {
    metrics_.CountRequest(route, r.status);
    if (r.static_headers.empty())
      r.static_headers = r.content_type.rfind("text/html", 0) == 0 ? kPageHeaders : kApiHeaders;
    respond(std::move(r));
  };
  Dispatch(request, counted);
}

HttpResponse Api::Overloaded(const HttpRequest& head, const std::string& why) {
  if (head.path.rfind("/open_api/", 0) == 0) return Envelope(40100, why, "");
  return Handler::Overloaded(head, why);
}

void Api::Dispatch(HttpRequest& req, Responder& respond) {
  const std::string& p = req.path;
  const std::string& m = req.method;
  if (m == "OPTIONS") {
    HttpResponse r;
    r.status = 204;
    r.content_type = {};
    AddCors(req, r);
    r.headers.emplace_back("Access-Control-Allow-Methods", "GET, POST, PUT, OPTIONS");
    r.headers.emplace_back("Access-Control-Allow-Headers",
                           "Content-Type, Authorization, Access-Token");
    r.headers.emplace_back("Access-Control-Max-Age", "86400");
    return respond(std::move(r));
  }
  auto is = [&](const char* method, const char* path) { return m == method && p == path; };
  if (is("POST", "/open_api/v1.3/event/track/") || is("POST", "/open_api/v1.3/event/track"))
    return EventsApi(req, respond, 2);
  if (is("POST", "/open_api/v1.3/pixel/track/") || is("POST", "/open_api/v1.2/pixel/track/"))
    return EventsApi(req, respond, 1);
  if (is("POST", "/open_api/v1.3/pixel/batch/") || is("POST", "/open_api/v1.2/pixel/batch/"))
    return EventsApi(req, respond, 11);
  if (is("POST", "/api/v1/events")) return NativeEvents(req, respond);
  if (is("POST", "/api/v1/pixel")) return PixelBeacon(req, respond);
  if (is("GET", "/api/v1/pixel.gif")) return PixelGif(req, respond);
  if (is("POST", "/api/v1/ad-events")) return AdEvents(req, respond);
  if (m == "GET" && p.rfind("/c/", 0) == 0) return Click(req, respond);
  if (is("POST", "/api/v1/pixels")) return CreatePixel(req, respond);
  if ((m == "GET" || m == "PUT") && p.rfind("/api/v1/pixels/", 0) == 0 && p.ends_with("/limits"))
    return PixelLimitsPage(req, respond);
  if (m == "POST" && p.rfind("/api/v1/pixels/", 0) == 0 && p.ends_with("/tokens"))
    return IssueToken(req, respond, false);
  if (is("POST", "/api/v1/admin/tokens")) return IssueToken(req, respond, true);
  if ((m == "GET" || m == "PUT") && p.rfind("/api/v1/pixels/", 0) == 0 &&
      p.ends_with("/conversion_events"))
    return PixelConversionEventsPage(req, respond);
  if (is("GET", "/api/v1/pixels")) return ListPixels(req, respond);
  if (is("PUT", "/api/v1/catalog")) return PutCatalog(req, respond);
  if (is("GET", "/api/v1/catalog")) return GetCatalog(req, respond);
  if (is("PUT", "/api/v1/spend")) return PutSpend(req, respond);
  if (is("GET", "/api/v1/spend")) return GetSpend(req, respond);
  if (is("GET", "/api/v1/export")) return Export(req, respond);
  if (is("GET", "/api/v1/report")) return Report(req, respond);
  if (is("GET", "/api/v1/funnel")) return Funnel(req, respond);
  if (is("GET", "/api/v1/insights")) return Insights(req, respond);
  if (is("GET", "/api/v1/lift") || is("GET", "/api/v1/lift/plan") || is("POST", "/api/v1/lift/geo"))
    return Lift(req, respond);
  if (is("GET", "/api/v1/debug/events")) return DebugEvents(req, respond);
  if (is("GET", "/healthz")) return Healthz(req, respond);
  if (is("GET", "/metrics")) return MetricsPage(req, respond);
  if (m == "GET" || m == "HEAD") {
    // TikTok's base code loads https://analytics.tiktok.com/i18n/pixel/events.js: with only its
    // host changed, it loads tp.js, which then plays TikTok's ttq queue (docs/pixel.md).
    std::string path = p == "/" ? "/index.html" : p == kTikTokPixelPath ? "/tp.js" : p;
    if (const EmbeddedAsset* a = FindAsset(path)) {
      HttpResponse r;
      r.content_type = ContentTypeFor(path);
      const EmbeddedAsset* gz = req.Header("accept-encoding").find("gzip") != std::string_view::npos
                                    ? FindAsset(path + ".gz")
                                    : nullptr;
      r.headers.emplace_back("ETag", AssetEtag(*a));
      r.headers.emplace_back("Vary", "Accept-Encoding");
      if (req.Header("if-none-match") == AssetEtag(*a)) {
        r.status = 304;
        return respond(std::move(r));
      }
      if (gz) r.headers.emplace_back("Content-Encoding", "gzip");
      r.static_body = gz ? gz->data : a->data;  // embedded: no copy per request
      r.headers.emplace_back("Cache-Control",
                             path == "/tp.js" ? "public, max-age=300" : "no-cache");
      if (path == "/tp.js") AddCors(req, r);  // (also when asked for as TikTok's events.js)
      if (m == "HEAD") {
        r.headers.emplace_back("X-Content-Length", std::to_string(r.static_body.size()));
        r.static_body = {};
      }
      return respond(std::move(r));
    }
  }
  respond(Error(NotFound("no route for " + m + " " + p)));
}

// --- Collection --------------------------------------------------------------------------------

void Api::EventsApi(HttpRequest& req, Responder& respond, int version) {
  std::string_view token = req.Header("access-token");
  if (token.empty()) {
    metrics_.CountRejected("auth:missing_token", 1);
    debugger_.RecordRejected(req.path, "", "Access-Token header: required", "auth:missing_token");
    return respond(EnvelopeError(Unauthenticated("Access-Token header: required")));
  }
  auto owner = store_->FindPixelByToken(token);
  if (!owner) {
    metrics_.CountRejected("auth:bad_token", 1);
    debugger_.RecordRejected(req.path, "", "Access-Token: not a valid access token",
                             "auth:bad_token");
    return respond(EnvelopeError(Unauthenticated("Access-Token: not a valid access token")));
  }
  auto ctx = Context(owner->pixel_id);
  StatusOr<ingest::ParsedEventBatch> parsed = version == 2 ? ingest::ParseEventsApi2(req.body, ctx)
                                              : version == 1
                                                  ? ingest::ParseEventsApi1Track(req.body, ctx)
                                                  : ingest::ParseEventsApi1Batch(req.body, ctx);
  if (!parsed.ok()) {
    metrics_.CountRejected(Metrics::ReasonLabel(parsed.status().message()), 1);
    debugger_.RecordRejected(req.path, "", parsed.status().message(),
                             Metrics::ReasonLabel(parsed.status().message()));
    return respond(EnvelopeError(parsed.status()));
  }
  const std::string key = version == 2 ? "event_source_id" : "pixel_code";
  if (!store_->FindPixel(parsed->pixel_id)) {
    metrics_.CountRejected("pixel:unknown", parsed->events.size());
    debugger_.RecordRejected(req.path, parsed->pixel_id,
                             key + ": unknown pixel " + parsed->pixel_id, "pixel:unknown",
                             parsed->events.size());
    return respond(EnvelopeError(InvalidArgument(key, ": unknown pixel " + parsed->pixel_id)));
  }
  if (owner->pixel_id != parsed->pixel_id) {
    metrics_.CountRejected("auth:other_pixel", parsed->events.size());
    debugger_.RecordRejected(req.path, parsed->pixel_id,
                             "No permission to operate pixel code: " + parsed->pixel_id +
                                 ". The Access-Token belongs to another pixel.",
                             "auth:other_pixel", parsed->events.size());
    return respond(
        EnvelopeError(PermissionDenied("No permission to operate pixel code: " + parsed->pixel_id +
                                       ". The Access-Token belongs to another pixel.")));
  }
  if (auto limited = OverLimit(req, parsed->pixel_id, parsed->events.size(), true)) {
    debugger_.RecordRejected(req.path, parsed->pixel_id, limited->message, "rate_limited:server",
                             parsed->events.size());
    return respond(TooManyRequests(Envelope(40100, limited->message, ""), limited->retry_after_s));
  }
  // TikTok fails the whole batch on one bad event; so do we, so a fixed retry is exact.
  if (const Status* first = parsed->FirstError()) {
    for (const auto& e : parsed->events)
      if (!e.status.ok()) metrics_.CountRejected(Metrics::ReasonLabel(e.status.message()), 1);
    metrics_.CountRejected("batch:failed_with_other_event",
                           parsed->events.size() - parsed->RejectedCount());
    debugger_.RecordFailedBatch(req.path, *parsed);
    return respond(EnvelopeError(*first));
  }
  std::vector<StoredEvent> events;
  events.reserve(parsed->events.size());
  for (auto& e : parsed->events) events.emplace_back(std::move(*e.event));
  size_t n = events.size();
  auto debug = debugger_.Prepare(req.path, parsed->pixel_id, {}, events);
  Status st =
      store_->Submit(std::move(events), [this, respond, n, debug = std::move(debug),
                                         warnings = WarningsJson(*parsed)](WriteResult wr) mutable {
        debugger_.RecordWrite(debug, wr);
        if (!wr.status.ok()) {
          metrics_.CountRejected("store:error", n);
          return respond(EnvelopeError(wr.status));
        }
        size_t dup = 0;
        for (auto o : wr.outcomes) dup += o != WriteOutcome::kAccepted;
        metrics_.CountEvents("accepted", n - dup);
        metrics_.CountEvents("duplicate", dup);
        std::string data;
        JsonWriter w(data);
        w.BeginObject().Key("events_received").Int(static_cast<int64_t>(n));
        w.Key("accepted")
            .Int(static_cast<int64_t>(n - dup))
            .Key("duplicate")
            .Int(static_cast<int64_t>(dup));
        if (!warnings.empty()) w.Key("warnings").Raw(warnings);
        w.EndObject();
        respond(Envelope(0, "OK", data));
      });
  if (!st.ok()) {
    metrics_.CountRejected("queue:full", n);
    debugger_.RecordRejected(req.path, parsed->pixel_id, st.message(), "queue:full", n);
    respond(EnvelopeError(st));
  }
}

void Api::NativeEvents(HttpRequest& req, Responder& respond) {
  std::string_view token = req.Header("access-token");
  if (token.empty()) token = BearerToken(req);
  if (token.empty()) {
    metrics_.CountRejected("auth:missing_token", 1);
    debugger_.RecordRejected(req.path, "",
                             "Access-Token header (or Authorization: Bearer): required",
                             "auth:missing_token");
    return respond(
        Error(Unauthenticated("Access-Token header (or Authorization: Bearer): required")));
  }
  auto owner = store_->FindPixelByToken(token);
  if (!owner) {
    metrics_.CountRejected("auth:bad_token", 1);
    debugger_.RecordRejected(req.path, "", "access token: not valid", "auth:bad_token");
    return respond(Error(Unauthenticated("access token: not valid")));
  }
  auto parsed = ingest::ParseEventsApi2(req.body, Context(owner->pixel_id));
  if (!parsed.ok()) {
    metrics_.CountRejected(Metrics::ReasonLabel(parsed.status().message()), 1);
    debugger_.RecordRejected(req.path, "", parsed.status().message(),
                             Metrics::ReasonLabel(parsed.status().message()));
    return respond(Error(parsed.status()));
  }
  if (!store_->FindPixel(parsed->pixel_id)) {
    metrics_.CountRejected("pixel:unknown", parsed->events.size());
    debugger_.RecordRejected(req.path, parsed->pixel_id,
                             "event_source_id: unknown pixel " + parsed->pixel_id, "pixel:unknown",
                             parsed->events.size());
    return respond(Error(NotFound("event_source_id: unknown pixel " + parsed->pixel_id)));
  }
  if (owner->pixel_id != parsed->pixel_id) {
    metrics_.CountRejected("auth:other_pixel", parsed->events.size());
    debugger_.RecordRejected(req.path, parsed->pixel_id,
                             "access token: not valid for pixel " + parsed->pixel_id,
                             "auth:other_pixel", parsed->events.size());
    return respond(
        Error(PermissionDenied("access token: not valid for pixel " + parsed->pixel_id)));
  }
  if (auto limited = OverLimit(req, parsed->pixel_id, parsed->events.size(), true)) {
    debugger_.RecordRejected(req.path, parsed->pixel_id, limited->message, "rate_limited:server",
                             parsed->events.size());
    return respond(
        TooManyRequests(Error(ResourceExhausted(limited->message)), limited->retry_after_s));
  }
  std::vector<Status> errors;
  std::vector<StoredEvent> events;
  errors.reserve(parsed->events.size());
  events.reserve(parsed->events.size());
  for (auto& e : parsed->events) {
    errors.push_back(e.status);
    if (e.status.ok())
      events.emplace_back(std::move(*e.event));
    else
      metrics_.CountRejected(Metrics::ReasonLabel(e.status.message()), 1);
  }
  auto debug = debugger_.Prepare(req.path, parsed->pixel_id, errors, events);
  std::string warnings = WarningsJson(*parsed);
  if (events.empty()) {
    BatchTally t;
    WriteOutcomes(errors, nullptr, t);
    t.warnings = std::move(warnings);
    return respond(Json(400, TallyJson(t)));
  }
  size_t n = events.size();
  Status st = store_->Submit(
      std::move(events), [this, respond, errors = std::move(errors), n, debug = std::move(debug),
                          warnings = std::move(warnings)](WriteResult wr) mutable {
        debugger_.RecordWrite(debug, wr);
        if (!wr.status.ok()) {
          metrics_.CountRejected("store:error", n);
          return respond(Error(wr.status));
        }
        BatchTally t;
        WriteOutcomes(errors, &wr, t);
        t.warnings = std::move(warnings);
        metrics_.CountEvents("accepted", t.accepted);
        metrics_.CountEvents("duplicate", t.duplicate);
        respond(Json(200, TallyJson(t)));
      });
  if (!st.ok()) {
    metrics_.CountRejected("queue:full", n);
    debugger_.RecordRejected(req.path, parsed->pixel_id, st.message(), "queue:full", n);
    respond(Error(st));
  }
}

namespace {

// Shared tail of the two pixel endpoints: checks the pixel and origin, then stores.
Status CheckPixel(store::EventStore* store, const HttpRequest& req, const std::string& pixel_id) {
  auto pixel = store->FindPixel(pixel_id);
  if (!pixel) return NotFound("pixel_id: unknown pixel " + pixel_id);
  if (!pixel->allowed_origins.empty()) {
    std::string_view origin = req.Header("origin");
    if (origin.empty()) {
      // <img> requests carry no Origin; fall back to the Referer's origin.
      std::string_view ref = req.Header("referer");
      size_t scheme = ref.find("://");
      size_t slash = scheme == std::string_view::npos ? ref.npos : ref.find('/', scheme + 3);
      origin = ref.substr(0, slash);
    }
    bool ok = false;
    for (const auto& o : pixel->allowed_origins) ok |= o == origin;
    if (!ok)
      return PermissionDenied("origin " + std::string(origin) + ": not allowed for pixel " +
                              pixel_id);
  }
  return OkStatus();
}

}  // namespace

void Api::PixelBeacon(HttpRequest& req, Responder& respond) {
  auto parsed = ingest::ParsePixelBeacon(req.body, Context());
  // The pixel is named in the body: with its own maximum value, its events are checked again.
  if (parsed.ok() && store_->FindPixel(parsed->pixel_id) &&
      LimitsOf(parsed->pixel_id).max_value != options_.limits.max_value)
    parsed = ingest::ParsePixelBeacon(req.body, Context(parsed->pixel_id));
  auto fail = [&](const Status& st, size_t n) {
    std::string reason = st.code() == StatusCode::kResourceExhausted ? "queue:full"
                         : st.code() == StatusCode::kPermissionDenied
                             ? "origin:not_allowed"
                             : Metrics::ReasonLabel(st.message());
    metrics_.CountRejected(reason, n);
    debugger_.RecordRejected(req.path, parsed.ok() ? parsed->pixel_id : "", st.message(), reason,
                             n);
    HttpResponse r = Error(st);
    AddCors(req, r);
    respond(std::move(r));
  };
  if (!parsed.ok()) return fail(parsed.status(), 1);
  if (Status st = CheckPixel(store_, req, parsed->pixel_id); !st.ok())
    return fail(st, parsed->events.size());
  if (auto limited = OverLimit(req, parsed->pixel_id, parsed->events.size(), false)) {
    debugger_.RecordRejected(req.path, parsed->pixel_id, limited->message, "rate_limited",
                             parsed->events.size());
    HttpResponse r =
        TooManyRequests(Error(ResourceExhausted(limited->message)), limited->retry_after_s);
    AddCors(req, r);
    return respond(std::move(r));
  }
  std::vector<Status> errors;
  std::vector<StoredEvent> events;
  errors.reserve(parsed->events.size());
  events.reserve(parsed->events.size());
  std::string ip = ClientIp(req);
  std::string ua(req.Header("user-agent"));
  for (auto& e : parsed->events) {
    errors.push_back(e.status);
    if (!e.status.ok()) {
      metrics_.CountRejected(Metrics::ReasonLabel(e.status.message()), 1);
      continue;
    }
    if (e.event->user.ip.empty()) e.event->user.ip = ip;
    if (e.event->user.user_agent.empty()) e.event->user.user_agent = ValidUtf8Prefix(ua, 1024);
    events.emplace_back(std::move(*e.event));
  }
  auto debug = debugger_.Prepare(req.path, parsed->pixel_id, errors, events);
  std::string warnings = WarningsJson(*parsed);
  if (events.empty()) {
    BatchTally t;
    WriteOutcomes(errors, nullptr, t);
    t.warnings = std::move(warnings);
    HttpResponse r = Json(400, TallyJson(t));
    AddCors(req, r);
    return respond(std::move(r));
  }
  size_t n = events.size();
  std::string origin(req.Header("origin"));
  Status st =
      store_->Submit(std::move(events), [this, respond, errors = std::move(errors), n, origin,
                                         debug = std::move(debug),
                                         warnings = std::move(warnings)](WriteResult wr) mutable {
        debugger_.RecordWrite(debug, wr);
        HttpRequest cors;
        if (!origin.empty()) cors.headers.emplace_back("origin", origin);
        HttpResponse r;
        if (!wr.status.ok()) {
          metrics_.CountRejected("store:error", n);
          r = Error(wr.status);
        } else {
          BatchTally t;
          WriteOutcomes(errors, &wr, t);
          t.warnings = std::move(warnings);
          metrics_.CountEvents("accepted", t.accepted);
          metrics_.CountEvents("duplicate", t.duplicate);
          r = Json(200, TallyJson(t));
        }
        AddCors(cors, r);
        respond(std::move(r));
      });
  if (!st.ok()) fail(st, n);
}

// The pixel GET's answer once its event is stored. It owns the responder (moved in, not copied:
// a copy would cost allocations here and frees and a reference count on the writer thread, where
// it runs), and it is a named type so that PixelGif can take the responder back when the store
// refuses the write (Submit leaves a refused callback with its caller).
struct Api::PixelGifDone {
  Api* api;
  Responder respond;
  EventDebugger::Pending debug;
  std::string not_stored;  // X-Touchpoint-Not-Stored: the parameters not kept, or ""

  void operator()(WriteResult wr) {
    api->debugger_.RecordWrite(debug, wr);
    if (!wr.status.ok()) {
      api->metrics_.CountRejected("store:error", 1);
      return respond(Error(wr.status));
    }
    api->metrics_.CountEvents(wr.outcomes[0] == WriteOutcome::kAccepted ? "accepted" : "duplicate",
                              1);
    HttpResponse r;
    r.content_type = "image/gif";
    r.static_body = std::string_view(reinterpret_cast<const char*>(kGif), sizeof kGif);
    r.static_headers = kGifHeaders;
    if (!not_stored.empty()) r.headers.emplace_back("X-Touchpoint-Not-Stored", not_stored);
    respond(std::move(r));
  }
};

void Api::PixelGif(HttpRequest& req, Responder& respond) {
  auto parsed = ingest::ParsePixelQuery(req.query, Context());
  if (parsed.ok() && store_->FindPixel(parsed->pixel_id) &&
      LimitsOf(parsed->pixel_id).max_value != options_.limits.max_value)
    parsed = ingest::ParsePixelQuery(req.query, Context(parsed->pixel_id));
  auto fail = [&](const Status& st) {
    std::string reason = st.code() == StatusCode::kResourceExhausted ? "queue:full"
                         : st.code() == StatusCode::kPermissionDenied
                             ? "origin:not_allowed"
                             : Metrics::ReasonLabel(st.message());
    metrics_.CountRejected(reason, 1);
    debugger_.RecordRejected(req.path, parsed.ok() ? parsed->pixel_id : "", st.message(), reason);
    respond(Error(st));
  };
  if (!parsed.ok()) return fail(parsed.status());
  if (Status st = CheckPixel(store_, req, parsed->pixel_id); !st.ok()) return fail(st);
  if (auto limited = OverLimit(req, parsed->pixel_id, 1, false)) {
    // Still a GIF (an <img> shows no error), with the status and the wait; nothing stored.
    debugger_.RecordRejected(req.path, parsed->pixel_id, limited->message, "rate_limited");
    HttpResponse r;
    r.content_type = "image/gif";
    r.static_body = std::string_view(reinterpret_cast<const char*>(kGif), sizeof kGif);
    r.static_headers = kGifHeaders;
    return respond(TooManyRequests(std::move(r), limited->retry_after_s));
  }
  SiteEvent& ev = *parsed->events[0].event;
  if (ev.user.ip.empty()) ev.user.ip = ClientIp(req);
  if (ev.user.user_agent.empty())
    ev.user.user_agent = ValidUtf8Prefix(req.Header("user-agent"), 1024);
  std::vector<StoredEvent> events;
  events.emplace_back(std::move(ev));
  // An image carries no body to warn in: the parameters not kept are named in a header, the
  // names that are plain ASCII tokens only (the rest are counted).
  std::string not_stored;
  size_t unnamed = 0;
  for (const auto& name : parsed->warnings) {
    const bool token = std::all_of(name.begin(), name.end(), [](char c) {
      return IsAsciiAlnum(c) || c == '_' || c == '-' || c == '.' || c == '[' || c == ']';
    });
    if (token && not_stored.size() < 512)
      not_stored += (not_stored.empty() ? "" : ", ") + name;
    else
      ++unnamed;
  }
  if (unnamed) not_stored += (not_stored.empty() ? "" : ", ") + std::to_string(unnamed) + " more";
  store::WriteCallback done = PixelGifDone{
      this, std::move(respond), debugger_.Prepare(req.path, parsed->pixel_id, {}, events),
      std::move(not_stored)};
  if (Status st = store_->Submit(std::move(events), std::move(done)); !st.ok()) {
    respond = std::move(done.target<PixelGifDone>()->respond);  // refused: ours again
    fail(st);
  }
}

void Api::AdEvents(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  auto parsed = ingest::ParseAdEvents(req.body, Context());
  if (!parsed.ok()) {
    metrics_.CountRejected(Metrics::ReasonLabel(parsed.status().message()), 1);
    debugger_.RecordRejected(req.path, "", parsed.status().message(),
                             Metrics::ReasonLabel(parsed.status().message()));
    return respond(Error(parsed.status()));
  }
  std::vector<Status> errors;
  std::vector<StoredEvent> events;
  errors.reserve(parsed->size());
  events.reserve(parsed->size());
  for (auto& e : *parsed) {
    errors.push_back(e.status);
    if (e.status.ok())
      events.emplace_back(std::move(*e.event));
    else
      metrics_.CountRejected(Metrics::ReasonLabel(e.status.message()), 1);
  }
  auto debug = debugger_.Prepare(req.path, "", errors, events);
  if (events.empty()) {
    BatchTally t;
    WriteOutcomes(errors, nullptr, t);
    return respond(Json(400, TallyJson(t)));
  }
  size_t n = events.size();
  Status st = store_->Submit(std::move(events), [this, respond, errors = std::move(errors), n,
                                                 debug = std::move(debug)](WriteResult wr) mutable {
    debugger_.RecordWrite(debug, wr);
    if (!wr.status.ok()) {
      metrics_.CountRejected("store:error", n);
      return respond(Error(wr.status));
    }
    BatchTally t;
    WriteOutcomes(errors, &wr, t);
    metrics_.CountEvents("accepted", t.accepted);
    metrics_.CountEvents("duplicate", t.duplicate);
    respond(Json(200, TallyJson(t)));
  });
  if (!st.ok()) {
    metrics_.CountRejected("queue:full", n);
    debugger_.RecordRejected(req.path, "", st.message(), "queue:full", n);
    respond(Error(st));
  }
}

void Api::Click(HttpRequest& req, Responder& respond) {
  auto ad_id = format::PercentDecode(std::string_view(req.path).substr(3));
  auto catalog = store_->GetCatalog();
  auto ref = ad_id ? catalog->FindAd(*ad_id) : std::nullopt;
  if (!ref) {
    metrics_.CountRejected("click:unknown_ad", 1);
    debugger_.RecordRejected(req.path, "", "ad_id: unknown ad " + ad_id.value_or(""),
                             "click:unknown_ad");
    HttpResponse r = Error(NotFound("ad_id: unknown ad " + ad_id.value_or("")));
    return respond(std::move(r));
  }
  // Only ever to the catalog's landing URL: nothing in the request can change the target.
  static const char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
  unsigned char raw[24];
  RAND_bytes(raw, sizeof raw);
  std::string click_id = "TPC.";
  for (unsigned char b : raw) click_id += kAlphabet[b & 63];
  AdEvent ev;
  ev.type = AdEventType::kClick;
  ev.ad_id = ref->ad->ad_id;
  ev.click_id = click_id;
  ev.event_time_ms = clock_->NowMs();
  if (auto q = format::ParseQuery(req.query)) {
    for (auto& [k, v] : *q) {
      if (v.size() > 128) continue;
      if (k == "user_key")
        ev.user_key = v;
      else if (k == "age" && ingest::IsAgeBucket(v))
        ev.age = v;
      else if (k == "gender" && ingest::IsGender(v))
        ev.gender = v;
      else if (k == "country")
        ev.country = v;
      else if (k == "region")
        ev.region = v;
      else if (k == "placement")
        ev.placement = v;
      else if (k == "os")
        ev.os = v;
      else if (k == "device")
        ev.device = v;
    }
  }
  std::string location = format::AddQueryParam(ref->ad->landing_url, "ttclid", click_id);
  auto redirect = [location] {
    HttpResponse r;
    r.status = 302;
    r.content_type = "text/plain";
    r.body = "Redirecting to " + location;
    r.headers.emplace_back("Location", location);
    r.headers.emplace_back("Cache-Control", "no-store");
    r.headers.emplace_back("Referrer-Policy", "no-referrer-when-downgrade");
    r.static_headers = kRedirectHeaders;
    return r;
  };
  if (auto limited = OverLimit(req, "", 1, false)) {
    // The person still goes on to the landing page; the click is not stored, and counted.
    debugger_.RecordRejected(req.path, "", limited->message, "rate_limited");
    return respond(redirect());
  }
  std::vector<StoredEvent> events;
  events.emplace_back(std::move(ev));
  auto debug = debugger_.Prepare(req.path, "", {}, events);
  Status st = store_->Submit(std::move(events), [this, respond, redirect,
                                                 debug = std::move(debug)](WriteResult wr) mutable {
    debugger_.RecordWrite(debug, wr, "click:store_error");
    if (wr.status.ok()) {
      metrics_.CountEvents("accepted", 1);
    } else {
      metrics_.CountRejected("click:store_error", 1);
      spdlog::error("click not recorded: {}", wr.status.message());
    }
    respond(redirect());
  });
  if (!st.ok()) {
    // A person is waiting: send them on even if the click cannot be recorded, and say so.
    metrics_.CountRejected("click:queue_full", 1);
    debugger_.RecordRejected(req.path, "", st.message(), "click:queue_full");
    spdlog::warn("click not recorded ({}), redirecting anyway", st.message());
    respond(redirect());
  }
}

// --- Management --------------------------------------------------------------------------------

void Api::CreatePixel(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  simdjson::dom::parser parser;
  auto body_object = BodyObject(parser, req.body);
  if (!body_object.ok()) return respond(Error(body_object.status()));
  simdjson::dom::object obj = *body_object;
  std::string name;
  if (Status st = format::ReadString(obj, "name", "", 200, name); !st.ok())
    return respond(Error(st));
  if (name.empty()) return respond(Error(InvalidArgument("name", ": required")));
  std::vector<std::string> origins;
  if (Status st = format::ReadStringList(obj, "allowed_origins", "", 200, origins); !st.ok())
    return respond(Error(st));
  for (const auto& o : origins)
    if (!format::IsHttpUrl(o) || o.find('/', o.find("://") + 3) != std::string::npos)
      return respond(Error(InvalidArgument("allowed_origins",
                                           ": each must be an origin like https://shop.example")));
  // An existing pixel's ids (TikTok's pixel code and Events API token) may be kept.
  std::string pixel_id, access_token;
  if (Status st = format::ReadString(obj, "pixel_id", "", 64, pixel_id); !st.ok())
    return respond(Error(st));
  if (Status st = format::ReadString(obj, "access_token", "", 256, access_token); !st.ok())
    return respond(Error(st));
  auto all_of = [](std::string_view s, auto pred) { return std::all_of(s.begin(), s.end(), pred); };
  if (!pixel_id.empty() &&
      !all_of(pixel_id, [](char c) { return IsAsciiAlnum(c) || c == '_' || c == '-' || c == '.'; }))
    return respond(Error(InvalidArgument(
        "pixel_id", ": letters, digits, '_', '-' and '.' only (e.g. TikTok's pixel code)")));
  if (!access_token.empty() && (access_token.size() < 16 ||
                                !all_of(access_token, [](char c) { return c > ' ' && c < 127; })))
    return respond(Error(
        InvalidArgument("access_token", ": at least 16 printable characters without spaces")));
  auto created = store_->CreatePixel(name, origins, pixel_id, access_token);
  if (!created.ok()) return respond(Error(created.status()));
  const store::Pixel& pixel = created->pixel;
  spdlog::info("created pixel {} ({})", pixel.pixel_id, pixel.name);
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("pixel_id").String(pixel.pixel_id).Key("name").String(pixel.name);
  w.Key("access_token").String(created->access_token).EndObject();
  respond(Json(201, std::move(body)));
}

namespace {

void WriteTokenInfo(JsonWriter& w, const store::TokenInfo& t) {
  w.BeginObject().Key("prefix").String(t.prefix).Key("created_at_ms").Int(t.created_ms);
  w.Key("expires_at_ms");
  if (t.expires_ms == 0)
    w.Null();
  else
    w.Int(t.expires_ms);
  w.EndObject();
}

// The body of a token request: {"grace_hours": 24, "keep_existing": false,
// "expires_in_hours": 0}, every field optional; an empty body takes the defaults.
Status ParseIssueOptions(std::string_view text, store::IssueOptions& out) {
  if (text.find_first_not_of(" \t\r\n") == std::string_view::npos) return OkStatus();
  simdjson::dom::parser parser;
  auto body = BodyObject(parser, text);
  if (!body.ok()) return body.status();
  simdjson::dom::object obj = *body;
  for (auto field : obj) {
    const std::string_view key = field.key;
    if (key == "keep_existing") {
      if (field.value.get_bool().get(out.keep_existing))
        return InvalidArgument("keep_existing", ": must be true or false");
      continue;
    }
    if (key != "grace_hours" && key != "expires_in_hours")
      return InvalidArgument(key, ": unknown field (grace_hours, keep_existing, expires_in_hours)");
    double hours = 0;
    if (field.value.get_double().get(hours) || !(hours >= 0 && hours <= 24 * 366))
      return InvalidArgument(key, ": must be a number of hours from 0 to 8784");
    (key == "grace_hours" ? out.grace_ms : out.ttl_ms) = static_cast<int64_t>(hours * 3600e3);
  }
  return OkStatus();
}

}  // namespace

void Api::IssueToken(HttpRequest& req, Responder& respond, bool admin) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  store::IssueOptions options;
  if (Status st = ParseIssueOptions(req.body, options); !st.ok()) return respond(Error(st));
  std::string pixel_id;
  StatusOr<store::IssuedToken> issued = Internal("");
  if (admin) {
    if (options.keep_existing || options.ttl_ms > 0)
      return respond(
          Error(InvalidArgument(options.keep_existing ? "keep_existing" : "expires_in_hours",
                                ": not for the admin token (one at a time)")));
    issued = store_->RotateAdminToken(options);
    if (issued.ok() && options_.on_admin_token_rotated) {
      if (Status st = options_.on_admin_token_rotated(issued->token); !st.ok())
        return respond(Error(st));
    }
  } else {
    pixel_id = PixelIdInPath(req.path, "/tokens");
    issued = store_->IssuePixelToken(pixel_id, options);
  }
  if (!issued.ok()) return respond(Error(issued.status()));
  spdlog::info("{}: new token {}..., {} other tokens {}", admin ? "admin" : "pixel " + pixel_id,
               issued->info.prefix, issued->previous.size(),
               options.keep_existing
                   ? "kept as they were"
                   : "stop at " + FormatIso8601Ms(clock_->NowMs() + options.grace_ms));
  std::string body;
  JsonWriter w(body);
  w.BeginObject();
  if (!admin) w.Key("pixel_id").String(pixel_id);
  w.Key(admin ? "admin_token" : "access_token").String(issued->token);
  w.Key("token");
  WriteTokenInfo(w, issued->info);
  w.Key("previous").BeginArray();
  for (const auto& t : issued->previous) WriteTokenInfo(w, t);
  w.EndArray().EndObject();
  respond(Json(201, std::move(body)));
}

void Api::ListPixels(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  std::string body;
  JsonWriter w(body);
  const auto conversion = ConversionEventsByPixel();
  w.BeginObject().Key("pixels").BeginArray();
  for (const auto& p : store_->ListPixels()) {
    w.BeginObject().Key("pixel_id").String(p.pixel_id).Key("name").String(p.name);
    w.Key("created_at_ms").Int(p.created_ms);
    w.Key("allowed_origins").BeginArray();
    for (const auto& o : p.allowed_origins) w.String(o);
    w.EndArray();
    // Which tokens exist and until when: never the tokens themselves (only digests are kept).
    w.Key("tokens").BeginArray();
    const int64_t now = clock_->NowMs();
    for (const auto& t : store_->ListPixelTokens(p.pixel_id))
      if (t.ValidAt(now)) WriteTokenInfo(w, t);
    w.EndArray().Key("conversion_events").BeginArray();
    if (auto it = conversion.find(p.pixel_id); it != conversion.end())
      for (const auto& e : it->second) w.String(e);
    w.EndArray().EndObject();
  }
  w.EndArray().EndObject();
  respond(Json(200, std::move(body)));
}

void Api::PutCatalog(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  auto cat = format::ParseCatalog(req.body);
  if (!cat.ok()) return respond(Error(cat.status()));
  if (Status st = store_->PutCatalog(*cat); !st.ok()) return respond(Error(st));
  if (live_) live_->SetCatalog(store_->GetCatalog());
  spdlog::info("catalog replaced: {} campaigns, {} ads", cat->campaigns.size(), cat->AdCount());
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("campaigns").Int(static_cast<int64_t>(cat->campaigns.size()));
  w.Key("ads").Int(static_cast<int64_t>(cat->AdCount())).EndObject();
  respond(Json(200, std::move(body)));
}

void Api::GetCatalog(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  respond(Json(200, format::CatalogToJson(*store_->GetCatalog())));
}

void Api::PutSpend(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  auto parsed = ingest::ParseSpendImport(req.body);
  if (!parsed.ok()) return respond(Error(parsed.status()));
  if (Status st = store_->PutSpend(parsed->spend, parsed->stats); !st.ok())
    return respond(Error(st));
  if (live_) {
    auto all = store_->GetSpend();
    if (all.ok()) live_->SetSpend(std::move(*all));
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("rows").Int(static_cast<int64_t>(parsed->spend.size()));
  w.Key("format").String(parsed->format);
  w.Key("platform_rows").Int(static_cast<int64_t>(parsed->stats.size())).EndObject();
  respond(Json(200, std::move(body)));
}

void Api::GetSpend(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  auto spend = store_->GetSpend();
  if (!spend.ok()) return respond(Error(spend.status()));
  auto stats = store_->GetPlatformStats();
  if (!stats.ok()) return respond(Error(stats.status()));
  auto date = [](int64_t day_ms) { return FormatIso8601Ms(day_ms).substr(0, 10); };
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("spend").BeginArray();
  for (const auto& r : *spend) {
    w.BeginObject().Key("date").String(date(r.day_ms)).Key("ad_id").String(r.ad_id);
    w.Key("spend").Double(r.spend).Key("currency").String(r.currency).EndObject();
  }
  w.EndArray().Key("platform_stats").BeginArray();
  for (const auto& r : *stats) {
    w.BeginObject().Key("date").String(date(r.day_ms)).Key("ad_id").String(r.ad_id);
    w.Key("platform").String(r.platform).Key("age").String(r.age).Key("gender").String(r.gender);
    w.Key("spend");
    r.spend ? w.Double(*r.spend) : w.Null();
    for (auto [key, v] : {std::pair{"impressions", r.impressions}, std::pair{"clicks", r.clicks},
                          std::pair{"video_views", r.video_views}}) {
      w.Key(key);
      v ? w.Int(*v) : w.Null();
    }
    w.Key("currency").String(r.currency).EndObject();
  }
  w.EndArray().EndObject();
  respond(Json(200, std::move(body)));
}

void Api::Export(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  auto q = format::ParseQuery(req.query);
  if (!q) return respond(Error(InvalidArgument("query", ": malformed percent-encoding")));
  store::ExportQuery eq;
  for (auto& [k, v] : *q) {
    if (k == "pixel_id") {
      eq.pixel_id = v;
    } else if (k == "type") {
      if (v != "site" && v != "ad")
        return respond(Error(InvalidArgument("type", ": must be site or ad")));
      eq.ads = v == "ad";
    } else if (k == "from" || k == "to") {
      auto t = ParseTimeParam(v);
      if (!t)
        return respond(Error(InvalidArgument(k, ": must be Unix seconds, YYYY-MM-DD or ISO 8601")));
      (k == "from" ? eq.from_ms : eq.to_ms) = *t;
    }
  }
  if (!eq.ads && eq.pixel_id.empty())
    return respond(Error(InvalidArgument("pixel_id", ": required (or type=ad for ad events)")));
  if (!eq.ads && !store_->FindPixel(eq.pixel_id))
    return respond(Error(NotFound("pixel_id: unknown pixel " + eq.pixel_id)));
  workers_.Post([this, eq, respond] {
    // Streamed in pieces of about 64 KiB as the rows are read (chunked), with backpressure from
    // the socket; an export that fits in one piece is sent whole, with a Content-Length.
    constexpr size_t kPiece = 64 << 10;
    auto answer = [&respond](std::string body, std::shared_ptr<BodyStream> stream) {
      HttpResponse r;
      r.content_type = "application/x-ndjson";
      r.body = std::move(body);
      r.stream = std::move(stream);
      respond(std::move(r));
    };
    std::string piece;
    std::shared_ptr<BodyStream> stream;  // set once the first piece has gone out
    bool gone = false;                   // the client went away
    Status st = store_->Export(eq, [&](std::string_view line) {
      piece.append(line);
      piece += '\n';
      if (piece.size() < kPiece) return true;
      if (!stream) {
        stream = std::make_shared<BodyStream>();
        answer(std::move(piece), stream);
      } else if (!stream->Push(std::move(piece))) {
        gone = true;
        return false;
      }
      piece.clear();
      return true;
    });
    if (!stream) {
      if (!st.ok()) return respond(Error(st));
      return answer(std::move(piece), nullptr);
    }
    if (st.ok() && !gone && !piece.empty()) gone = !stream->Push(std::move(piece));
    if (!st.ok())  // too late for an error status: the body ends without its last chunk
      spdlog::error("export of pixel '{}' stopped: {}", eq.pixel_id, st.message());
    stream->Finish(st.ok() && !gone);
  });
}

namespace {

// {"percent":42.5,"events_loaded":N,"events_total":M,"seconds":S} (docs/api.md#loading).
void WriteLoadProgress(JsonWriter& w, const query::LoadProgress& p) {
  w.BeginObject();
  w.Key("percent").Double(std::floor(p.percent * 10) / 10);
  w.Key("events_loaded").Int(static_cast<int64_t>(p.events_loaded));
  w.Key("events_total").Int(static_cast<int64_t>(p.events_total));
  w.Key("seconds").Double(std::round(p.seconds * 10) / 10);
  w.EndObject();
}

}  // namespace

bool Api::AnswerIfLoading(Responder& respond) {
  if (live_->loaded()) return false;
  const query::LoadProgress p = live_->Progress();
  char message[160];
  std::snprintf(message, sizeof message,
                "loading: the stored events are being loaded into memory (%.1f %%); retry later",
                std::floor(p.percent * 10) / 10);
  if (p.state == query::LoadProgress::State::kFailed)
    std::snprintf(message, sizeof message, "the stored events could not be loaded (see the log)");
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("error").String(message).Key("loading");
  WriteLoadProgress(w, p);
  w.EndObject();
  HttpResponse r =
      Json(p.state == query::LoadProgress::State::kFailed ? 500 : 503, std::move(body));
  if (p.state != query::LoadProgress::State::kFailed) r.headers.emplace_back("Retry-After", "1");
  r.headers.emplace_back("Cache-Control", "no-store");
  respond(std::move(r));
  return true;
}

void Api::Healthz(HttpRequest&, Responder& respond) {
  if (!live_ || live_->loaded()) return respond(Json(200, R"({"status":"ok"})"));
  // Still 200 while loading: the collector accepts ingest, so a load balancer should keep it in
  // rotation (docs/operations.md#start-up); a failed load stops the server.
  const query::LoadProgress p = live_->Progress();
  const bool failed = p.state == query::LoadProgress::State::kFailed;
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("status").String(failed ? "failed" : "loading").Key("loading");
  WriteLoadProgress(w, p);
  w.EndObject();
  HttpResponse r = Json(failed ? 503 : 200, std::move(body));
  r.headers.emplace_back("Cache-Control", "no-store");
  respond(std::move(r));
}

void Api::Report(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  if (!live_) return respond(Error(Unavailable("reports are not enabled on this server")));
  auto q = format::ParseQuery(req.query);
  if (!q) return respond(Error(InvalidArgument("query", ": malformed percent-encoding")));
  auto parsed = query::ParseReportParams(*q, clock_->NowMs());
  if (!parsed.ok()) return respond(Error(parsed.status()));
  if (AnswerIfLoading(respond)) return;
  parsed->query.pixel_events = ConversionEventsByPixel();
  workers_.Post([this, request = std::move(*parsed), respond] {
    auto result = live_->Read([&](const query::Dataset& d) -> StatusOr<query::ReportResult> {
      if (!request.flag_cvr) return query::RunReport(d, request.query);
      // Flags are a family over every row, so the limit applies after them.
      query::ReportQuery all = request.query;
      all.limit = 0;
      auto r = query::RunReport(d, all);
      if (!r.ok()) return r;
      TP_RETURN_IF_ERROR(query::FlagLowCvr(d, all, *r));
      if (request.query.limit && r->rows.size() > request.query.limit)
        r->rows.resize(request.query.limit);
      return r;
    });
    if (!result.ok()) return respond(Error(result.status()));
    HttpResponse r;
    if (request.format == "csv") {
      r.content_type = "text/csv; charset=utf-8";
      r.body = query::ReportToCsv(request.query, *result, request.metrics);
    } else {
      r.body = query::ReportToJson(request.query, *result, request.metrics);
    }
    respond(std::move(r));
  });
}

void Api::Funnel(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  if (!live_) return respond(Error(Unavailable("reports are not enabled on this server")));
  auto q = format::ParseQuery(req.query);
  if (!q) return respond(Error(InvalidArgument("query", ": malformed percent-encoding")));
  auto parsed = query::ParseFunnelParams(*q, clock_->NowMs());
  if (!parsed.ok()) return respond(Error(parsed.status()));
  if (AnswerIfLoading(respond)) return;
  parsed->query.pixel_events = ConversionEventsByPixel();
  workers_.Post([this, request = std::move(*parsed), respond] {
    auto result =
        live_->Read([&](const query::Dataset& d) { return query::RunFunnel(d, request.query); });
    if (!result.ok()) return respond(Error(result.status()));
    HttpResponse r;
    if (request.format == "table") {
      r.content_type = "text/plain; charset=utf-8";
      r.body = query::FunnelToTable(request.query, *result);
    } else {
      r.body = query::FunnelToJson(request.query, *result);
    }
    respond(std::move(r));
  });
}

void Api::Insights(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  if (!live_) return respond(Error(Unavailable("reports are not enabled on this server")));
  auto q = format::ParseQuery(req.query);
  if (!q) return respond(Error(InvalidArgument("query", ": malformed percent-encoding")));
  auto parsed = query::ParseInsightsParams(*q, clock_->NowMs());
  if (!parsed.ok()) return respond(Error(parsed.status()));
  if (AnswerIfLoading(respond)) return;
  parsed->query.report.pixel_events = ConversionEventsByPixel();
  workers_.Post([this, request = std::move(*parsed), respond] {
    auto result =
        live_->Read([&](const query::Dataset& d) { return query::RunInsights(d, request.query); });
    if (!result.ok()) return respond(Error(result.status()));
    HttpResponse r;
    if (request.format == "text") {
      r.content_type = "text/plain; charset=utf-8";
      r.body = query::InsightsToText(request.query, *result);
    } else {
      r.body = query::InsightsToJson(request.query, *result);
    }
    respond(std::move(r));
  });
}

void Api::Lift(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  if (req.path == "/api/v1/lift/geo") {  // the regions' totals come in the body
    auto json = query::GeoLiftJson(req.body);
    return respond(json.ok() ? Json(200, std::move(*json)) : Error(json.status()));
  }
  auto q = format::ParseQuery(req.query);
  if (!q) return respond(Error(InvalidArgument("query", ": malformed percent-encoding")));
  if (req.path == "/api/v1/lift/plan") {
    auto json = query::PlanLiftJson(*q);
    return respond(json.ok() ? Json(200, std::move(*json)) : Error(json.status()));
  }
  if (!live_) return respond(Error(Unavailable("reports are not enabled on this server")));
  auto parsed = query::ParseLiftParams(*q, clock_->NowMs());
  if (!parsed.ok()) return respond(Error(parsed.status()));
  if (AnswerIfLoading(respond)) return;
  if (parsed->query.events.empty()) {  // the pixel's conversion events, else purchases
    auto all = ConversionEventsByPixel();
    auto it = all.find(parsed->query.pixel_id);
    parsed->query.events = it != all.end() && !it->second.empty()
                               ? it->second
                               : std::vector<std::string>{"CompletePayment"};
  }
  workers_.Post([this, request = std::move(*parsed), respond] {
    const bool text = request.format == "text";
    HttpResponse r;
    if (text) r.content_type = "text/plain; charset=utf-8";
    if (request.list) {
      auto studies = live_->Read([](const query::Dataset& d) { return query::ListStudies(d); });
      r.body = text ? query::StudiesToText(studies) : query::StudiesToJson(studies);
      return respond(std::move(r));
    }
    auto answer =
        live_->Read([&](const query::Dataset& d) { return query::RunLift(d, request.query); });
    if (!answer.ok()) return respond(Error(answer.status()));
    r.body = text ? query::LiftToText(request.query, *answer)
                  : query::LiftToJson(request.query, *answer);
    respond(std::move(r));
  });
}

void Api::DebugEvents(HttpRequest& req, Responder& respond) {
  if (!IsAdmin(req))
    return respond(Error(Unauthenticated("Authorization: Bearer <admin token> required")));
  auto body = debugger_.QueryJson(req.query);
  if (!body.ok()) return respond(Error(body.status()));
  HttpResponse r = Json(200, std::move(*body));
  r.headers.emplace_back("Cache-Control", "no-store");
  respond(std::move(r));
}

namespace {

// A Prometheus histogram (cumulative buckets in seconds, _sum, _count) of store latencies.
void AppendHistogram(std::string& out, std::string_view name, std::string_view help,
                     const store::LatencyHistogram& h) {
  auto line = [&](std::string_view suffix, std::string_view labels, std::string_view value) {
    out.append(name).append(suffix).append(labels).append(" ").append(value).append("\n");
  };
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" histogram\n");
  char le[48], value[48];
  uint64_t cumulative = 0;
  for (size_t i = 0; i < h.kBoundsMs.size(); ++i) {
    cumulative += h.counts[i];
    std::snprintf(le, sizeof le, "{le=\"%g\"}", h.kBoundsMs[i] / 1000.0);
    line("_bucket", le, std::to_string(cumulative));
  }
  line("_bucket", "{le=\"+Inf\"}", std::to_string(h.count));
  std::snprintf(value, sizeof value, "%.6f", h.sum_ms / 1000.0);
  line("_sum", "", value);
  line("_count", "", std::to_string(h.count));
}

}  // namespace

void Api::MetricsPage(HttpRequest&, Responder& respond) {
  auto s = store_->Stats();
  std::string extra;
  extra += "# HELP touchpoint_commit_queue_events Events waiting for the next commit.\n";
  extra += "# TYPE touchpoint_commit_queue_events gauge\n";
  extra += "touchpoint_commit_queue_events " + std::to_string(s.queued_events) + "\n";
  extra += "# HELP touchpoint_commits_total Group commits to the durable log.\n";
  extra += "# TYPE touchpoint_commits_total counter\n";
  extra += "touchpoint_commits_total " + std::to_string(s.commits) + "\n";
  extra += "# HELP touchpoint_committed_events_total Events in those commits.\n";
  extra += "# TYPE touchpoint_committed_events_total counter\n";
  extra += "touchpoint_committed_events_total " + std::to_string(s.committed_events) + "\n";
  AppendHistogram(extra, "touchpoint_commit_seconds",
                  "A group commit's inserts and COMMIT (its fsync is touchpoint_wal_sync_seconds).",
                  s.commit_latency);
  AppendHistogram(extra, "touchpoint_wal_sync_seconds",
                  "Each fdatasync of the WAL that makes commits durable (durable mode).",
                  s.sync_latency);
  AppendHistogram(extra, "touchpoint_write_seconds",
                  "Each request's events from their hand-over to the store until their answer: "
                  "the wait for the writer, the commit and the sync.",
                  s.write_latency);
  char buf[64];
  extra += "# HELP touchpoint_write_seconds_max The longest of those since the server started.\n";
  extra += "# TYPE touchpoint_write_seconds_max gauge\n";
  std::snprintf(buf, sizeof buf, "%.6f", s.write_latency.max_ms / 1000.0);
  extra += std::string("touchpoint_write_seconds_max ") + buf + "\n";
  std::snprintf(buf, sizeof buf, "%.6f", s.last_commit_ms / 1000.0);
  extra += "# HELP touchpoint_last_commit_seconds Latency of the latest commit.\n";
  extra += "# TYPE touchpoint_last_commit_seconds gauge\n";
  extra += std::string("touchpoint_last_commit_seconds ") + buf + "\n";
  extra +=
      "# HELP touchpoint_wal_checkpoints_total WAL checkpoint passes (background copies of "
      "the WAL into the database file).\n";
  extra += "# TYPE touchpoint_wal_checkpoints_total counter\n";
  extra += "touchpoint_wal_checkpoints_total " + std::to_string(s.checkpoint_passes) + "\n";
  extra +=
      "# HELP touchpoint_wal_restarts_total Checkpoint passes that held commits off to start "
      "the WAL over (when the writer outran the background passes).\n";
  extra += "# TYPE touchpoint_wal_restarts_total counter\n";
  extra += "touchpoint_wal_restarts_total " + std::to_string(s.checkpoint_restarts) + "\n";
  extra += "# HELP touchpoint_wal_restart_seconds_total Time those passes held commits off.\n";
  extra += "# TYPE touchpoint_wal_restart_seconds_total counter\n";
  std::snprintf(buf, sizeof buf, "%.6f", s.checkpoint_restart_ms_sum / 1000.0);
  extra += std::string("touchpoint_wal_restart_seconds_total ") + buf + "\n";
  extra += "# HELP touchpoint_dedup_keys Event keys in the 48 h de-duplication window.\n";
  extra += "# TYPE touchpoint_dedup_keys gauge\n";
  extra += "touchpoint_dedup_keys " + std::to_string(s.dedup_keys) + "\n";
  if (live_) {  // the start-up load of the stored events (docs/operations.md#start-up)
    auto gauge = [&extra](std::string_view name, std::string_view help, std::string_view value) {
      extra.append("# HELP ").append(name).append(" ").append(help).append("\n");
      extra.append("# TYPE ").append(name).append(" gauge\n");
      extra.append(name).append(" ").append(value).append("\n");
    };
    const query::LoadProgress p = live_->Progress();
    gauge("touchpoint_query_loading",
          "1 while the stored events are being loaded into memory at start-up (reports answer "
          "503 meanwhile), else 0.",
          p.state == query::LoadProgress::State::kLoaded ? "0" : "1");
    gauge("touchpoint_query_load_events", "Stored events read by the start-up load.",
          std::to_string(p.events_loaded));
    gauge("touchpoint_query_load_events_total", "Stored events the start-up load reads.",
          std::to_string(p.events_total));
    std::snprintf(buf, sizeof buf, "%.4f", p.percent / 100);
    gauge("touchpoint_query_load_ratio", "How far the start-up load is, 0 to 1 (1: done).", buf);
    std::snprintf(buf, sizeof buf, "%.3f", p.seconds);
    gauge("touchpoint_query_load_seconds", "Time the start-up load has taken (so far).", buf);
  }
  if (listener_stats_) AppendListenerMetrics(extra, listener_stats_());
  HttpResponse r;
  r.content_type = "text/plain; version=0.0.4";
  r.body = metrics_.Render(extra);
  respond(std::move(r));
}

}  // namespace touchpoint::server
