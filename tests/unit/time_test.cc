#include "core/time.h"

#include <gtest/gtest.h>

namespace touchpoint {
namespace {

TEST(Time, ParsesIso8601WithZulu) {
  // 2024-01-02T03:04:05Z = 1704164645 s (worked out: 19724 days * 86400 + 3h4m5s).
  EXPECT_EQ(ParseIso8601Ms("2024-01-02T03:04:05Z"), 1704164645000);
}

TEST(Time, ParsesOffsetsAndFractions) {
  EXPECT_EQ(ParseIso8601Ms("2024-01-02T05:04:05.250+02:00"), 1704164645250);
  EXPECT_EQ(ParseIso8601Ms("2024-01-01T22:04:05-05:00"), 1704164645000);
}

TEST(Time, RejectsMissingZoneAndBadDates) {
  EXPECT_FALSE(ParseIso8601Ms("2024-01-02T03:04:05"));
  EXPECT_FALSE(ParseIso8601Ms("2023-02-29T00:00:00Z"));
  EXPECT_FALSE(ParseIso8601Ms("2024-13-01T00:00:00Z"));
  EXPECT_FALSE(ParseIso8601Ms("garbage"));
  EXPECT_TRUE(ParseIso8601Ms("2024-02-29T00:00:00Z"));
}

TEST(Time, FormatsRoundTrip) {
  EXPECT_EQ(FormatIso8601Ms(1704164645250), "2024-01-02T03:04:05.250Z");
  EXPECT_EQ(FormatIso8601Ms(0), "1970-01-01T00:00:00.000Z");
  EXPECT_EQ(ParseDateMs("1970-01-02"), kDayMs);
  EXPECT_FALSE(ParseDateMs("1970-1-2"));
}

}  // namespace
}  // namespace touchpoint
