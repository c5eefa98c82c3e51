// The <img> fallback's query string (GET /api/v1/pixel.gif?...) and the URL helpers it rests
// on. The input is the query; for AddQueryParam it is split at the first newline into a landing
// URL and a click id (no newline: the whole input is both).
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "format/url.h"
#include "fuzz_checks.h"
#include "ingest/events_api.h"

namespace touchpoint::fuzz {
namespace {

void CheckPixelQuery(std::string_view query, const ingest::ParseContext& ctx) {
  auto batch = ingest::ParsePixelQuery(query, ctx);
  if (!batch.ok()) return;
  TP_FUZZ_CHECK(!batch->pixel_id.empty());
  TP_FUZZ_CHECK(batch->events.size() == 1);
  const auto& pe = batch->events[0];
  TP_FUZZ_CHECK(pe.status.ok() && pe.event.has_value());
  TP_FUZZ_CHECK(!pe.event->event.empty());
  TP_FUZZ_CHECK(pe.event->event_time_ms == ctx.now_ms);
  CheckHashed(pe.event->user.email_sha256);
  CheckHashed(pe.event->user.phone_sha256);
  CheckHashed(pe.event->user.external_id_sha256);
  CheckSiteEventRoundTrip(*pe.event);
}

void CheckUrlHelpers(std::string_view input) {
  if (auto decoded = format::PercentDecode(input)) {
    TP_FUZZ_CHECK(decoded->size() <= input.size());
    // Encoding then decoding gives back any byte string.
    auto again = format::PercentDecode(format::PercentEncode(*decoded));
    TP_FUZZ_CHECK(again && *again == *decoded);
  }
  (void)format::ParseQuery(input);

  size_t nl = input.find('\n');
  std::string_view url = input.substr(0, nl);
  std::string_view click_id = nl == std::string_view::npos ? input : input.substr(nl + 1);
  (void)format::IsHttpUrl(url);
  std::string redirect = format::AddQueryParam(url, "ttclid", click_id);
  // The click redirect must carry the click id to the landing page. Checked where the landing
  // URL's own query decodes and holds no ttclid of its own (the first one wins), and for click
  // ids that are text (QueryParamOf ignores values that decode to invalid UTF-8; minted click
  // ids are ASCII).
  if (url.find('%') == std::string_view::npos && url.find('#') == std::string_view::npos &&
      simdjson::validate_utf8(click_id.data(), click_id.size()) &&
      !format::QueryParamOf(url, "ttclid")) {
    auto carried = format::QueryParamOf(redirect, "ttclid");
    TP_FUZZ_CHECK(carried && *carried == click_id);
  }
}

}  // namespace
}  // namespace touchpoint::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace touchpoint;
  std::string_view input(reinterpret_cast<const char*>(data), size);
  fuzz::CheckPixelQuery(input, fuzz::FuzzContext());
  fuzz::CheckUrlHelpers(input);
  return 0;
}
