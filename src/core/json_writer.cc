#include "core/json_writer.h"

#include <charconv>
#include <cmath>
#include <cstdint>
#include <cstring>

#include "core/utf8.h"

namespace touchpoint {

void AppendJsonString(std::string& out, std::string_view s) {
  static const char kHex[] = "0123456789abcdef";
  out.reserve(out.size() + s.size() + 2);
  out += '"';
  size_t run = 0;  // start of the current run of bytes that need no escaping
  size_t i = 0;
  // Eight bytes at a time while none needs a look (most text): a byte needs one when it is
  // below 0x20, is '"' or '\\', or is not ASCII (to be checked as UTF-8). Classic SWAR: a zero
  // byte of x ^ c, a byte of x < 0x20, or a high bit set in x.
  constexpr uint64_t kOnes = 0x0101010101010101ULL, kHighs = 0x8080808080808080ULL;
  for (; i + 8 <= s.size(); i += 8) {
    uint64_t x;
    std::memcpy(&x, s.data() + i, 8);
    const uint64_t quote = x ^ (kOnes * '"'), backslash = x ^ (kOnes * '\\');
    const uint64_t special = ((quote - kOnes) & ~quote) | ((backslash - kOnes) & ~backslash) |
                             ((x - kOnes * 0x20) & ~x) | x;
    if (special & kHighs) break;  // somewhere in these eight: finish them byte by byte
  }
  for (; i < s.size(); ++i) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      // Never write invalid UTF-8, whatever reached us: a valid sequence is copied, any other
      // byte becomes U+FFFD. This is the last line of defence for /metrics, the debugger and
      // the stored form; ingest rejects or repairs such text before it gets here.
      if (size_t n = Utf8SequenceLength(s, i)) {
        i += n - 1;
        continue;
      }
      out.append(s.data() + run, i - run);
      run = i + 1;
      out += "\\ufffd";
      continue;
    }
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      default:
        out += "\\u00";
        out += kHex[c >> 4];
        out += kHex[c & 15];
    }
  }
  out.append(s.data() + run, s.size() - run);
  out += '"';
}

void AppendJsonNumber(std::string& out, double v) {
  if (!std::isfinite(v)) {
    out += "null";
    return;
  }
  char buf[40];
  auto res = std::to_chars(buf, buf + sizeof buf, v);  // shortest round-trip form
  std::string_view text(buf, static_cast<size_t>(res.ptr - buf));
  if (std::fabs(v) >= 1e15 && text.find_first_of(".eE") == std::string_view::npos) {
    // A huge integral value would print as a long integer that JSON parsers read as int64 and
    // refuse; scientific form reads back as the same double.
    res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);
    text = std::string_view(buf, static_cast<size_t>(res.ptr - buf));
  }
  out.append(text);
}

}  // namespace touchpoint
