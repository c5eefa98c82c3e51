// The stored event form (event_json.h): read as a site event and as an ad event; whatever
// reads must write back and read again to the same event.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.h"
#include "ingest/event_json.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace touchpoint;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  if (auto site = ingest::SiteEventFromJson(json); site.ok()) fuzz::CheckSiteEventRoundTrip(*site);
  if (auto ad = ingest::AdEventFromJson(json); ad.ok()) {
    // The stored form keeps watch_ms and video_ms for video plays only.
    if (ad->type != AdEventType::kVideoPlay) ad->watch_ms = ad->video_ms = 0;
    fuzz::CheckAdEventRoundTrip(*ad);
  }
  return 0;
}
