#include "core/utf8.h"

#include <algorithm>

namespace touchpoint {

namespace {

constexpr std::string_view kReplacement = "\xEF\xBF\xBD";

bool InRange(unsigned char c, unsigned char lo, unsigned char hi) { return c >= lo && c <= hi; }

}  // namespace

size_t Utf8SequenceLength(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  const size_t left = s.size() - i;
  const unsigned char c = at(0);
  if (c < 0x80) return 1;
  // The second byte's range depends on the first (Unicode Table 3-7): that is what excludes
  // overlong forms, surrogates and code points past U+10FFFF.
  if (InRange(c, 0xC2, 0xDF)) return left >= 2 && InRange(at(1), 0x80, 0xBF) ? 2 : 0;
  if (InRange(c, 0xE0, 0xEF)) {
    unsigned char lo = c == 0xE0 ? 0xA0 : 0x80, hi = c == 0xED ? 0x9F : 0xBF;
    return left >= 3 && InRange(at(1), lo, hi) && InRange(at(2), 0x80, 0xBF) ? 3 : 0;
  }
  if (InRange(c, 0xF0, 0xF4)) {
    unsigned char lo = c == 0xF0 ? 0x90 : 0x80, hi = c == 0xF4 ? 0x8F : 0xBF;
    return left >= 4 && InRange(at(1), lo, hi) && InRange(at(2), 0x80, 0xBF) &&
                   InRange(at(3), 0x80, 0xBF)
               ? 4
               : 0;
  }
  return 0;
}

bool IsValidUtf8(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    if (n == 0) return false;
    i += n;
  }
  return true;
}

std::string ToValidUtf8(std::string_view s) { return ValidUtf8Prefix(s, std::string::npos); }

std::string ValidUtf8Prefix(std::string_view s, size_t max_bytes) {
  std::string out;
  out.reserve(std::min(s.size(), max_bytes));
  for (size_t i = 0; i < s.size();) {
    size_t n = Utf8SequenceLength(s, i);
    std::string_view piece = n ? s.substr(i, n) : kReplacement;
    if (piece.size() > max_bytes - out.size()) break;  // a character cut by the limit is dropped
    out.append(piece);
    i += n ? n : 1;
  }
  return out;
}

}  // namespace touchpoint
