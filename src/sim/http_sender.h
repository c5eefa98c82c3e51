#pragma once
// --to-server URL: sends the simulated world to a running server through its real endpoints:
//   PUT  /api/v1/catalog, PUT /api/v1/spend                 (admin token)
//   POST /open_api/v1.3/event/track/   clean site batches (TikTok Events API 2.0; TikTok fails a
//                                      whole batch on one bad event, so batches the simulator
//                                      salted with invalid events go to the native endpoint)
//   POST /api/v1/events                batches holding invalid events (per-event results)
//   POST /api/v1/pixel                 pixel events of the last few minutes (the beacon stamps
//                                      the server's receive time, so older pixel events are
//                                      replayed through the Events API instead)
//   POST /api/v1/ad-events             ad logs, NDJSON (admin token)
// Every answer is tallied per event: sent = accepted + duplicate + rejected (by reason).
// 503/429 answers are retried after Retry-After.

#include <memory>
#include <string>

#include "core/time.h"
#include "server/http_client.h"
#include "sim/delivery_summary.h"
#include "sim/simulator.h"

namespace simdjson::dom {
class parser;
}

namespace touchpoint::sim {

enum class PixelRoute {
  kAuto,       // beacon for events of the last beacon_window_ms, Events API for older ones
  kEventsApi,  // all pixel events through the Events API
  kBeacon,     // all through /api/v1/pixel (their times become receive times)
};

struct HttpSenderOptions {
  std::string url;  // http://host:port
  std::string admin_token;
  std::string ca_file;              // https://: a certificate to trust besides the system's
  std::string pixel_name = "demo";  // used (or created) when pixel_id is empty
  std::string pixel_id;             // an existing pixel; its access token is looked up
  PixelRoute pixel_route = PixelRoute::kAuto;
  int64_t beacon_window_ms = 10 * kMinuteMs;
  const Clock* clock = nullptr;  // for kAuto; nullptr: the system clock
};

class HttpSender final : public DeliverySink {
 public:
  // Checks the admin token and finds (or creates) the pixel and its access token.
  static StatusOr<std::unique_ptr<HttpSender>> Connect(HttpSenderOptions options);
  ~HttpSender() override;

  const std::string& pixel_id() const { return pixel_id_; }
  bool created_pixel() const { return created_pixel_; }

  Status Begin(const Simulator& sim) override;
  Status Deliver(const Batch& batch) override;
  Status Conversions(const std::vector<std::string>&) override { return OkStatus(); }
  Status Finish(const Simulator& sim) override;

  const DeliverySummary& summary() const { return summary_; }

 private:
  explicit HttpSender(HttpSenderOptions options);
  // Sends with retries on 503/429; counts the request.
  StatusOr<server::ClientResponse> Send(std::string_view method, std::string_view target,
                                        std::string_view body, bool admin,
                                        std::string_view content_type);
  // Tallies a per-event answer ({"accepted","duplicate","rejected","results"}), or an error
  // answer for all `n` events.
  Status TallyPerEvent(const server::ClientResponse& res, size_t n);
  Status SendSite(const Batch& batch, const std::vector<size_t>& indices);
  Status SendBeacon(const Batch& batch, size_t index);

  HttpSenderOptions options_;
  SystemClock system_clock_;
  server::HttpClient client_;
  std::unique_ptr<simdjson::dom::parser> parser_;
  std::string pixel_id_;
  std::string access_token_;
  bool created_pixel_ = false;
  DeliverySummary summary_;
};

}  // namespace touchpoint::sim
