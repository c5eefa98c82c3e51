// The PII scrubber (ingest/scrub.h) over arbitrary bytes, as a URL and as free text. Beyond no
// crash: valid UTF-8 in, valid UTF-8 out; no e-mail shape survives (checked by a separate
// reading of the rule); a second scrub changes nothing; the output is at most 4x the input.
#include <simdjson.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "fuzz_checks.h"
#include "ingest/scrub.h"

namespace touchpoint::fuzz {
namespace {

bool Alpha(char c) { return (c | 0x20) >= 'a' && (c | 0x20) <= 'z'; }
bool Digit(char c) { return c >= '0' && c <= '9'; }

// An e-mail shape at `at` (an '@' or "%40" of `anchor` bytes), read from the rule in scrub.h:
// a local character before it (not inside a marker) and a domain of 2+ labels after it whose
// last is 2+ letters.
bool EmailAt(std::string_view s, size_t at, size_t anchor) {
  if (at == 0) return false;
  char before = s[at - 1];
  bool local = Alpha(before) || Digit(before) ||
               std::string_view("._%+-").find(before) != std::string_view::npos;
  if (!local || s.substr(0, at).ends_with(ingest::kUrlMarker)) return false;
  std::string_view rest = s.substr(at + anchor);
  size_t run = 0;
  while (run < rest.size() &&
         (Alpha(rest[run]) || Digit(rest[run]) || rest[run] == '-' || rest[run] == '.'))
    ++run;
  std::string_view domain = rest.substr(0, run);
  int label_idx = 0;
  while (true) {
    size_t dot = domain.find('.');
    std::string_view label = domain.substr(0, dot);
    if (label.empty()) return false;
    bool letters = true;
    for (char c : label) letters &= Alpha(c);
    if (label_idx > 0 && letters && label.size() >= 2) return true;
    if (dot == std::string_view::npos) return false;
    domain = domain.substr(dot + 1);
    ++label_idx;
  }
}

void CheckNoEmail(std::string_view s) {
  for (size_t i = 0; i < s.size(); ++i) {
    size_t anchor = s[i] == '@' ? 1 : s.substr(i, 3) == "%40" ? 3 : 0;
    if (anchor && EmailAt(s, i, anchor)) Fail("an e-mail shape survived", s);
  }
}

void Check(std::string_view in, std::string (*scrub)(std::string_view)) {
  std::string out = scrub(in);
  if (simdjson::validate_utf8(in.data(), in.size()))
    TP_FUZZ_CHECK(simdjson::validate_utf8(out.data(), out.size()));
  CheckNoEmail(out);
  if (scrub(out) != out) Fail("scrubbing twice changed the output", out);
  TP_FUZZ_CHECK(out.size() <= 4 * in.size());
}

}  // namespace
}  // namespace touchpoint::fuzz

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view in(reinterpret_cast<const char*>(data), size);
  touchpoint::fuzz::Check(in, touchpoint::ingest::ScrubUrl);
  touchpoint::fuzz::Check(in, touchpoint::ingest::ScrubText);
  return 0;
}
