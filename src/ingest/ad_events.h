#pragma once
// Ad-side touchpoints: POST /api/v1/ad-events bodies, a JSON array or NDJSON (one object a line).
//   {"type": "impression" | "video_play" | "click", "ad_id": "...", "event_time": <Unix s>,
//    "event_id"?, "user_key"?, "click_id" (clicks), "watch_ms"/"video_ms" (plays),
//    "email"?, "phone"? (clear or SHA-256), "age"?, "gender"?, "country"?, "region"?,
//    "placement"?, "os"?, "device"?,
//    "study_id"?, "cell"? ("test" | "control"), "ghost"? (control impressions not shown)}

#include <optional>
#include <string_view>
#include <vector>

#include "core/event.h"
#include "core/status.h"
#include "ingest/limits.h"

namespace touchpoint::ingest {

struct ParsedAdEvent {
  Status status;
  std::optional<AdEvent> event;
};

// Body-level errors (malformed JSON array, too many events) fail the whole body; a bad NDJSON
// line or array element is rejected alone, named by its index ("events[4].watch_ms: ...").
StatusOr<std::vector<ParsedAdEvent>> ParseAdEvents(std::string_view body, const ParseContext& ctx);

// The audience values we accept (lowercase); "" means unknown.
bool IsAgeBucket(std::string_view age);
bool IsGender(std::string_view gender);

}  // namespace touchpoint::ingest
