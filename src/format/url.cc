#include "format/url.h"

#include <simdjson.h>

#include <algorithm>

#include "core/ascii.h"

namespace touchpoint::format {

std::optional<std::string> PercentDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  size_t run = 0;  // start of the plain characters not copied yet: copied a run at a time
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c != '+' && c != '%') continue;
    out.append(s.data() + run, i - run);
    if (c == '+') {
      out += ' ';
    } else {
      if (i + 2 >= s.size()) return std::nullopt;
      int hi = HexDigitValue(s[i + 1]), lo = HexDigitValue(s[i + 2]);
      if (hi < 0 || lo < 0) return std::nullopt;
      out += static_cast<char>(hi * 16 + lo);
      i += 2;
    }
    run = i + 1;
  }
  out.append(s.data() + run, s.size() - run);
  return out;
}

std::string PercentEncode(std::string_view s) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  for (unsigned char c : s) {
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
        c == '_' || c == '.' || c == '~') {
      out += static_cast<char>(c);
    } else {
      out += '%';
      out += kHex[c >> 4];
      out += kHex[c & 15];
    }
  }
  return out;
}

std::optional<std::vector<std::pair<std::string, std::string>>> ParseQuery(std::string_view q) {
  std::vector<std::pair<std::string, std::string>> out;
  // One allocation for an ordinary query (at most one pair per part), capped: a query of
  // thousands of empty parts must not reserve a pair for each.
  out.reserve(std::min<size_t>(64, 1 + std::count(q.begin(), q.end(), '&')));
  while (!q.empty()) {
    size_t amp = q.find('&');
    std::string_view part = q.substr(0, amp);
    q = amp == std::string_view::npos ? std::string_view() : q.substr(amp + 1);
    if (part.empty()) continue;
    size_t eq = part.find('=');
    auto name = PercentDecode(part.substr(0, eq));
    auto value =
        PercentDecode(eq == std::string_view::npos ? std::string_view() : part.substr(eq + 1));
    if (!name || !value) return std::nullopt;
    out.emplace_back(std::move(*name), std::move(*value));
  }
  return out;
}

std::string AddQueryParam(std::string_view url, std::string_view name, std::string_view value) {
  size_t hash = url.find('#');
  std::string_view base = url.substr(0, hash);
  std::string_view frag = hash == std::string_view::npos ? std::string_view() : url.substr(hash);
  std::string out(base);
  if (base.find('?') == std::string_view::npos) {
    out += '?';
  } else if (base.find('?') != base.size() - 1 && base.back() != '&') {
    out += '&';
  }
  out += PercentEncode(name);
  out += '=';
  out += PercentEncode(value);
  out += frag;
  return out;
}

bool IsHttpUrl(std::string_view url) {
  std::string_view rest;
  if (url.rfind("https://", 0) == 0) {
    rest = url.substr(8);
  } else if (url.rfind("http://", 0) == 0) {
    rest = url.substr(7);
  } else {
    return false;
  }
  if (rest.empty() || rest[0] == '/' || rest[0] == '?' || rest[0] == '#') return false;
  for (unsigned char c : url)
    if (c <= 0x20 || c == 0x7f) return false;
  return true;
}

std::optional<std::string> QueryParamOf(std::string_view url, std::string_view name) {
  size_t q = url.find('?');
  if (q == std::string_view::npos) return std::nullopt;
  std::string_view query = url.substr(q + 1);
  size_t hash = query.find('#');
  query = query.substr(0, hash);
  auto pairs = ParseQuery(query);
  if (!pairs) return std::nullopt;
  // The first value that is text: decoded bytes that are not UTF-8 ("%BB") are skipped.
  for (auto& [k, v] : *pairs)
    if (k == name && simdjson::validate_utf8(v.data(), v.size())) return v;
  return std::nullopt;
}

}  // namespace touchpoint::format
