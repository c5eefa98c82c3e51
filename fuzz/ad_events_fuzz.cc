// POST /api/v1/ad-events bodies: a JSON array or NDJSON, picked by the first non-blank byte.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "fuzz_checks.h"
#include "ingest/ad_events.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace touchpoint;
  std::string_view body(reinterpret_cast<const char*>(data), size);
  const ingest::ParseContext ctx = fuzz::FuzzContext();
  auto events = ingest::ParseAdEvents(body, ctx);
  if (!events.ok()) return 0;
  TP_FUZZ_CHECK(!events->empty() && events->size() <= ctx.limits.max_batch_events);
  for (const auto& pe : *events) {
    TP_FUZZ_CHECK(pe.status.ok() == pe.event.has_value());
    if (!pe.event) continue;
    const AdEvent& ev = *pe.event;
    TP_FUZZ_CHECK(!ev.ad_id.empty());
    TP_FUZZ_CHECK(ev.type != AdEventType::kClick || !ev.click_id.empty());
    TP_FUZZ_CHECK(ev.watch_ms >= 0 && ev.video_ms >= 0);
    TP_FUZZ_CHECK(ev.event_time_ms >= ctx.now_ms - ctx.limits.max_event_age_ms);
    TP_FUZZ_CHECK(ev.event_time_ms <= ctx.now_ms + ctx.limits.max_future_skew_ms);
    TP_FUZZ_CHECK(ev.age.empty() || ingest::IsAgeBucket(ev.age));
    TP_FUZZ_CHECK(ev.gender.empty() || ingest::IsGender(ev.gender));
    fuzz::CheckHashed(ev.email_sha256);
    fuzz::CheckHashed(ev.phone_sha256);
    fuzz::CheckAdEventRoundTrip(ev);
  }
  return 0;
}
