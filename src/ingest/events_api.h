#pragma once
// Parsers for the server-to-server event formats:
//   - TikTok Events API 2.0 (POST /open_api/v1.3/event/track/) — also the native /api/v1/events
//   - TikTok Events API 1.0 (/open_api/v1.3/pixel/track/ and /pixel/batch/)
//   - the tp.js beacon (POST /api/v1/pixel), the same event object plus "pixel_id"
// Body-level problems (malformed JSON, missing data[], too many events) fail the whole body.
// Per-event problems are reported per event, each naming its field path.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "ingest/limits.h"

namespace touchpoint::ingest {

struct ParsedEvent {
  Status status;                   // OK, or why this event is rejected
  std::optional<SiteEvent> event;  // set when status is OK
  // Fields accepted but not stored (an unknown key, an invalid optional match key), each as
  // "data[0].ad.campaign_id: not stored ...": nothing is dropped without saying so.
  std::vector<std::string> warnings;
};

struct ParsedEventBatch {
  std::string pixel_id;      // event_source_id (2.0) or pixel_code (1.0)
  std::string event_source;  // web, app, offline, crm
  std::string test_event_code;
  std::string partner_name;           // the integrator's tag, copied into every event
  std::vector<std::string> warnings;  // body-level fields not stored
  std::vector<ParsedEvent> events;    // one per input event, in order

  // Every warning (the body's, then each event's in order), at most `max`; past that, one last
  // line says how many more there were.
  std::vector<std::string> Warnings(size_t max = 50) const;

  size_t RejectedCount() const;
  // The first rejection, for formats that fail the whole batch on one bad event (TikTok's).
  const Status* FirstError() const;
};

StatusOr<ParsedEventBatch> ParseEventsApi2(std::string_view body, const ParseContext& ctx);
StatusOr<ParsedEventBatch> ParseEventsApi1Track(std::string_view body, const ParseContext& ctx);
StatusOr<ParsedEventBatch> ParseEventsApi1Batch(std::string_view body, const ParseContext& ctx);

// A tp.js beacon: one event object (or {"pixel_id", "events": [...]}). Event times come from
// the server's clock (ctx.now_ms): browsers' clocks are not to be trusted.
StatusOr<ParsedEventBatch> ParsePixelBeacon(std::string_view body, const ParseContext& ctx);

// The <img> fallback: GET /api/v1/pixel.gif?pixel_id=&event=&event_id=&ttclid=&ttp=&url=...
// The batch's `warnings` are the names of the parameters not kept (each once), bare: an image's
// answer names them in a header.
StatusOr<ParsedEventBatch> ParsePixelQuery(std::string_view query, const ParseContext& ctx);

}  // namespace touchpoint::ingest
