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
        if (pos + 1 < len) s[len - 1] = static_cast<char>(0xC3);  // high bytes pass through
        std::string out;
        AppendJsonString(out, s);
        ASSERT_EQ(out, slow(s)) << "len " << len << " pos " << pos << " byte " << b;
      }
    }
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
