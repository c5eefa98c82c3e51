// Events API bodies: every input goes to all four JSON event parsers (2.0, 1.0 track,
// 1.0 batch, the tp.js beacon), so one corpus of event-shaped JSON serves them all.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.h"
#include "ingest/events_api.h"

namespace touchpoint::fuzz {
namespace {

using Parser = StatusOr<ingest::ParsedEventBatch> (*)(std::string_view,
                                                      const ingest::ParseContext&);

void CheckBatch(const StatusOr<ingest::ParsedEventBatch>& batch, const ingest::ParseContext& ctx) {
  if (!batch.ok()) return;
  TP_FUZZ_CHECK(!batch->pixel_id.empty());
  TP_FUZZ_CHECK(!batch->events.empty());
  TP_FUZZ_CHECK(batch->events.size() <= ctx.limits.max_batch_events);
  for (const auto& pe : batch->events) {
    TP_FUZZ_CHECK(pe.status.ok() == pe.event.has_value());
    if (!pe.event) continue;
    const SiteEvent& ev = *pe.event;
    TP_FUZZ_CHECK(!ev.event.empty() && ev.event.size() <= ctx.limits.max_name_bytes);
    TP_FUZZ_CHECK(ev.event_time_ms >= ctx.now_ms - ctx.limits.max_event_age_ms);
    TP_FUZZ_CHECK(ev.event_time_ms <= ctx.now_ms + ctx.limits.max_future_skew_ms);
    CheckHashed(ev.user.email_sha256);
    CheckHashed(ev.user.phone_sha256);
    CheckHashed(ev.user.external_id_sha256);
    CheckSiteEventRoundTrip(ev);
  }
}

}  // namespace
}  // namespace touchpoint::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace touchpoint;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  const ingest::ParseContext ctx = fuzz::FuzzContext();
  for (fuzz::Parser parse : {&ingest::ParseEventsApi2, &ingest::ParseEventsApi1Track,
                             &ingest::ParseEventsApi1Batch, &ingest::ParsePixelBeacon}) {
    fuzz::CheckBatch(parse(body, ctx), ctx);
  }
  return 0;
}
