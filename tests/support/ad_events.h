#pragma once
// Building ad events in tests.
#include <string>

#include "core/event.h"

namespace touchpoint::testing {

inline AdEvent MakeTouch(AdEventType type, std::string ad, int64_t t, std::string user_key,
                         std::string click_id = "") {
  AdEvent e;
  e.type = type;
  e.ad_id = std::move(ad);
  e.event_time_ms = t;
  e.user_key = std::move(user_key);
  e.click_id = std::move(click_id);
  return e;
}

}  // namespace touchpoint::testing
