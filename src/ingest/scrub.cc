#include "ingest/scrub.h"

#include <algorithm>

#include "core/ascii.h"
#include "format/url.h"

namespace touchpoint::ingest {

using namespace format;  // JSON field access and URLs (src/format/)

namespace {

constexpr bool IsAsciiAlpha(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'); }
constexpr bool IsAsciiAlnum(char c) { return IsAsciiAlpha(c) || IsAsciiDigit(c); }
constexpr bool IsLocalChar(char c) {
  return IsAsciiAlnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}
constexpr bool IsLabelChar(char c) { return IsAsciiAlnum(c) || c == '-'; }

// 1 for '@', 3 for "%40", else 0.
size_t AnchorLen(std::string_view s, size_t i) {
  if (s[i] == '@') return 1;
  if (s[i] == '%' && i + 2 < s.size() && s[i + 1] == '4' && s[i + 2] == '0') return 3;
  return 0;
}

// The length of the longest domain at the start of `s`: two or more non-empty labels joined by
// '.', the last of two or more letters; 0 when there is none.
size_t DomainLen(std::string_view s) {
  size_t pos = 0, best = 0;
  int labels = 0;
  while (true) {
    size_t start = pos;
    bool letters = true;
    while (pos < s.size() && IsLabelChar(s[pos])) letters &= IsAsciiAlpha(s[pos++]);
    if (pos == start) break;
    if (++labels >= 2 && letters && pos - start >= 2) best = pos;
    if (pos >= s.size() || s[pos] != '.') break;
    ++pos;
  }
  return best;
}

// The length of the local part that ends `out`: its trailing local characters, but never into a
// marker already written (which is what makes a second scrub find nothing new).
size_t LocalLen(std::string_view out) {
  size_t n = 0;
  while (n < out.size() && IsLocalChar(out[out.size() - 1 - n])) {
    std::string_view before = out.substr(0, out.size() - n);
    if (before.ends_with(kUrlMarker)) break;  // the text marker ends in ']', not a local char
    ++n;
  }
  return n;
}

// Replaces every e-mail shape in `s` by `marker`. The local part is looked up in what is already
// written, so that it never reaches into a replacement.
std::string ScrubEmails(std::string_view s, std::string_view marker) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    size_t anchor = AnchorLen(s, i);
    if (anchor) {
      size_t local = LocalLen(out);
      size_t domain = local ? DomainLen(s.substr(i + anchor)) : 0;
      if (domain) {
        out.resize(out.size() - local);
        out += marker;
        i += anchor + domain;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

bool IsIdentifierParam(std::string_view raw_name) {
  auto decoded = PercentDecode(raw_name);
  std::string name = AsciiLowered(decoded ? std::string_view(*decoded) : raw_name);
  return std::find(std::begin(kIdentifierParams), std::end(kIdentifierParams), name) !=
         std::end(kIdentifierParams);
}

// Appends `params` ("a=1&b=2") to `out` with identifier values replaced.
void AppendScrubbedParams(std::string_view params, std::string& out) {
  while (true) {
    size_t amp = params.find('&');
    std::string_view part = params.substr(0, amp);
    size_t eq = part.find('=');
    if (eq != std::string_view::npos && eq + 1 < part.size() &&
        IsIdentifierParam(part.substr(0, eq))) {
      out.append(part.substr(0, eq + 1));
      out += kUrlMarker;
    } else {
      out.append(part);
    }
    if (amp == std::string_view::npos) return;
    out += '&';
    params = params.substr(amp + 1);
  }
}

std::string ScrubParams(std::string_view url) {
  size_t hash = url.find('#');
  std::string_view before = url.substr(0, hash);
  std::string out;
  out.reserve(url.size());
  size_t q = before.find('?');
  if (q == std::string_view::npos) {
    out.append(before);
  } else {
    out.append(before.substr(0, q + 1));
    AppendScrubbedParams(before.substr(q + 1), out);
  }
  if (hash != std::string_view::npos) {
    // The fragment: "#email=..." or a single-page app's route "#/signup?email=...".
    std::string_view frag = url.substr(hash);
    size_t fq = frag.find('?');
    size_t start = fq == std::string_view::npos ? 1 : fq + 1;
    out.append(frag.substr(0, start));
    AppendScrubbedParams(frag.substr(start), out);
  }
  return out;
}

std::string ScrubPhones(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    // The character before is looked at in the output: after a replacement it is the marker's
    // ']', as a second scrub will see it.
    if (s[i] == '+' && (out.empty() || !IsAsciiAlnum(out.back()))) {
      size_t j = i + 1, digits = 0, end = i;
      for (; j < s.size(); ++j) {
        char c = s[j];
        if (IsAsciiDigit(c)) {
          ++digits;
          end = j + 1;
        } else if (c != ' ' && c != '-' && c != '.' && c != '(' && c != ')') {
          break;
        }
      }
      if (digits >= 8 && digits <= 15) {
        out += kTextMarker;
        i = end;
        continue;
      }
    }
    out += s[i++];
  }
  return out;
}

}  // namespace

std::string ScrubUrl(std::string_view url) { return ScrubEmails(ScrubParams(url), kUrlMarker); }

std::string ScrubText(std::string_view text) { return ScrubPhones(ScrubEmails(text, kTextMarker)); }

void ScrubEvent(SiteEvent& ev) {
  // Most strings hold nothing to replace: check before allocating.
  auto url = [](std::string& s) {
    if (s.find_first_of("@%?#") != std::string::npos) s = ScrubUrl(s);
  };
  auto text = [](std::string& s) {
    if (s.find_first_of("@%+") != std::string::npos) s = ScrubText(s);
  };
  url(ev.page_url);
  url(ev.page_referrer);
  text(ev.description);
  text(ev.query);
  for (auto& c : ev.contents) {
    text(c.content_name);
    text(c.content_category);
    text(c.brand);
  }
}

}  // namespace touchpoint::ingest
