#include "core/json_writer.h"

#include <gtest/gtest.h>

namespace touchpoint {
namespace {

TEST(JsonWriter, EscapesControlCharactersAndQuotes) {
  std::string out;
  AppendJsonString(out, std::string("a\"b\\c\n\x01", 7));
  EXPECT_EQ(out, R"("a\"b\\c\n\u0001")");
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
