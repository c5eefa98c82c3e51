#pragma once
// Typed field access over simdjson DOM objects. Every error names the full field path
// ("data[3].event_time: must be Unix seconds"), since it goes to the client unchanged.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpoint::format {

using simdjson::dom::element;
using simdjson::dom::object;

// Where a value sits in the document, for the error that names it: "data[3].user.email". A path
// is a chain of levels on the stack, each pointing at its parent, and is rendered to a string only
// when an error names it: a valid document costs no string per field. A level must not outlive
// its parent, so keep a path in a variable only when its parent is one too (never a path built on
// a temporary, like `JsonPath p = JsonPath("a").Key("b")`); passing `path.Key("x")` to a call is
// always fine.
class JsonPath {
 public:
  JsonPath() = default;  // the document itself: ""
  // A named root ("data", "body"), or a path already rendered; implicit so that a string can be
  // passed wherever a path is taken.
  JsonPath(std::string_view root) : key_(root) {}    // NOLINT(google-explicit-constructor)
  JsonPath(const char* root) : key_(root) {}         // NOLINT(google-explicit-constructor)
  JsonPath(const std::string& root) : key_(root) {}  // NOLINT(google-explicit-constructor)
  JsonPath(std::string&&) = delete;  // a temporary string would be gone before the path

  JsonPath Key(std::string_view key) const { return JsonPath(this, key, kNoIndex); }
  JsonPath Index(size_t index) const { return JsonPath(this, {}, index); }
  std::string str() const;

 private:
  static constexpr size_t kNoIndex = static_cast<size_t>(-1);
  JsonPath(const JsonPath* parent, std::string_view key, size_t index)
      : parent_(parent), key_(key), index_(index) {}
  void AppendTo(std::string& out) const;

  const JsonPath* parent_ = nullptr;
  std::string_view key_;     // this level's key (or the root's name)
  size_t index_ = kNoIndex;  // or its index in the parent array
};

std::string FieldPath(const JsonPath& path, std::string_view key);  // path.Key(key).str()
std::string IndexPath(const JsonPath& path, size_t index);          // path.Index(index).str()

// Optional string: absent or null leaves `out` unchanged. Over `max_len` bytes is an error.
Status ReadString(object obj, std::string_view key, const JsonPath& path, size_t max_len,
                  std::string& out);
// A string, or an array of strings (TikTok allows both for email, phone, external_id).
// Appends to `out`; more than `max_items` values in `out` is an error.
Status ReadStringList(object obj, std::string_view key, const JsonPath& path, size_t max_len,
                      std::vector<std::string>& out, size_t max_items = 16);
// Optional number (integer or float).
Status ReadNumber(object obj, std::string_view key, const JsonPath& path,
                  std::optional<double>& out);
// Optional integer.
Status ReadInt(object obj, std::string_view key, const JsonPath& path, std::optional<int64_t>& out);
// Optional object: absent or null gives nullopt.
Status ReadObject(object obj, std::string_view key, const JsonPath& path,
                  std::optional<object>& out);

// Maps a simdjson parse error to a client-facing message.
Status JsonSyntaxError(simdjson::error_code error);

}  // namespace touchpoint::format
