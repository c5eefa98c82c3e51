#include "sim/http_sender.h"

#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <thread>

#include "core/json_writer.h"
#include "format/catalog_file.h"
#include "sim/file_writer.h"

namespace touchpoint::sim {

namespace {

constexpr int kMaxAttempts = 120;

std::string ErrorOf(simdjson::dom::parser& parser, const std::string& body, int status) {
  simdjson::dom::element root;
  std::string_view msg;
  if (!parser.parse(body).get(root) && !root["error"].get_string().get(msg))
    return std::string(msg);
  if (!parser.parse(body).get(root) && !root["message"].get_string().get(msg))
    return std::string(msg);
  return "HTTP " + std::to_string(status);
}

}  // namespace

HttpSender::HttpSender(HttpSenderOptions options)
    : options_(std::move(options)),
      client_(options_.url, {.ca_file = options_.ca_file}),
      parser_(std::make_unique<simdjson::dom::parser>()) {}

HttpSender::~HttpSender() = default;

StatusOr<std::unique_ptr<HttpSender>> HttpSender::Connect(HttpSenderOptions options) {
  std::string host, port;
  if (!server::SplitHttpUrl(options.url, host, port))
    return InvalidArgument("--to-server", ": must be http://HOST:PORT or https://HOST:PORT");
  if (options.admin_token.empty())
    return InvalidArgument("--admin-token", ": required to send to a server");
  std::unique_ptr<HttpSender> s(new HttpSender(std::move(options)));
  auto res = s->Send("GET", "/api/v1/pixels", "", true, "");
  if (!res.ok()) return res.status();
  if (res->status == 401) return Unauthenticated("the server refused the admin token");
  if (res->status != 200)
    return Internal("GET /api/v1/pixels: HTTP " + std::to_string(res->status) + ": " + res->body);
  simdjson::dom::element root;
  simdjson::dom::array pixels;
  if (s->parser_->parse(res->body).get(root) || root["pixels"].get_array().get(pixels))
    return Internal("GET /api/v1/pixels: unexpected answer: " + res->body);
  for (simdjson::dom::element p : pixels) {
    std::string_view id, name;
    if (p["pixel_id"].get_string().get(id) || p["name"].get_string().get(name)) continue;
    bool match =
        s->options_.pixel_id.empty() ? name == s->options_.pixel_name : id == s->options_.pixel_id;
    if (match) {
      s->pixel_id_ = std::string(id);
      break;
    }
  }
  if (!s->pixel_id_.empty()) {
    // The server keeps only digests of a pixel's tokens: ask for one of our own, beside the
    // pixel's others (which keep working), that expires by itself after a day.
    const std::string target = "/api/v1/pixels/" + s->pixel_id_ + "/tokens";
    auto issued = s->Send("POST", target, R"({"keep_existing":true,"expires_in_hours":24})", true,
                          "application/json");
    if (!issued.ok()) return issued.status();
    std::string_view token;
    if (issued->status != 201 || s->parser_->parse(issued->body).get(root) ||
        root["access_token"].get_string().get(token))
      return Internal("POST " + target + ": HTTP " + std::to_string(issued->status) + ": " +
                      issued->body);
    s->access_token_ = std::string(token);
  }
  if (s->pixel_id_.empty()) {
    if (!s->options_.pixel_id.empty())
      return NotFound("pixel " + s->options_.pixel_id + ": not on the server");
    std::string body;
    JsonWriter w(body);
    w.BeginObject().Key("name").String(s->options_.pixel_name).EndObject();
    auto created = s->Send("POST", "/api/v1/pixels", body, true, "application/json");
    if (!created.ok()) return created.status();
    std::string_view id, token;
    if (created->status != 201 || s->parser_->parse(created->body).get(root) ||
        root["pixel_id"].get_string().get(id) || root["access_token"].get_string().get(token))
      return Internal("POST /api/v1/pixels: HTTP " + std::to_string(created->status) + ": " +
                      created->body);
    s->pixel_id_ = std::string(id);
    s->access_token_ = std::string(token);
    s->created_pixel_ = true;
  }
  return s;
}

StatusOr<server::ClientResponse> HttpSender::Send(std::string_view method, std::string_view target,
                                                  std::string_view body, bool admin,
                                                  std::string_view content_type) {
  std::vector<std::pair<std::string, std::string>> headers;
  if (admin)
    headers.emplace_back("Authorization", "Bearer " + options_.admin_token);
  else
    headers.emplace_back("Access-Token", access_token_);
  if (!content_type.empty()) headers.emplace_back("Content-Type", std::string(content_type));
  summary_.requests[std::string(target)]++;
  for (int attempt = 1;; ++attempt) {
    auto res = client_.Request(method, target, body, headers);
    if (!res.ok()) return res.status();
    if ((res->status != 503 && res->status != 429) || attempt == kMaxAttempts) return res;
    // "Retry later": the commit queue is full. Back off as told, then send the same body.
    summary_.throttled++;
    int seconds = 1;
    std::string after = res->Header("retry-after");
    if (!after.empty()) seconds = std::clamp(std::atoi(after.c_str()), 1, 10);
    std::this_thread::sleep_for(std::chrono::seconds(seconds));
  }
}

Status HttpSender::TallyPerEvent(const server::ClientResponse& res, size_t n) {
  summary_.sent += n;
  if (res.status == 401 || res.status == 403)
    return Unauthenticated("the server refused the credentials: " + res.body);
  if (res.status >= 500) return Internal("HTTP " + std::to_string(res.status) + ": " + res.body);
  simdjson::dom::element root;
  simdjson::dom::array results;
  if (res.status != 200 && res.status != 400) {
    summary_.Reject(ErrorOf(*parser_, res.body, res.status), n);
    return OkStatus();
  }
  if (parser_->parse(res.body).get(root) || root["results"].get_array().get(results)) {
    // A 400 for the whole body ({"error": ...}).
    summary_.Reject(ErrorOf(*parser_, res.body, res.status), n);
    return OkStatus();
  }
  size_t counted = 0;
  for (simdjson::dom::element r : results) {
    std::string_view status, error;
    if (r["status"].get_string().get(status)) continue;
    ++counted;
    if (status == "accepted") {
      summary_.accepted++;
    } else if (status == "duplicate") {
      summary_.duplicate++;
    } else {
      if (r["error"].get_string().get(error)) error = "rejected without a reason";
      summary_.Reject(error);
    }
  }
  if (counted != n)
    return Internal("the server answered " + std::to_string(counted) + " results for " +
                    std::to_string(n) + " events");
  return OkStatus();
}

Status HttpSender::Begin(const Simulator& sim) {
  auto res = Send("PUT", "/api/v1/catalog", format::CatalogToJson(sim.catalog()), true,
                  "application/json");
  if (!res.ok()) return res.status();
  if (res->status != 200)
    return Internal("PUT /api/v1/catalog: HTTP " + std::to_string(res->status) + ": " + res->body);
  return OkStatus();
}

Status HttpSender::SendBeacon(const Batch& batch, size_t index) {
  const std::string& e = batch.events[index];
  std::string body = "{\"pixel_id\":";
  AppendJsonString(body, pixel_id_);
  body += ',';
  body.append(e, 1);
  auto res = Send("POST", "/api/v1/pixel", body, false, "text/plain");
  if (!res.ok()) return res.status();
  return TallyPerEvent(*res, 1);
}

Status HttpSender::SendSite(const Batch& batch, const std::vector<size_t>& indices) {
  if (indices.empty()) return OkStatus();
  Batch part;
  part.channel = batch.channel;
  part.pixel_id = batch.unknown_pixel() ? batch.pixel_id : pixel_id_;
  bool native = batch.has_invalid || batch.unknown_pixel();
  for (size_t i : indices) part.events.push_back(batch.events[i]);
  std::string body = part.Body();
  if (native) {
    auto res = Send("POST", "/api/v1/events", body, false, "application/json");
    if (!res.ok()) return res.status();
    return TallyPerEvent(*res, indices.size());
  }
  auto res = Send("POST", "/open_api/v1.3/event/track/", body, false, "application/json");
  if (!res.ok()) return res.status();
  const size_t n = indices.size();
  if (res->status >= 500)
    return Internal("Events API: HTTP " + std::to_string(res->status) + ": " + res->body);
  summary_.sent += n;
  simdjson::dom::element root;
  int64_t code;
  if (parser_->parse(res->body).get(root) || root["code"].get_int64().get(code))
    return Internal("Events API: unexpected answer (HTTP " + std::to_string(res->status) +
                    "): " + res->body);
  if (code == 40001 || code == 40105)
    return Unauthenticated("the server refused the access token: " + res->body);
  if (code != 0) {
    std::string_view message;
    if (root["message"].get_string().get(message)) message = "rejected";
    summary_.Reject(message, n);
    return OkStatus();
  }
  int64_t accepted = 0, duplicate = 0;
  if (root["data"]["accepted"].get_int64().get(accepted) ||
      root["data"]["duplicate"].get_int64().get(duplicate) ||
      static_cast<size_t>(accepted + duplicate) != n)
    return Internal("Events API: answer does not add up for " + std::to_string(n) +
                    " events: " + res->body);
  summary_.accepted += static_cast<uint64_t>(accepted);
  summary_.duplicate += static_cast<uint64_t>(duplicate);
  return OkStatus();
}

Status HttpSender::Deliver(const Batch& batch) {
  if (batch.channel == Channel::kAdEvents) {
    auto res = Send("POST", "/api/v1/ad-events", batch.Body(), true, "application/x-ndjson");
    if (!res.ok()) return res.status();
    return TallyPerEvent(*res, batch.events.size());
  }
  std::vector<size_t> via_api;
  const Clock* clock = options_.clock ? options_.clock : &system_clock_;
  int64_t recent = clock->NowMs() - options_.beacon_window_ms;
  for (size_t i = 0; i < batch.events.size(); ++i) {
    bool beacon =
        batch.channel == Channel::kPixel && !batch.unknown_pixel() &&
        (options_.pixel_route == PixelRoute::kBeacon ||
         (options_.pixel_route == PixelRoute::kAuto && batch.event_times_ms[i] >= recent));
    if (beacon)
      TP_RETURN_IF_ERROR(SendBeacon(batch, i));
    else
      via_api.push_back(i);
  }
  return SendSite(batch, via_api);
}

Status HttpSender::Finish(const Simulator& sim) {
  auto res = Send("PUT", "/api/v1/spend", SpendCsv(sim.Spend()), true, "text/csv");
  if (!res.ok()) return res.status();
  if (res->status != 200)
    return Internal("PUT /api/v1/spend: HTTP " + std::to_string(res->status) + ": " + res->body);
  return OkStatus();
}

}  // namespace touchpoint::sim
