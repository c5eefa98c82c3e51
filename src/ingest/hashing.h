#pragma once
// Advanced-matching identifiers: normalization and SHA-256 (ad-platform spec §4).
//   email:       trim, lowercase
//   phone:       E.164 with '+': keep digits, drop a leading "00", prefix '+'
//   external_id: trim (case kept, as TikTok's own server template does)
//   first_name, last_name: trim, lowercase, ASCII punctuation removed ("O'Brien" -> "obrien";
//                inner spaces kept)
//   zip_code:    lowercase, whitespace removed, only the part before a '-' (US ZIP+4 -> ZIP)
//   city, state: lowercase, ASCII digits, spaces and punctuation removed ("San Francisco" ->
//                "sanfrancisco", "CA" -> "ca")
//   country:     lowercase ISO 3166-1 alpha-2 ("US" -> "us"); anything else is not valid
// TikTok publishes no rule for these (ad-platform spec 4.1); the address rules are Meta's
// documented ones (spec 4.2), which most integrations that send both platforms apply.
// A value that already is 64 hex characters is taken as a hash and only lowercased.

#include <string>
#include <string_view>

namespace touchpoint::ingest {

enum class IdentifierKind {
  kEmail,
  kPhone,
  kExternalId,
  kFirstName,
  kLastName,
  kZipCode,
  kCity,
  kState,
  kCountry,
};

std::string Sha256Hex(std::string_view data);
bool IsSha256Hex(std::string_view s);

std::string NormalizeEmail(std::string_view email);
std::string NormalizePhone(std::string_view phone);
std::string NormalizeExternalId(std::string_view id);
// first_name / last_name, zip_code, city / state, country as listed above; "" when not valid.
std::string NormalizeName(std::string_view name);
std::string NormalizeZipCode(std::string_view zip);
std::string NormalizePlace(std::string_view place);
std::string NormalizeCountry(std::string_view country);

// Returns the lowercase SHA-256 hex of the normalized value, or the value itself (lowercased)
// when it already is a SHA-256 hex. Returns "" when nothing is left after normalization.
std::string HashIdentifier(IdentifierKind kind, std::string_view value);

}  // namespace touchpoint::ingest
