#include "ingest/ip.h"

#include <arpa/inet.h>

#include <algorithm>
#include <charconv>
#include <cstring>

#include "core/ascii.h"

namespace touchpoint::ingest {

namespace {

constexpr uint8_t kMappedPrefix[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

// inet_pton wants a NUL-terminated string; addresses are short, so a stack buffer does.
bool Pton(int family, std::string_view text, void* out) {
  char buf[INET6_ADDRSTRLEN + 1];
  if (text.empty() || text.size() >= sizeof buf || text.find('\0') != text.npos) return false;
  std::memcpy(buf, text.data(), text.size());
  buf[text.size()] = '\0';
  return inet_pton(family, buf, out) == 1;
}

bool IsPort(std::string_view s) {
  if (s.empty() || s.size() > 5) return false;
  for (char c : s)
    if (!IsAsciiDigit(c)) return false;
  int port = 0;
  std::from_chars(s.data(), s.data() + s.size(), port);
  return port <= 65535;
}

}  // namespace

std::optional<IpAddress> ParseIp(std::string_view text) {
  IpAddress ip;
  if (text.find(':') == std::string_view::npos) {
    if (!Pton(AF_INET, text, ip.bytes.data())) return std::nullopt;
    return ip;
  }
  if (!Pton(AF_INET6, text, ip.bytes.data())) return std::nullopt;
  if (std::memcmp(ip.bytes.data(), kMappedPrefix, sizeof kMappedPrefix) == 0) {
    // IPv4-mapped: the IPv4 client of a dual-stack listener.
    std::memmove(ip.bytes.data(), ip.bytes.data() + 12, 4);
    std::fill(ip.bytes.begin() + 4, ip.bytes.end(), 0);
    return ip;
  }
  ip.v4 = false;
  return ip;
}

std::optional<IpAddress> ParseIpMaybePort(std::string_view text) {
  if (!text.empty() && text.front() == '[') {
    // "[v6]" or "[v6]:port"
    size_t close = text.find(']');
    if (close == std::string_view::npos) return std::nullopt;
    std::string_view rest = text.substr(close + 1);
    if (!rest.empty() && !(rest.front() == ':' && IsPort(rest.substr(1)))) return std::nullopt;
    std::string_view inner = text.substr(1, close - 1);
    if (inner.find(':') == std::string_view::npos) return std::nullopt;  // "[1.2.3.4]"
    return ParseIp(inner);
  }
  size_t colon = text.find(':');
  if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
    // One colon: "1.2.3.4:port" (an IPv6 address has at least two).
    if (!IsPort(text.substr(colon + 1))) return std::nullopt;
    auto ip = ParseIp(text.substr(0, colon));
    if (!ip || !ip->v4) return std::nullopt;
    return ip;
  }
  return ParseIp(text);
}

std::string FormatIp(const IpAddress& ip) {
  char buf[INET6_ADDRSTRLEN];
  if (!inet_ntop(ip.v4 ? AF_INET : AF_INET6, ip.bytes.data(), buf, sizeof buf)) return "";
  return buf;
}

IpAddress TruncatedIp(const IpAddress& ip) {
  IpAddress out = ip;
  size_t keep = ip.v4 ? 3 : 6;  // /24, /48
  std::fill(out.bytes.begin() + static_cast<ptrdiff_t>(keep), out.bytes.end(), 0);
  return out;
}

std::string TruncateIp(std::string_view text) {
  auto ip = ParseIpMaybePort(text);
  return ip ? FormatIp(TruncatedIp(*ip)) : std::string();
}

bool Cidr::Contains(const IpAddress& ip) const {
  if (ip.v4 != base.v4) return false;
  int full = prefix_len / 8, rest = prefix_len % 8;
  if (std::memcmp(ip.bytes.data(), base.bytes.data(), static_cast<size_t>(full)) != 0) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (ip.bytes[full] & mask) == (base.bytes[full] & mask);
}

StatusOr<Cidr> ParseCidr(std::string_view text) {
  size_t slash = text.find('/');
  std::string_view addr = text.substr(0, slash);
  Cidr cidr;
  auto ip = ParseIp(addr);
  if (!ip) return InvalidArgument(std::string(text), ": not an IP address or CIDR range");
  cidr.base = *ip;
  int max_len = ip->v4 ? 32 : 128;
  // An IPv4-mapped range is written with an IPv6 prefix length: 96 more than its IPv4 one.
  int offset = ip->v4 && addr.find(':') != std::string_view::npos ? 96 : 0;
  if (slash == std::string_view::npos) {
    cidr.prefix_len = max_len;
    return cidr;
  }
  std::string_view len = text.substr(slash + 1);
  int n = -1;
  auto res = std::from_chars(len.data(), len.data() + len.size(), n);
  if (len.empty() || len.size() > 3 || res.ptr != len.data() + len.size() || n < offset ||
      n - offset > max_len)
    return InvalidArgument(std::string(text),
                           ": prefix length must be 0 to " + std::to_string(max_len + offset));
  cidr.prefix_len = n - offset;
  // Bits set past the prefix ("10.1.0.0/8") are most likely a typo for another length.
  for (int bit = cidr.prefix_len; bit < max_len; ++bit)
    if (cidr.base.bytes[bit / 8] & (0x80 >> (bit % 8)))
      return InvalidArgument(std::string(text), ": has bits set past its prefix length");
  return cidr;
}

namespace {

bool IsTrusted(const IpAddress& ip, const std::vector<Cidr>& trusted) {
  return std::any_of(trusted.begin(), trusted.end(), [&](const Cidr& c) { return c.Contains(ip); });
}

std::string_view TrimSpaces(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

}  // namespace

std::optional<IpAddress> ResolveClientIp(std::string_view peer, std::string_view x_forwarded_for,
                                         const std::vector<Cidr>& trusted) {
  // A link-local peer may carry a zone ("fe80::1%eth0"): the zone is not part of the address.
  auto client = ParseIpMaybePort(peer.substr(0, peer.find('%')));
  if (!client || !IsTrusted(*client, trusted)) return client;
  std::string_view rest = x_forwarded_for;
  while (!rest.empty()) {
    size_t comma = rest.rfind(',');
    std::string_view hop =
        TrimSpaces(comma == std::string_view::npos ? rest : rest.substr(comma + 1));
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
    auto ip = ParseIpMaybePort(hop);
    if (!ip) break;  // unreadable: nothing left of it can be trusted
    client = ip;
    if (!IsTrusted(*ip, trusted)) break;
  }
  return client;
}

}  // namespace touchpoint::ingest
