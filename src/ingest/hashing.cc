#include "ingest/hashing.h"

#include <openssl/evp.h>

#include "core/ascii.h"

namespace touchpoint::ingest {

std::string Sha256Hex(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr);
  static const char kHex[] = "0123456789abcdef";
  std::string out(len * 2, '0');
  for (unsigned i = 0; i < len; ++i) {
    out[2 * i] = kHex[md[i] >> 4];
    out[2 * i + 1] = kHex[md[i] & 15];
  }
  return out;
}

bool IsSha256Hex(std::string_view s) {
  if (s.size() != 64) return false;
  for (char c : s)
    if (!IsHexDigit(c)) return false;
  return true;
}

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && IsAsciiSpace(s.front())) s.remove_prefix(1);
  while (!s.empty() && IsAsciiSpace(s.back())) s.remove_suffix(1);
  return s;
}

}  // namespace

std::string NormalizeEmail(std::string_view email) { return AsciiLowered(Trim(email)); }

std::string NormalizePhone(std::string_view phone) {
  std::string digits;
  for (char c : Trim(phone))
    if (IsAsciiDigit(c)) digits += c;
  if (digits.rfind("00", 0) == 0) digits.erase(0, 2);
  if (digits.empty()) return "";
  return "+" + digits;
}

std::string NormalizeExternalId(std::string_view id) { return std::string(Trim(id)); }

namespace {

bool IsAsciiPunct(char c) {
  return (c >= '!' && c <= '/') || (c >= ':' && c <= '@') || (c >= '[' && c <= '`') ||
         (c >= '{' && c <= '~');
}

}  // namespace

std::string NormalizeName(std::string_view name) {
  std::string out;
  for (char c : Trim(name))
    if (!IsAsciiPunct(c)) out += c;
  return AsciiLowered(Trim(out));
}

std::string NormalizeZipCode(std::string_view zip) {
  std::string out;
  for (char c : zip) {
    if (c == '-') break;
    if (!IsAsciiSpace(c)) out += c;
  }
  return AsciiLowered(out);
}

std::string NormalizePlace(std::string_view place) {
  std::string out;
  for (char c : place)
    if (!IsAsciiSpace(c) && !IsAsciiDigit(c) && !IsAsciiPunct(c)) out += c;
  return AsciiLowered(out);
}

std::string NormalizeCountry(std::string_view country) {
  std::string out = AsciiLowered(Trim(country));
  if (out.size() != 2 || out[0] < 'a' || out[0] > 'z' || out[1] < 'a' || out[1] > 'z') return "";
  return out;
}

std::string HashIdentifier(IdentifierKind kind, std::string_view value) {
  std::string_view trimmed = Trim(value);
  if (IsSha256Hex(trimmed)) return AsciiLowered(trimmed);
  std::string norm;
  switch (kind) {
    case IdentifierKind::kEmail:
      norm = NormalizeEmail(trimmed);
      break;
    case IdentifierKind::kPhone:
      norm = NormalizePhone(trimmed);
      break;
    case IdentifierKind::kExternalId:
      norm = NormalizeExternalId(trimmed);
      break;
    case IdentifierKind::kFirstName:
    case IdentifierKind::kLastName:
      norm = NormalizeName(trimmed);
      break;
    case IdentifierKind::kZipCode:
      norm = NormalizeZipCode(trimmed);
      break;
    case IdentifierKind::kCity:
    case IdentifierKind::kState:
      norm = NormalizePlace(trimmed);
      break;
    case IdentifierKind::kCountry:
      norm = NormalizeCountry(trimmed);
      break;
  }
  if (norm.empty()) return "";
  return Sha256Hex(norm);
}

}  // namespace touchpoint::ingest
