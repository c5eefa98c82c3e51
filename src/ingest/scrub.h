#pragma once
// Personal data that arrives where it should not: e-mail addresses and phone numbers in page
// URLs, referrers and free text. Ingest replaces them before an event is stored (docs/api.md,
// "What is scrubbed"); identifiers meant for matching travel in user.email / user.phone and are
// hashed instead.
//
// The rules, all over ASCII (bytes >= 0x80 are never changed, so valid UTF-8 stays valid):
//   - e-mail shape, anywhere: one or more of [A-Za-z0-9._%+-], then '@' or "%40" (any case),
//     then a domain: two or more non-empty labels of [A-Za-z0-9-] joined by '.', the last one
//     of two or more letters. The whole address becomes the marker. A local part never extends
//     back into an earlier marker, so scrubbing is idempotent.
//   - in a URL, the value of an identifier query parameter (kIdentifierParams, names compared
//     case-insensitively after percent-decoding), in the query and in the fragment (also after a
//     '?' in the fragment, as single-page apps route): the whole value becomes kUrlMarker.
//   - in free text, a phone number: '+' not preceded by a letter or digit, then 8 to 15 digits
//     with spaces, '-', '.', '(' and ')' between them; from the '+' to the last digit becomes the
//     marker. Numbers without a '+' (order ids, prices, quantities) are left alone.
// Output length: each replacement grows its span by at most 13 bytes (kUrlMarker over a one-byte
// value), and a replaced span is at least 5 bytes with its parameter name ("tel=x"), so
// out.size() <= 4 * in.size().

#include <string>
#include <string_view>

#include "core/event.h"

namespace touchpoint::ingest {

inline constexpr std::string_view kTextMarker = "[redacted]";
inline constexpr std::string_view kUrlMarker = "%5Bredacted%5D";  // "[redacted]", URL-encoded

// Lowercase names of the query parameters whose values are identifiers.
inline constexpr std::string_view kIdentifierParams[] = {
    "email",         "e-mail", "e_mail",    "mail",         "email_address", "emailaddress",
    "phone",         "tel",    "telephone", "phone_number", "phonenumber",   "mobile",
    "mobile_number", "cell",   "msisdn",    "whatsapp"};

// E-mail addresses and identifier parameter values in a URL.
std::string ScrubUrl(std::string_view url);
// E-mail addresses and phone numbers in free text.
std::string ScrubText(std::string_view text);

// Scrubs every stored string of the event that can carry them: page.url, page.referrer
// (ScrubUrl); description, query and each content's name, category and brand (ScrubText).
void ScrubEvent(SiteEvent& ev);

}  // namespace touchpoint::ingest
