#include "core/utf8.h"

#include <gtest/gtest.h>

namespace touchpoint {
namespace {

TEST(Utf8, ValidityFollowsRfc3629) {
  EXPECT_TRUE(IsValidUtf8(""));
  EXPECT_TRUE(IsValidUtf8("caf\xC3\xA9 \xE2\x82\xAC \xF0\x9F\x98\x80"));
  EXPECT_FALSE(IsValidUtf8("\xFF"));
  EXPECT_FALSE(IsValidUtf8("\xC1\xBF"));          // overlong
  EXPECT_FALSE(IsValidUtf8("\xED\xBF\xBF"));      // surrogate
  EXPECT_FALSE(IsValidUtf8("\xF5\x80\x80\x80"));  // past U+10FFFF
  EXPECT_FALSE(IsValidUtf8("\xC3"));              // cut short
}

TEST(Utf8, RepairReplacesEachBadByteAndPrefixNeverSplitsACharacter) {
  EXPECT_EQ(ToValidUtf8("Mozilla\xFF\xFE/5"), "Mozilla\xEF\xBF\xBD\xEF\xBF\xBD/5");
  EXPECT_EQ(ToValidUtf8("ok \xC3\xA9"), "ok \xC3\xA9");
  // "ab€" is 5 bytes: a 4-byte limit cuts the euro sign, which is dropped, not replaced.
  EXPECT_EQ(ValidUtf8Prefix("ab\xE2\x82\xAC", 4), "ab");
  EXPECT_EQ(ValidUtf8Prefix("ab\xE2\x82\xAC", 5), "ab\xE2\x82\xAC");
  // The limit is on the output: a replacement counts its three bytes.
  EXPECT_EQ(ValidUtf8Prefix("a\xFFz", 4), "a\xEF\xBF\xBD");
  EXPECT_EQ(ValidUtf8Prefix("a\xFFz", 3), "a");
  EXPECT_EQ(ValidUtf8Prefix(std::string(2000, '\xFF'), 1024).size(), 1023u);  // 341 x 3 bytes
}

}  // namespace
}  // namespace touchpoint
