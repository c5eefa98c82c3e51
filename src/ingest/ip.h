#pragma once
// IP addresses as they reach an event: parsed (never handled as strings), truncated before they
// are stored, and the client address of a request resolved through trusted proxies.
//
// Accepted text: an IPv4 dotted quad ("203.0.113.7"), an IPv6 address in any inet_pton form
// ("2001:db8::1"), and, where a peer or proxy may have written one, the same with a port:
// "203.0.113.7:443" or "[2001:db8::1]:443" (the port is dropped), or "[2001:db8::1]". An
// IPv4-mapped IPv6 address ("::ffff:203.0.113.7", what a listener on [::] sees for an IPv4
// client) is the IPv4 address. Nothing else: no host names, zone ids, lists, CIDR suffixes,
// leading or trailing spaces.

#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpoint::ingest {

struct IpAddress {
  bool v4 = true;
  std::array<uint8_t, 16> bytes{};  // network order; an IPv4 address uses the first 4

  bool operator==(const IpAddress&) const = default;
};

// An address without a port (the form of an address field in a body).
std::optional<IpAddress> ParseIp(std::string_view text);
// An address, or one with a port as above (the forms of X-Forwarded-For hops and peers).
std::optional<IpAddress> ParseIpMaybePort(std::string_view text);

// The canonical text: "203.0.113.7", "2001:db8::1" (RFC 5952, as inet_ntop writes it).
std::string FormatIp(const IpAddress& ip);

// The address with all but its network part zeroed, so that no full IP is stored: IPv4 keeps
// its /24 ("203.0.113.0"), IPv6 its /48 ("2001:db8:85a3::").
IpAddress TruncatedIp(const IpAddress& ip);
// FormatIp(TruncatedIp(ParseIpMaybePort(text))), or "" when `text` is not an address.
std::string TruncateIp(std::string_view text);

// An address range: "10.0.0.0/8", "::1/128", or a single address (/32 or /128). An IPv4-mapped
// range ("::ffff:10.0.0.0/104") is the IPv4 range. Host bits must be zero.
struct Cidr {
  IpAddress base;
  int prefix_len = 0;

  bool Contains(const IpAddress& ip) const;
};
StatusOr<Cidr> ParseCidr(std::string_view text);

// The client of a request that arrived from `peer` (the connection's address) carrying
// `x_forwarded_for` (all X-Forwarded-For headers joined with ',' in order; empty when none):
//   - the header is read only when the peer is in one of `trusted` (so never with none);
//   - its hops are walked right to left, skipping trusted ones: the client is the right-most
//     hop that is not trusted; when every hop is trusted, the left-most one;
//   - a hop that is not an address (a host name, "unknown", garbage) stops the walk: the client
//     is then the last good address seen, i.e. the trusted hop (or peer) just right of it, since
//     nothing left of a hop we cannot read can be trusted.
// nullopt when the peer itself is not an address.
std::optional<IpAddress> ResolveClientIp(std::string_view peer, std::string_view x_forwarded_for,
                                         const std::vector<Cidr>& trusted);

}  // namespace touchpoint::ingest
