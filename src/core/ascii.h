#pragma once
// ASCII character classes and case mapping, inline and locale-free. The <cctype> functions are
// calls into libc per character and depend on the process locale; the formats Touchpoint parses
// (HTTP header names, hex digests, e-mail addresses as the ad platforms normalize them) are
// defined over ASCII bytes, and bytes >= 0x80 pass through unchanged.

#include <string>
#include <string_view>

namespace touchpoint {

constexpr char AsciiLower(char c) { return c >= 'A' && c <= 'Z' ? static_cast<char>(c + 32) : c; }
constexpr bool IsAsciiDigit(char c) { return c >= '0' && c <= '9'; }
constexpr bool IsAsciiAlnum(char c) {
  return IsAsciiDigit(c) || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
// The value of a hex digit (either case), or -1 for any other character.
constexpr int HexDigitValue(char c) {
  if (IsAsciiDigit(c)) return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}
constexpr bool IsHexDigit(char c) { return HexDigitValue(c) >= 0; }
// The characters isspace() accepts in the "C" locale.
constexpr bool IsAsciiSpace(char c) { return c == ' ' || (c >= '\t' && c <= '\r'); }

inline void AsciiLowerInPlace(std::string& s) {
  for (auto& c : s) c = AsciiLower(c);
}

inline std::string AsciiLowered(std::string_view s) {
  std::string out(s);
  AsciiLowerInPlace(out);
  return out;
}

}  // namespace touchpoint
