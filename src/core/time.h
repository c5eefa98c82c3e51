#pragma once
// Time: all stored times are Unix milliseconds (UTC). The clock is injected so tests control it.
#include <atomic>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace touchpoint {

inline constexpr int64_t kSecondMs = 1000;
inline constexpr int64_t kMinuteMs = 60 * kSecondMs;
inline constexpr int64_t kHourMs = 60 * kMinuteMs;
inline constexpr int64_t kDayMs = 24 * kHourMs;

class Clock {
 public:
  virtual ~Clock() = default;
  virtual int64_t NowMs() const = 0;
};

// The real wall clock.
class SystemClock final : public Clock {
 public:
  int64_t NowMs() const override;
};

// A clock tests set by hand (safe to read from other threads while a test moves it).
class ManualClock final : public Clock {
 public:
  explicit ManualClock(int64_t now_ms) : now_ms_(now_ms) {}
  int64_t NowMs() const override { return now_ms_.load(); }
  void Set(int64_t now_ms) { now_ms_.store(now_ms); }
  void Advance(int64_t ms) { now_ms_.fetch_add(ms); }

 private:
  std::atomic<int64_t> now_ms_;
};

// Parses ISO 8601 / RFC 3339 date-times: "2024-01-02T03:04:05Z", with optional fractional
// seconds and a "+hh:mm" / "-hh:mm" offset. Returns Unix ms, or nullopt when malformed.
std::optional<int64_t> ParseIso8601Ms(std::string_view text);

// Formats Unix ms as "2024-01-02T03:04:05.678Z".
std::string FormatIso8601Ms(int64_t unix_ms);

// Days since 1970-01-01 for a civil date (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);

// Parses "YYYY-MM-DD" into Unix ms at 00:00 UTC.
std::optional<int64_t> ParseDateMs(std::string_view text);

}  // namespace touchpoint
