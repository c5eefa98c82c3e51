// The stored event form (event_json.h): read as a site event and as an ad event; whatever
// reads must write back and read again to the same event.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/event_json.h"
#include "fuzz_checks.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace touchpoint;
  std::string_view json(reinterpret_cast<const char*>(data), size);
  if (auto site = format::SiteEventFromJson(json); site.ok()) fuzz::CheckSiteEventRoundTrip(*site);
  if (auto ad = format::AdEventFromJson(json); ad.ok()) {
    // The stored form keeps watch_ms and video_ms for video plays only.
    if (ad->type != AdEventType::kVideoPlay) ad->watch_ms = ad->video_ms = 0;
    fuzz::CheckAdEventRoundTrip(*ad);
  }
  return 0;
}
