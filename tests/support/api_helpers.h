#pragma once
// Small helpers the API tests share: the admin's Authorization header and Unix-second times as
// JSON numbers on a fixed day.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "support/test_server.h"

namespace touchpoint::testing {

using Headers = std::vector<std::pair<std::string, std::string>>;
inline Headers AdminHeaders() { return {{"Authorization", std::string("Bearer ") + kAdminToken}}; }

// `day_s` (00:00 UTC, Unix seconds) + hour:minute, as the decimal text an event_time takes.
inline std::string TimeOnDay(int64_t day_s, int hour, int minute = 0) {
  return std::to_string(day_s + hour * 3600 + minute * 60);
}

}  // namespace touchpoint::testing
