#pragma once
// UTF-8 validity (RFC 3629: no overlong forms, no surrogates, nothing above U+10FFFF) and the
// repair of text that must be kept even when it is not valid (a User-Agent header stored with
// an event, a request path echoed in an error): every byte that does not belong to a valid
// sequence becomes U+FFFD.

#include <cstddef>
#include <string>
#include <string_view>

namespace touchpoint {

// The length (1-4) of the valid UTF-8 sequence that starts at s[i], or 0 when there is none.
size_t Utf8SequenceLength(std::string_view s, size_t i);

bool IsValidUtf8(std::string_view s);

// `s` with each byte that does not belong to a valid sequence replaced by U+FFFD (EF BF BD).
std::string ToValidUtf8(std::string_view s);

// The longest prefix of ToValidUtf8(s) of at most `max_bytes` bytes that does not split a
// character (for a header kept to a byte limit).
std::string ValidUtf8Prefix(std::string_view s, size_t max_bytes);

}  // namespace touchpoint
