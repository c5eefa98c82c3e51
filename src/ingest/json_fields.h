#pragma once
// Typed field access over simdjson DOM objects. Every error names the full field path
// ("data[3].event_time: must be Unix seconds"), since it goes to the client unchanged.

#include <simdjson.h>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "core/status.h"

namespace touchpoint::ingest {

using simdjson::dom::element;
using simdjson::dom::object;

std::string FieldPath(std::string_view path, std::string_view key);
std::string IndexPath(std::string_view path, size_t index);

// Optional string: absent or null leaves `out` unchanged. Over `max_len` bytes is an error.
Status ReadString(object obj, std::string_view key, std::string_view path, size_t max_len,
                  std::string& out);
// A string, or an array of strings (TikTok allows both for email, phone, external_id).
// Appends to `out`; more than `max_items` values in `out` is an error.
Status ReadStringList(object obj, std::string_view key, std::string_view path, size_t max_len,
                      std::vector<std::string>& out, size_t max_items = 16);
// Optional number (integer or float).
Status ReadNumber(object obj, std::string_view key, std::string_view path,
                  std::optional<double>& out);
// Optional integer.
Status ReadInt(object obj, std::string_view key, std::string_view path,
               std::optional<int64_t>& out);
// Optional object: absent or null gives nullopt.
Status ReadObject(object obj, std::string_view key, std::string_view path,
                  std::optional<object>& out);

// Maps a simdjson parse error to a client-facing message.
Status JsonSyntaxError(simdjson::error_code error);

}  // namespace touchpoint::ingest
