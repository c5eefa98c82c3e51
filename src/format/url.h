#pragma once
// URL pieces: percent-decoding, query strings, and adding a parameter to a URL.
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace touchpoint::format {

// Decodes %XX and '+' (as space). Returns nullopt on a malformed escape.
std::optional<std::string> PercentDecode(std::string_view s);
std::string PercentEncode(std::string_view s);

// Splits "a=1&b=2" into decoded pairs. Returns nullopt on a malformed escape.
std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view query);

// Adds name=value to an absolute http(s) URL, before any #fragment.
std::string AddQueryParam(std::string_view url, std::string_view name, std::string_view value);

// True for an absolute http:// or https:// URL with a host.
bool IsHttpUrl(std::string_view url);

// The first query value of `name` in `url` that decodes to valid UTF-8, if any.
std::optional<std::string> QueryParamOf(std::string_view url, std::string_view name);

}  // namespace touchpoint::format
