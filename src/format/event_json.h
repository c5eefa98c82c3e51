#pragma once
// The stored and exported form of events (docs/formats.md): one JSON object per event, shaped
// like an Events API 2.0 data[] element, plus the fields the store adds (seq, received_at_ms).
//   {"kind":"site","seq":12,"pixel_id":"P1","source":"web","event":"CompletePayment",
//    "event_id":"o-1","event_time":1700000000,"event_time_ms":1700000000000,
//    "user":{"ttclid":"..","ttp":"..","email":["<sha256>"],...},
//    "properties":{"value":46,"currency":"USD","contents":[...]},"page":{"url":"..."}}
//   {"kind":"ad","seq":13,"type":"click","ad_id":"a1","event_time_ms":...,"click_id":"..",...}

#include <string>
#include <string_view>

#include "core/event.h"
#include "core/status.h"

namespace touchpoint::format {

// `seq` and `received_ms` are written when non-zero.
void AppendSiteEventJson(const SiteEvent& ev, uint64_t seq, int64_t received_ms, std::string& out);
void AppendAdEventJson(const AdEvent& ev, uint64_t seq, int64_t received_ms, std::string& out);

// Read back the stored form (no limits or age checks: this is our own data).
StatusOr<SiteEvent> SiteEventFromJson(std::string_view json);
StatusOr<AdEvent> AdEventFromJson(std::string_view json);

}  // namespace touchpoint::format
