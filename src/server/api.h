#pragma once
// The HTTP API (docs/api.md): collection endpoints, management, export, health and metrics.
// Routing is a flat table in api.cc; every handler answers exactly once through its Responder.

#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "core/time.h"
#include "ingest/ip.h"
#include "ingest/limits.h"
#include "query/dataset.h"
#include "server/event_debugger.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/rate_limiter.h"
#include "server/worker_pool.h"
#include "store/event_store.h"

namespace touchpoint::server {

// Rate limits of the collection endpoints (docs/operations.md#rate-limits), counted in events.
// The anonymous endpoints (the pixel's beacon and GIF, the click redirect) are limited per client
// address and per pixel; the Events API (with the pixel's access token) per pixel, much higher.
// A pixel's own limits, set through PUT /api/v1/pixels/{id}/limits, replace the per-pixel ones.
struct CollectionLimits {
  RateLimit per_client{50, 500};  // a person sends a few events a page; 50/s is many people
  RateLimit anonymous_per_pixel{2000, 20000};  // a large shop's peak through the pixel
  RateLimit server_per_pixel{50000, 200000};   // an advertiser's backend, batching
};

struct PixelLimits {
  RateLimit anonymous;
  RateLimit server;
  double max_value = 0;  // an event's value, and a price, at most this (IngestLimits::max_value)
};

struct ApiOptions {
  // Admin tokens are the store's (EventStore::UseAdminToken). After POST /api/v1/admin/tokens
  // issued a new one, this is called with it (serve keeps it in the data directory's
  // admin_token file when that is where its token came from); an error fails the request.
  std::function<Status(const std::string& token)> on_admin_token_rotated;
  ingest::IngestLimits limits;
  // Proxies whose X-Forwarded-For is believed (see ingest::ResolveClientIp); with none, the
  // header is ignored and the client is the connection's peer.
  std::vector<ingest::Cidr> trusted_proxies;
  CollectionLimits rate_limits;
  // A client on the machine itself (127.0.0.0/8, ::1) is not limited per address: it is the
  // operator's own tooling, or a reverse proxy not declared trusted, behind which every visitor
  // would share one address. The per-pixel limits still apply.
  bool limit_loopback_clients = false;
};

class Api final : public Handler {
 public:
  // `live` (may be null: no reports) is the in-memory dataset the report endpoints read; until its
  // owner has loaded it (LiveDataset::LoadFrom, or StartLoad and the load is done), they answer
  // 503 "loading".
  Api(store::EventStore* store, query::LiveDataset* live, const Clock* clock, ApiOptions options);
  ~Api() override;

  void Handle(HttpRequest request, Responder respond) override;
  // TikTok paths (/open_api/...) get TikTok's envelope, code 40100, with the 503 and Retry-After;
  // others the listener's plain answer.
  HttpResponse Overloaded(const HttpRequest& head, const std::string& why) override;
  // Where /metrics reads the listener's counters (HttpServer::Stats). Before serving.
  void SetListenerStats(std::function<HttpServerStats()> stats) {
    listener_stats_ = std::move(stats);
  }
  Metrics& metrics() { return metrics_; }
  EventDebugger& debugger() { return debugger_; }

 private:
  struct Route;
  struct PixelGifDone;  // the pixel GET's write callback (api.cc)
  void Dispatch(HttpRequest& req, Responder& respond);

  // Collection
  void EventsApi(HttpRequest& req, Responder& respond,
                 int version);  // 2 = track, 1 = pixel/track, 11 = pixel/batch
  void NativeEvents(HttpRequest& req, Responder& respond);
  void PixelBeacon(HttpRequest& req, Responder& respond);
  void PixelGif(HttpRequest& req, Responder& respond);
  void AdEvents(HttpRequest& req, Responder& respond);
  void Click(HttpRequest& req, Responder& respond);
  // Management
  void CreatePixel(HttpRequest& req, Responder& respond);
  void ListPixels(HttpRequest& req, Responder& respond);
  // POST /api/v1/pixels/{id}/tokens and POST /api/v1/admin/tokens: a new token, the others
  // stop after a grace period (docs/api.md#tokens).
  void IssueToken(HttpRequest& req, Responder& respond, bool admin);
  void PutCatalog(HttpRequest& req, Responder& respond);
  void GetCatalog(HttpRequest& req, Responder& respond);
  void PutSpend(HttpRequest& req, Responder& respond);
  void GetSpend(HttpRequest& req, Responder& respond);
  void Export(HttpRequest& req, Responder& respond);
  void Report(HttpRequest& req, Responder& respond);
  void Funnel(HttpRequest& req, Responder& respond);    // GET /api/v1/funnel
  void Insights(HttpRequest& req, Responder& respond);  // GET /api/v1/insights
  // GET /api/v1/lift, GET /api/v1/lift/plan, POST /api/v1/lift/geo
  void Lift(HttpRequest& req, Responder& respond);
  void MetricsPage(HttpRequest& req, Responder& respond);
  void Healthz(HttpRequest& req, Responder& respond);  // "ok", or "loading" with the progress
  // While the stored events are being loaded (LiveDataset::loaded()), answers 503 with
  // Retry-After and the progress (docs/api.md#loading) and returns true.
  bool AnswerIfLoading(Responder& respond);
  void DebugEvents(HttpRequest& req, Responder& respond);

  // The {id} of an admin's /api/v1/pixels/{id}<suffix> call; nullopt once it has answered
  // 401 (not admin) or 404 (no such pixel).
  std::optional<std::string> AdminPixel(const HttpRequest& req, Responder& respond,
                                        std::string_view suffix);
  void PixelLimitsPage(HttpRequest& req, Responder& respond);  // GET/PUT .../pixels/{id}/limits
  // GET/PUT .../pixels/{id}/conversion_events
  void PixelConversionEventsPage(HttpRequest& req, Responder& respond);
  // Pixel id -> the events it counts as conversions (only pixels that set them), for queries.
  std::map<std::string, std::vector<std::string>> ConversionEventsByPixel();

  // Takes `events` from the rate limits that apply (the client address's for anonymous calls,
  // the pixel's); when over one, counts the refusal and returns the seconds to wait and why.
  struct Limited {
    int retry_after_s;
    std::string message;
  };
  std::optional<Limited> OverLimit(const HttpRequest& req, std::string_view pixel_id, size_t events,
                                   bool authenticated);
  PixelLimits LimitsOf(std::string_view pixel_id);

  bool IsAdmin(const HttpRequest& req) const;
  // The parse context; with a pixel, its own maximum value.
  ingest::ParseContext Context(std::string_view pixel_id = {});
  std::string ClientIp(const HttpRequest& req) const;  // truncated, as stored
  std::optional<ingest::IpAddress> ClientAddress(const HttpRequest& req) const;  // in full

  store::EventStore* store_;
  query::LiveDataset* live_;
  const Clock* clock_;
  ApiOptions options_;
  Metrics metrics_;
  EventDebugger debugger_{clock_};  // after clock_: initialised from it
  WorkerPool workers_{2};
  RateLimiter client_buckets_, pixel_buckets_, server_buckets_;
  std::mutex limits_mu_;
  std::unordered_map<std::string, PixelLimits> pixel_limits_;  // guarded by limits_mu_: cache
  std::mutex conversion_events_mu_;
  // Guarded by conversion_events_mu_: the stored settings, read once (nullopt: not yet).
  std::optional<std::map<std::string, std::vector<std::string>>> conversion_events_;
  std::function<HttpServerStats()> listener_stats_;  // may be empty: not rendered
};

}  // namespace touchpoint::server
