// The built-in scenarios. Each is byte for byte the file of the same name in scenarios/
// (tests/sim/scenario_test.cc checks that they agree): edit both together.
#include "sim/scenario.h"

namespace touchpoint::sim {

namespace {

constexpr std::string_view kDemo = R"json({
  "name": "demo",
  "description": "A small shop's TikTok campaigns over four weeks, with four planted effects: a broken landing page, humor beating straight pitch for 18-24 (not for 45+), short videos watched through more often than long ones, and Texas converting at twice the rate.",
  "defaults": {"users": 10000, "days": 28, "campaigns": 3},
  "rates": {
    "impressions_per_user_day": 1.0,
    "video_play_rate": 0.9,
    "video_completion": 0.3,
    "ctr": 0.02,
    "landing_pageview_rate": 0.9,
    "purchase_per_click": 0.05,
    "lead_per_click": 0.08,
    "view_through_visit_rate": 0.002,
    "organic_visits_per_user_day": 0.02,
    "organic_purchase_per_visit": 0.04,
    "organic_lead_per_visit": 0.01
  },
  "mess": {
    "invalid_share": 0.01,
    "pixel_blocked_browsers": 0.12,
    "server_copy_missing": 0.05,
    "unshared_event_id": 0.1,
    "retried_batches": 0.03,
    "late_server_events": 0.1,
    "late_ad_logs": 0.3
  },
  "effects": [
    {"effect": "broken_landing", "ad_id": "ad-01-1-3", "ctr": 0.04, "purchase_per_click": 0.002},
    {"effect": "style_by_age", "tag": "humor", "vs": "straight-pitch",
     "cvr_ratio_by_age": {"18-24": 1.8, "45-54": 1.0, "55+": 1.0}},
    {"effect": "video_length_completion", "short_max_ms": 15000,
     "short_completion": 0.45, "long_completion": 0.2},
    {"effect": "region_cvr", "region": "Texas", "cvr_ratio": 2.0}
  ]
}
)json";

constexpr std::string_view kNull = R"json({
  "name": "null",
  "description": "The demo world with nothing planted: no creative, ad, video length or audience segment truly differs, so every difference a report or insight finds is noise (use it to measure false findings).",
  "defaults": {"users": 10000, "days": 28, "campaigns": 3},
  "rates": {
    "impressions_per_user_day": 1.0,
    "video_play_rate": 0.9,
    "video_completion": 0.3,
    "ctr": 0.02,
    "landing_pageview_rate": 0.9,
    "purchase_per_click": 0.05,
    "lead_per_click": 0.08,
    "view_through_visit_rate": 0.002,
    "organic_visits_per_user_day": 0.02,
    "organic_purchase_per_visit": 0.04,
    "organic_lead_per_visit": 0.01
  },
  "mess": {
    "invalid_share": 0.01,
    "pixel_blocked_browsers": 0.12,
    "server_copy_missing": 0.05,
    "unshared_event_id": 0.1,
    "retried_batches": 0.03,
    "late_server_events": 0.1,
    "late_ad_logs": 0.3
  },
  "effects": []
}
)json";

}  // namespace

std::string_view BuiltinScenarioJson(std::string_view name) {
  if (name == "demo") return kDemo;
  if (name == "null") return kNull;
  return {};
}

}  // namespace touchpoint::sim
