#pragma once
// Status / StatusOr: the one channel for expected failures (bad input, missing key, I/O).
// Messages go to users unchanged, so they name the field and what was wrong.

#include <optional>
#include <string>
#include <string_view>
#include <utility>

namespace touchpoint {

enum class StatusCode {
  kOk = 0,
  kInvalidArgument,    // bad input: names the field
  kNotFound,           // unknown pixel, ad, ...
  kUnauthenticated,    // no or wrong credentials
  kPermissionDenied,   // credentials valid, but not for this resource
  kResourceExhausted,  // queue full, rate limited: retry later
  kTooLarge,           // body or batch over a limit
  kUnavailable,        // shutting down
  kInternal,           // I/O and other failures of ours
};

class [[nodiscard]] Status {
 public:
  Status() = default;
  Status(StatusCode code, std::string message) : code_(code), message_(std::move(message)) {}

  bool ok() const { return code_ == StatusCode::kOk; }
  StatusCode code() const { return code_; }
  const std::string& message() const { return message_; }
  std::string ToString() const;

 private:
  StatusCode code_ = StatusCode::kOk;
  std::string message_;
};

inline Status OkStatus() { return Status(); }
inline Status InvalidArgument(std::string_view path, std::string_view what) {
  return Status(StatusCode::kInvalidArgument, std::string(path) + std::string(what));
}
inline Status NotFound(std::string msg) { return Status(StatusCode::kNotFound, std::move(msg)); }
inline Status Unauthenticated(std::string msg) {
  return Status(StatusCode::kUnauthenticated, std::move(msg));
}
inline Status PermissionDenied(std::string msg) {
  return Status(StatusCode::kPermissionDenied, std::move(msg));
}
inline Status ResourceExhausted(std::string msg) {
  return Status(StatusCode::kResourceExhausted, std::move(msg));
}
inline Status TooLarge(std::string msg) { return Status(StatusCode::kTooLarge, std::move(msg)); }
inline Status Unavailable(std::string msg) {
  return Status(StatusCode::kUnavailable, std::move(msg));
}
inline Status Internal(std::string msg) { return Status(StatusCode::kInternal, std::move(msg)); }

template <typename T>
class [[nodiscard]] StatusOr {
 public:
  StatusOr(T value) : value_(std::move(value)) {}          // NOLINT: implicit by design
  StatusOr(Status status) : status_(std::move(status)) {}  // NOLINT

  bool ok() const { return status_.ok(); }
  const Status& status() const { return status_; }
  T& value() & { return *value_; }
  const T& value() const& { return *value_; }
  T&& value() && { return std::move(*value_); }
  T* operator->() { return &*value_; }
  const T* operator->() const { return &*value_; }
  T& operator*() { return *value_; }

 private:
  Status status_;
  std::optional<T> value_;
};

#define TP_RETURN_IF_ERROR(expr)       \
  do {                                 \
    ::touchpoint::Status _st = (expr); \
    if (!_st.ok()) return _st;         \
  } while (0)

}  // namespace touchpoint
