#pragma once
// Oracles shared by the fuzz targets. A failed check prints what differed and traps, so
// libFuzzer records the input as a crash. Beyond "no crash, no UB", the fuzzers check the
// contracts the store relies on: every event a parser accepts is written to the store with
// Append*EventJson and read back with *EventFromJson (event_store.cc), so that round trip must
// reproduce the event exactly; likewise a stored catalog (CatalogToJson -> ParseCatalogJson).

#include <cstdio>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.h"
#include "core/event.h"
#include "format/catalog_file.h"
#include "format/event_json.h"
#include "ingest/limits.h"

namespace touchpoint::fuzz {

// A fixed receive time, so a crash reproduces on any day: 2023-11-14T22:13:20Z.
inline constexpr int64_t kNowMs = 1'700'000'000'000;

inline ingest::ParseContext FuzzContext() {
  ingest::ParseContext ctx;
  ctx.now_ms = kNowMs;
  return ctx;
}

[[noreturn]] inline void Fail(const char* what, std::string_view detail) {
  std::fprintf(stderr, "fuzz check failed: %s\n%.*s\n", what, static_cast<int>(detail.size()),
               detail.data());
  __builtin_trap();
}

[[noreturn]] inline void FailAt(const char* cond, const char* file, int line) {
  Fail(cond, std::string(file) + ":" + std::to_string(line));
}

#define TP_FUZZ_CHECK(cond)                                             \
  do {                                                                  \
    if (!(cond)) ::touchpoint::fuzz::FailAt(#cond, __FILE__, __LINE__); \
  } while (0)

inline bool IsLowerSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!((c >= '0' && c <= '9') || (c >= 'a' && c <= 'f'))) return false;
  return true;
}

// event.h: identifiers are only ever held as lowercase SHA-256 hex.
inline void CheckHashed(const std::vector<std::string>& ids) {
  for (const auto& id : ids)
    if (!IsLowerSha256Hex(id)) Fail("identifier is not lowercase SHA-256 hex", id);
}

// Stored form written, read back, and compared; seq and received_ms exercise the extra keys.
inline void CheckSiteEventRoundTrip(const SiteEvent& ev) {
  std::string json;
  format::AppendSiteEventJson(ev, 42, kNowMs, json);
  auto back = format::SiteEventFromJson(json);
  if (!back.ok()) Fail("stored site event unreadable", back.status().message() + "\n" + json);
  if (!(*back == ev)) {
    std::string again;
    format::AppendSiteEventJson(*back, 42, kNowMs, again);
    Fail("site event changed in the stored form", "wrote: " + json + "\nread:  " + again);
  }
}

inline void CheckAdEventRoundTrip(const AdEvent& ev) {
  std::string json;
  format::AppendAdEventJson(ev, 42, kNowMs, json);
  auto back = format::AdEventFromJson(json);
  if (!back.ok()) Fail("stored ad event unreadable", back.status().message() + "\n" + json);
  if (!(*back == ev)) {
    std::string again;
    format::AppendAdEventJson(*back, 42, kNowMs, again);
    Fail("ad event changed in the stored form", "wrote: " + json + "\nread:  " + again);
  }
}

// PutCatalog stores CatalogToJson(); Open() reads it back with ParseCatalogJson().
inline void CheckCatalogRoundTrip(const Catalog& cat) {
  std::string json = format::CatalogToJson(cat);
  auto back = format::ParseCatalogJson(json);
  if (!back.ok()) Fail("stored catalog unreadable", back.status().message() + "\n" + json);
  if (!(*back == cat))
    Fail("catalog changed in the stored form",
         "wrote: " + json + "\nread:  " + format::CatalogToJson(*back));
}

}  // namespace touchpoint::fuzz
