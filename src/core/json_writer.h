#pragma once
// A small streaming JSON writer for responses and the stored event form. Keys and values are
// escaped per RFC 8259; numbers are written so that they parse back to the same double. The
// output is always valid UTF-8: a byte of a string that is not part of a valid UTF-8 sequence
// is written as \ufffd.

#include <cstdint>
#include <string>
#include <string_view>

namespace touchpoint {

void AppendJsonString(std::string& out, std::string_view s);
void AppendJsonNumber(std::string& out, double v);

class JsonWriter {
 public:
  explicit JsonWriter(std::string& out) : out_(out) {}

  JsonWriter& BeginObject() {
    Sep();
    out_ += '{';
    first_ = true;
    return *this;
  }
  JsonWriter& EndObject() {
    out_ += '}';
    first_ = false;
    return *this;
  }
  JsonWriter& BeginArray() {
    Sep();
    out_ += '[';
    first_ = true;
    return *this;
  }
  JsonWriter& EndArray() {
    out_ += ']';
    first_ = false;
    return *this;
  }
  JsonWriter& Key(std::string_view k) {
    Sep();
    AppendJsonString(out_, k);
    out_ += ':';
    first_ = true;  // the value that follows needs no comma
    return *this;
  }
  JsonWriter& String(std::string_view v) {
    Sep();
    AppendJsonString(out_, v);
    return *this;
  }
  JsonWriter& Int(int64_t v) {
    Sep();
    out_ += std::to_string(v);
    return *this;
  }
  JsonWriter& Double(double v) {
    Sep();
    AppendJsonNumber(out_, v);
    return *this;
  }
  JsonWriter& Bool(bool v) {
    Sep();
    out_ += v ? "true" : "false";
    return *this;
  }
  JsonWriter& Null() {
    Sep();
    out_ += "null";
    return *this;
  }
  JsonWriter& Raw(std::string_view json) {
    Sep();
    out_ += json;
    return *this;
  }

  // Writes "key": value only when value is non-empty.
  JsonWriter& StringIf(std::string_view k, std::string_view v) {
    if (!v.empty()) Key(k).String(v);
    return *this;
  }

 private:
  void Sep() {
    if (!first_) out_ += ',';
    first_ = false;
  }
  std::string& out_;
  bool first_ = true;
};

}  // namespace touchpoint
