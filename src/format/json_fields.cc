#include "format/json_fields.h"

namespace touchpoint::format {

void JsonPath::AppendTo(std::string& out) const {
  if (parent_) parent_->AppendTo(out);
  if (index_ != kNoIndex) {
    out += '[';
    out += std::to_string(index_);
    out += ']';
    return;
  }
  if (parent_ && !out.empty()) out += '.';
  out += key_;
}

std::string JsonPath::str() const {
  std::string out;
  AppendTo(out);
  return out;
}

std::string FieldPath(const JsonPath& path, std::string_view key) { return path.Key(key).str(); }

std::string IndexPath(const JsonPath& path, size_t index) { return path.Index(index).str(); }

namespace {

// Looks a key up; returns false when absent or null.
bool Lookup(object obj, std::string_view key, element& out) {
  auto r = obj.at_key(key);
  if (r.error()) return false;
  out = r.value_unsafe();
  return !out.is_null();
}

}  // namespace

Status ReadString(object obj, std::string_view key, const JsonPath& path, size_t max_len,
                  std::string& out) {
  element e;
  if (!Lookup(obj, key, e)) return OkStatus();
  std::string_view s;
  if (e.get_string().get(s)) return InvalidArgument(FieldPath(path, key), ": must be a string");
  if (s.size() > max_len)
    return InvalidArgument(FieldPath(path, key),
                           ": longer than " + std::to_string(max_len) + " bytes");
  out.assign(s);
  return OkStatus();
}

Status ReadStringList(object obj, std::string_view key, const JsonPath& path, size_t max_len,
                      std::vector<std::string>& out, size_t max_items) {
  element e;
  if (!Lookup(obj, key, e)) return OkStatus();
  std::string_view s;
  if (!e.get_string().get(s)) {
    if (s.size() > max_len)
      return InvalidArgument(FieldPath(path, key),
                             ": longer than " + std::to_string(max_len) + " bytes");
    if (out.size() >= max_items)
      return InvalidArgument(FieldPath(path, key),
                             ": more than " + std::to_string(max_items) + " values");
    if (!s.empty()) out.emplace_back(s);
    return OkStatus();
  }
  simdjson::dom::array arr;
  if (e.get_array().get(arr))
    return InvalidArgument(FieldPath(path, key), ": must be a string or an array of strings");
  size_t i = 0;
  for (element item : arr) {
    if (out.size() >= max_items)
      return InvalidArgument(FieldPath(path, key),
                             ": more than " + std::to_string(max_items) + " values");
    if (item.get_string().get(s))
      return InvalidArgument(IndexPath(path.Key(key), i), ": must be a string");
    if (s.size() > max_len)
      return InvalidArgument(IndexPath(path.Key(key), i),
                             ": longer than " + std::to_string(max_len) + " bytes");
    if (!s.empty()) out.emplace_back(s);
    ++i;
  }
  return OkStatus();
}

Status ReadNumber(object obj, std::string_view key, const JsonPath& path,
                  std::optional<double>& out) {
  element e;
  if (!Lookup(obj, key, e)) return OkStatus();
  double d;
  if (e.get_double().get(d)) return InvalidArgument(FieldPath(path, key), ": must be a number");
  out = d;
  return OkStatus();
}

Status ReadInt(object obj, std::string_view key, const JsonPath& path,
               std::optional<int64_t>& out) {
  element e;
  if (!Lookup(obj, key, e)) return OkStatus();
  int64_t v;
  if (e.get_int64().get(v)) {
    uint64_t u;
    if (!e.get_uint64().get(u)) return InvalidArgument(FieldPath(path, key), ": out of range");
    return InvalidArgument(FieldPath(path, key), ": must be an integer");
  }
  out = v;
  return OkStatus();
}

Status ReadObject(object obj, std::string_view key, const JsonPath& path,
                  std::optional<object>& out) {
  element e;
  if (!Lookup(obj, key, e)) return OkStatus();
  object o;
  if (e.get_object().get(o)) return InvalidArgument(FieldPath(path, key), ": must be an object");
  out = o;
  return OkStatus();
}

Status JsonSyntaxError(simdjson::error_code error) {
  // Said plainly: simdjson's own text for it ("The input is not valid UTF-8") reads like a
  // syntax error, and it is the one a client can fix without reading JSON's grammar.
  if (error == simdjson::UTF8_ERROR)
    return Status(StatusCode::kInvalidArgument, "body: not valid UTF-8");
  return Status(StatusCode::kInvalidArgument,
                std::string("body: malformed JSON (") + simdjson::error_message(error) + ")");
}

}  // namespace touchpoint::format
