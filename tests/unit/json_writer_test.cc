#include "core/json_writer.h"

#include <gtest/gtest.h>

#include <cstdio>

namespace touchpoint {
namespace {

TEST(JsonWriter, EscapesControlCharactersAndQuotes) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01", 7));
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
}

// Escaping looks at eight bytes at a time: put every byte value at every position of strings
// of lengths around those blocks, and compare with escaping one byte at a time.
TEST(JsonWriter, EscapesEveryByteAtEveryPositionOfTheBlockScan) {
  auto slow = [](std::string_view s) {
    std::string out = "\"";
    for (unsigned char c : s) {
      if (c == '"')
        out += "\\\"";
      else if (c == '\\')
        out += "\\\\";
      else if (c == '\n')
        out += "\\n";
      else if (c == '\r')
        out += "\\r";
      else if (c == '\t')
        out += "\\t";
      else if (c == '\b')
        out += "\\b";
      else if (c == '\f')
        out += "\\f";
      else if (c < 0x20) {
        char buf[8];
        std::snprintf(buf, sizeof buf, "\\u%04x", c);
        out += buf;
      } else if (c >= 0x80) {
        // Here never part of a valid sequence: a lone high byte next to 'a' or a lone 0xC3.
        out += "\\ufffd";
      } else {
        out += static_cast<char>(c);
      }
    }
    return out + "\"";
  };
  for (size_t len : {1, 7, 8, 9, 15, 16, 17, 24, 33}) {
    for (size_t pos = 0; pos < len; ++pos) {
      for (int b = 0; b < 256; ++b) {
        std::string s(len, 'a');
        s[pos] = static_cast<char>(b);
        if (pos + 1 < len) s[len - 1] = static_cast<char>(0xC3);  // a lone lead byte
        std::string out;
        AppendJsonString(out, s);
        ASSERT_EQ(out, slow(s)) << "len " << len << " pos " << pos << " byte " << b;
      }
    }
  }
}

// The writer is the last line of defence for /metrics, the debugger and the stored form: it
// never writes invalid UTF-8, wherever the bytes came from.
TEST(JsonWriter, CopiesValidUtf8AndReplacesEveryInvalidByte) {
  const std::string valid[] = {"\xC3\xA9", "\xE2\x82\xAC", "\xED\x9F\xBF", "\xF0\x9F\x98\x80",
                               "\xF4\x8F\xBF\xBF"};  // é, €, U+D7FF, 😀, U+10FFFF
  for (size_t len : {0, 5, 7, 8, 9, 16}) {
    for (const auto& ch : valid) {
      for (size_t pos = 0; pos <= len; ++pos) {
        std::string s = std::string(pos, 'a') + ch + std::string(len - pos, 'b');
        std::string out;
        AppendJsonString(out, s);
        ASSERT_EQ(out, "\"" + s + "\"") << len << " " << pos;
      }
    }
  }
  // One U+FFFD per byte that is not part of a valid sequence.
  struct Case {
    std::string in, want;
  } cases[] = {
      {"a\xFF"
       "b",
       R"("a\ufffdb")"},
      {"\xC0\x80", R"("\ufffd\ufffd")"},                      // overlong NUL
      {"\xE0\x80\xAF", R"("\ufffd\ufffd\ufffd")"},            // overlong '/'
      {"\xED\xA0\x80", R"("\ufffd\ufffd\ufffd")"},            // a UTF-16 surrogate
      {"\xF4\x90\x80\x80", R"("\ufffd\ufffd\ufffd\ufffd")"},  // past U+10FFFF
      {"\xE2\x82", R"("\ufffd\ufffd")"},                      // cut short
      {"\xE2\x82x\xC3\xA9", R"("\ufffd\ufffdx)"
                            "\xC3\xA9"
                            R"(")"},
      {"\x80"
       "abcdefghijklmnop\xC3",
       R"("\ufffdabcdefghijklmnop\ufffd")"},
  };
  for (const auto& c : cases) {
    std::string out;
    AppendJsonString(out, c.in);
    EXPECT_EQ(out, c.want);
  }
}

TEST(JsonWriter, WritesNestedStructuresWithCommas) {
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("a").Int(1).Key("b").BeginArray().Int(2).String("x").EndArray();
  w.Key("c").BeginObject().EndObject().EndObject();
  EXPECT_EQ(out, R"({"a":1,"b":[2,"x"],"c":{}})");
}

TEST(JsonWriter, NonFiniteNumbersBecomeNull) {
  std::string out;
  AppendJsonNumber(out, 1.0 / 0.0);
  EXPECT_EQ(out, "null");
  out.clear();
  AppendJsonNumber(out, 0.1);
  EXPECT_EQ(out, "0.1");
}

}  // namespace
}  // namespace touchpoint
