#pragma once
// Advanced-matching identifiers: normalization and SHA-256 (ad-platform spec §4).
//   email:       trim, lowercase
//   phone:       E.164 with '+': keep digits, drop a leading "00", prefix '+'
//   external_id: trim (case kept, as TikTok's own server template does)
// A value that already is 64 hex characters is taken as a hash and only lowercased.

#include <string>
#include <string_view>

namespace touchpoint::ingest {

enum class IdentifierKind { kEmail, kPhone, kExternalId };

std::string Sha256Hex(std::string_view data);
bool IsSha256Hex(std::string_view s);

std::string NormalizeEmail(std::string_view email);
std::string NormalizePhone(std::string_view phone);
std::string NormalizeExternalId(std::string_view id);

// Returns the lowercase SHA-256 hex of the normalized value, or the value itself (lowercased)
// when it already is a SHA-256 hex. Returns "" when nothing is left after normalization.
std::string HashIdentifier(IdentifierKind kind, std::string_view value);

}  // namespace touchpoint::ingest
