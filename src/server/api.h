#pragma once
// The HTTP API (docs/api.md): collection endpoints, management, export, health and metrics.
// Routing is a flat table in api.cc; every handler answers exactly once through its Responder.

#include <memory>
#include <string>
#include <vector>

#include "core/time.h"
#include "ingest/ip.h"
#include "ingest/limits.h"
#include "query/dataset.h"
#include "server/event_debugger.h"
#include "server/http_server.h"
#include "server/metrics.h"
#include "server/worker_pool.h"
#include "store/event_store.h"

namespace touchpoint::server {

struct ApiOptions {
  std::string admin_token;
  ingest::IngestLimits limits;
  // Proxies whose X-Forwarded-For is believed (see ingest::ResolveClientIp); with none, the
  // header is ignored and the client is the connection's peer.
  std::vector<ingest::Cidr> trusted_proxies;
};

class Api final : public Handler {
 public:
  // `live` (may be null: no reports) is the in-memory dataset the report endpoints read.
  Api(store::EventStore* store, query::LiveDataset* live, const Clock* clock, ApiOptions options);
  ~Api() override;

  void Handle(HttpRequest request, Responder respond) override;
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
  void PutCatalog(HttpRequest& req, Responder& respond);
  void GetCatalog(HttpRequest& req, Responder& respond);
  void PutSpend(HttpRequest& req, Responder& respond);
  void Export(HttpRequest& req, Responder& respond);
  void Report(HttpRequest& req, Responder& respond);
  void Funnel(HttpRequest& req, Responder& respond);    // GET /api/v1/funnel
  void Insights(HttpRequest& req, Responder& respond);  // GET /api/v1/insights
  void MetricsPage(HttpRequest& req, Responder& respond);
  void DebugEvents(HttpRequest& req, Responder& respond);

  bool IsAdmin(const HttpRequest& req) const;
  ingest::ParseContext Context() const;
  std::string ClientIp(const HttpRequest& req) const;

  store::EventStore* store_;
  query::LiveDataset* live_;
  const Clock* clock_;
  ApiOptions options_;
  Metrics metrics_;
  EventDebugger debugger_{clock_};  // after clock_: initialised from it
  WorkerPool workers_{2};
};

}  // namespace touchpoint::server
