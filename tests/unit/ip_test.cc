#include "ingest/ip.h"

#include <gtest/gtest.h>

namespace touchpoint::ingest {
namespace {

TEST(Ip, TruncatesIpv4To24AndIpv6To48) {
  EXPECT_EQ(TruncateIp("203.0.113.77"), "203.0.113.0");
  EXPECT_EQ(TruncateIp("2001:db8:85a3:8d3:1319:8a2e:370:7348"), "2001:db8:85a3::");
  // Written long-hand, the same address truncates to the same canonical text.
  EXPECT_EQ(TruncateIp("2001:0DB8:85A3:0000:0000:0000:0000:0001"), "2001:db8:85a3::");
  EXPECT_EQ(TruncateIp("2001::1"), "2001::");
}

// A listener on [::] sees an IPv4 client as ::ffff:a.b.c.d; truncated as IPv6 (/48) that was
// "::", every IPv4 client the same. It is the IPv4 address.
TEST(Ip, Ipv4MappedIsIpv4) {
  auto ip = ParseIp("::ffff:198.51.100.23");
  ASSERT_TRUE(ip);
  EXPECT_TRUE(ip->v4);
  EXPECT_EQ(FormatIp(*ip), "198.51.100.23");
  EXPECT_EQ(TruncateIp("::ffff:198.51.100.23"), "198.51.100.0");
  EXPECT_EQ(TruncateIp("::FFFF:c633:6417"), "198.51.100.0");  // c6.33.64.17 in hex
}

TEST(Ip, PortIsDroppedInBothForms) {
  EXPECT_EQ(TruncateIp("203.0.113.77:8443"), "203.0.113.0");
  EXPECT_EQ(TruncateIp("[2001:db8:85a3::7]:443"), "2001:db8:85a3::");
  EXPECT_EQ(TruncateIp("[2001:db8:85a3::7]"), "2001:db8:85a3::");
  EXPECT_FALSE(ParseIp("203.0.113.77:8443"));  // a body field or CIDR takes no port
}

TEST(Ip, AnythingElseIsNotAnAddress) {
  for (const char* bad : {"", "localhost", "unknown", "1.2.3.4, 5.6.7.8", "1.2.3", "1.2.3.4.5",
                          "256.1.1.1", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4:", "1.2.3.4:65536",
                          "1.2.3.4:x", "[1.2.3.4]:80", "2001:db8::1:80x", "[2001:db8::1",
                          "[2001:db8::1]x", "fe80::1%eth0", "10.0.0.0/8", "::ffff:1.2.3"}) {
    EXPECT_EQ(TruncateIp(bad), "") << bad;
  }
  // inet_pton stops at a NUL; the text does not (a JSON string may hold \u0000).
  EXPECT_EQ(TruncateIp(std::string_view("1.2.3.4\0junk", 12)), "");
}

TEST(Cidr, ContainsByPrefix) {
  auto c = ParseCidr("10.0.0.0/8");
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_TRUE(c->Contains(*ParseIp("10.255.1.2")));
  EXPECT_FALSE(c->Contains(*ParseIp("11.0.0.1")));
  EXPECT_FALSE(c->Contains(*ParseIp("::a00:1")));  // IPv6, not 10.0.0.1
  EXPECT_TRUE(c->Contains(*ParseIp("::ffff:10.1.2.3")));
  auto odd = ParseCidr("192.168.0.0/23");  // 192.168.0.0 - 192.168.1.255
  ASSERT_TRUE(odd.ok());
  EXPECT_TRUE(odd->Contains(*ParseIp("192.168.1.255")));
  EXPECT_FALSE(odd->Contains(*ParseIp("192.168.2.0")));
  auto one = ParseCidr("::1");
  ASSERT_TRUE(one.ok());
  EXPECT_EQ(one->prefix_len, 128);
  EXPECT_TRUE(one->Contains(*ParseIp("::1")));
  EXPECT_FALSE(one->Contains(*ParseIp("::2")));
  auto mapped = ParseCidr("::ffff:172.16.0.0/108");  // 108 - 96 = /12
  ASSERT_TRUE(mapped.ok());
  EXPECT_EQ(mapped->prefix_len, 12);
  EXPECT_TRUE(mapped->Contains(*ParseIp("172.31.255.255")));
  EXPECT_TRUE(ParseCidr("0.0.0.0/0")->Contains(*ParseIp("8.8.8.8")));
}

TEST(Cidr, RejectsMalformedRanges) {
  EXPECT_EQ(ParseCidr("10.0.0.0/33").status().message(),
            "10.0.0.0/33: prefix length must be 0 to 32");
  EXPECT_EQ(ParseCidr("::/129").status().message(), "::/129: prefix length must be 0 to 128");
  EXPECT_EQ(ParseCidr("10.0.0.0/").status().message(), "10.0.0.0/: prefix length must be 0 to 32");
  EXPECT_EQ(ParseCidr("10.1.0.0/8").status().message(),
            "10.1.0.0/8: has bits set past its prefix length");
  EXPECT_EQ(ParseCidr("proxy.local/8").status().message(),
            "proxy.local/8: not an IP address or CIDR range");
}

std::string Resolve(std::string_view peer, std::string_view xff,
                    const std::vector<std::string>& trusted) {
  std::vector<Cidr> cidrs;
  for (const auto& t : trusted) cidrs.push_back(*ParseCidr(t));
  auto ip = ResolveClientIp(peer, xff, cidrs);
  return ip ? FormatIp(*ip) : "(none)";
}

TEST(ResolveClientIp, HeaderIgnoredWithoutTrustedProxiesOrFromAnUntrustedPeer) {
  EXPECT_EQ(Resolve("198.51.100.9", "1.1.1.1", {}), "198.51.100.9");
  EXPECT_EQ(Resolve("127.0.0.1", "1.1.1.1", {}), "127.0.0.1");
  EXPECT_EQ(Resolve("198.51.100.9", "1.1.1.1", {"10.0.0.0/8"}), "198.51.100.9");
  EXPECT_EQ(Resolve("::ffff:198.51.100.9", "", {}), "198.51.100.9");
  EXPECT_EQ(Resolve("not an ip", "1.1.1.1", {"0.0.0.0/0"}), "(none)");
}

TEST(ResolveClientIp, RightMostUntrustedHopFromATrustedPeer) {
  const std::vector<std::string> trusted = {"10.0.0.0/8", "::1/128"};
  // The client may have sent its own "6.6.6.6" first; the proxy appended the real peer.
  EXPECT_EQ(Resolve("10.0.0.2", "6.6.6.6, 203.0.113.5", trusted), "203.0.113.5");
  // Inner proxies are skipped.
  EXPECT_EQ(Resolve("::1", "6.6.6.6,203.0.113.5, 10.1.1.1 ,10.2.2.2", trusted), "203.0.113.5");
  // A mapped peer from a [::] listener is trusted by its IPv4 range.
  EXPECT_EQ(Resolve("::ffff:10.0.0.2", "203.0.113.5", trusted), "203.0.113.5");
  // Ports on hops are dropped.
  EXPECT_EQ(Resolve("10.0.0.2", "203.0.113.5:51234", trusted), "203.0.113.5");
  EXPECT_EQ(Resolve("10.0.0.2", "[2001:db8::5]:443", trusted), "2001:db8::5");
  // All hops trusted: the left-most.
  EXPECT_EQ(Resolve("10.0.0.2", "10.9.9.9, 10.8.8.8", trusted), "10.9.9.9");
  // No header: the peer.
  EXPECT_EQ(Resolve("10.0.0.2", "", trusted), "10.0.0.2");
}

TEST(ResolveClientIp, MalformedHopStopsTheWalkAtTheLastGoodAddress) {
  const std::vector<std::string> trusted = {"10.0.0.0/8"};
  EXPECT_EQ(Resolve("10.0.0.2", "203.0.113.5, unknown", trusted), "10.0.0.2");
  EXPECT_EQ(Resolve("10.0.0.2", "203.0.113.5, garbage, 10.3.3.3", trusted), "10.3.3.3");
  EXPECT_EQ(Resolve("10.0.0.2", "203.0.113.5,,10.3.3.3", trusted), "10.3.3.3");
  // The malformed hop is left of an untrusted one: the walk ended before it.
  EXPECT_EQ(Resolve("10.0.0.2", "garbage, 203.0.113.5", trusted), "203.0.113.5");
}

}  // namespace
}  // namespace touchpoint::ingest
