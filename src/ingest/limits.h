#pragma once
// Ingest limits. Each is explicit, documented in docs/api.md, and named in its error message.
#include <cstddef>
#include <cstdint>

#include "core/time.h"

namespace touchpoint::ingest {

struct IngestLimits {
  size_t max_body_bytes = 4 << 20;  // one request body
  size_t max_batch_events = 1000;   // events per request (TikTok's limit)
  size_t max_string_bytes = 1024;   // any string field not listed below
  size_t max_name_bytes = 128;      // event name, ids
  size_t max_url_bytes = 4096;      // page.url, page.referrer, landing URLs
  size_t max_contents = 1000;       // properties.contents[] items
  // properties.value, each contents[].price and their price x quantity sum: finite, >= 0 and at
  // most this (in the event's currency). 1e9 admits a large purchase in a weak currency (a car
  // in IDR or VND) and keeps a sum of millions of events far from overflowing a double's exact
  // range. Set per pixel by the caller before parsing, when the pixel is known.
  double max_value = 1e9;
  int64_t max_quantity = 1'000'000;  // contents[].quantity: an integer from 0 to this
  int64_t max_event_age_ms = 28 * kDayMs;
  int64_t max_future_skew_ms = 10 * kMinuteMs;
};

struct ParseContext {
  int64_t now_ms = 0;  // receive time: event ages are measured against it
  IngestLimits limits;
};

}  // namespace touchpoint::ingest
