#include "format/url.h"

#include <gtest/gtest.h>

namespace touchpoint::format {
namespace {

TEST(Url, AddsClickIdBeforeFragment) {
  EXPECT_EQ(AddQueryParam("https://s.example/p", "ttclid", "C.1"),
            "https://s.example/p?ttclid=C.1");
  EXPECT_EQ(AddQueryParam("https://s.example/p?a=b#top", "ttclid", "x y"),
            "https://s.example/p?a=b&ttclid=x%20y#top");
}

TEST(Url, ClickIdSurvivesALiteralQuestionMarkInTheQuery) {
  std::string url = AddQueryParam("https://s.example/p?a=b?", "ttclid", "C.1");
  EXPECT_EQ(QueryParamOf(url, "ttclid"), "C.1");
  EXPECT_EQ(AddQueryParam("https://s.example/p?", "ttclid", "C"), "https://s.example/p?ttclid=C");
}

TEST(Url, PercentDecodingRejectsTruncatedEscapes) {
  EXPECT_EQ(PercentDecode("a%20b+c"), "a b c");
  EXPECT_FALSE(PercentDecode("a%2"));
  EXPECT_FALSE(PercentDecode("%"));
  EXPECT_FALSE(PercentDecode("%g0"));
}

TEST(Url, PercentDecodingKeepsThePlainRunsAroundEscapes) {
  EXPECT_EQ(PercentDecode(""), "");
  EXPECT_EQ(PercentDecode("plain"), "plain");
  EXPECT_EQ(PercentDecode("++"), "  ");
  EXPECT_EQ(PercentDecode("x%41y%42"), "xAyB");
  EXPECT_EQ(PercentDecode("%E2%82%ACprice%3d10%2C5+EUR"), "\xE2\x82\xACprice=10,5 EUR");
  EXPECT_EQ(PercentDecode("https%3A%2F%2Fshop.example%2Fcart"), "https://shop.example/cart");
  EXPECT_FALSE(PercentDecode("abc%4"));
  EXPECT_FALSE(PercentDecode("abc%4xdef"));
}

TEST(Url, ParamThatDecodesToInvalidUtf8IsIgnored) {
  EXPECT_FALSE(QueryParamOf("https://s.example/?ttclid=%BB%BB", "ttclid"));
  EXPECT_EQ(QueryParamOf("https://s.example/?ttclid=%C3%A9", "ttclid"), "\xC3\xA9");
  EXPECT_EQ(QueryParamOf("https://s.example/?ttclid=%BB&ttclid=K2", "ttclid"), "K2");
}

TEST(Url, OnlyAbsoluteHttpUrls) {
  EXPECT_TRUE(IsHttpUrl("https://shop.example/x"));
  EXPECT_FALSE(IsHttpUrl("javascript:alert(1)"));
  EXPECT_FALSE(IsHttpUrl("//evil.example"));
  EXPECT_FALSE(IsHttpUrl("https:///x"));
  EXPECT_FALSE(IsHttpUrl("https://a b"));
}

}  // namespace
}  // namespace touchpoint::format
