#include "identity/identity_graph.h"

#include <gtest/gtest.h>

namespace touchpoint::identity {
namespace {

TEST(IdentityGraph, InternIsStableAndTypesAreSeparate) {
  IdentityGraph g;
  uint32_t a = g.Intern(IdentifierHash(IdType::kCookie, "x"));
  EXPECT_EQ(g.Intern(IdentifierHash(IdType::kCookie, "x")), a);
  EXPECT_NE(g.Intern(IdentifierHash(IdType::kClickId, "x")), a);  // same text, other type
  EXPECT_EQ(g.Lookup(IdentifierHash(IdType::kEmail, "nope")), UINT32_MAX);
}

TEST(IdentityGraph, UnionsAreTransitive) {
  IdentityGraph g;
  uint32_t click = g.Intern(1), cookie = g.Intern(2), email = g.Intern(3), other = g.Intern(4);
  EXPECT_TRUE(g.Union(click, cookie));
  EXPECT_TRUE(g.Union(email, cookie));
  EXPECT_EQ(g.Find(click), g.Find(email));
  EXPECT_NE(g.Find(click), g.Find(other));
  EXPECT_EQ(g.ClusterSize(email), 3u);
}

TEST(IdentityGraph, RunawayClusterStopsMergingAtTheLimit) {
  // One shared identifier (an office tablet's cookie) seen with 20 people's emails.
  IdentityGraph g(5);
  uint32_t shared = g.Intern(100);
  int joined = 0;
  for (uint64_t i = 0; i < 20; ++i) joined += g.Union(shared, g.Intern(200 + i));
  EXPECT_EQ(joined, 4);  // 1 + 4 = 5 identifiers, then it stops
  EXPECT_EQ(g.ClusterSize(shared), 5u);
  EXPECT_EQ(g.refused_merges(), 16u);
  // Growing through a member is refused too.
  uint32_t member = g.Intern(200);
  EXPECT_FALSE(g.Union(member, g.Intern(999)));
}

TEST(IdentityGraph, GrowsPastInitialCapacity) {
  IdentityGraph g;
  for (uint64_t i = 1; i <= 100000; ++i) g.Intern(i * 7919);
  EXPECT_EQ(g.size(), 100000u);
  for (uint64_t i = 1; i <= 100000; ++i) ASSERT_EQ(g.Lookup(i * 7919), i - 1);
}

}  // namespace
}  // namespace touchpoint::identity
