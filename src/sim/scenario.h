#pragma once
// A scenario: the rates of a simulated world, its mess, and the effects planted in it.
// Scenarios are data (docs/simulator.md has the format); `demo` and `null` are built in, and
// scenarios/demo.json and scenarios/null.json hold the very same bytes.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "core/status.h"

namespace touchpoint::sim {

// Base rates: what every ad, creative and audience has unless an effect says otherwise.
struct Rates {
  double impressions_per_user_day = 1.0;   // mean; users differ (exponential around it)
  double video_play_rate = 0.9;            // impressions of video ads that log a video_play
  double video_completion = 0.3;           // plays watched to the end
  double ctr = 0.02;                       // clicks per impression
  double landing_pageview_rate = 0.9;      // non-converting clicks whose landing page loads
  double purchase_per_click = 0.05;        // purchase-objective ads
  double lead_per_click = 0.08;            // lead-objective ads (SubmitForm)
  double view_through_visit_rate = 0.002;  // impressions followed by a visit without a click
  double organic_visits_per_user_day = 0.02;
  double organic_purchase_per_visit = 0.04;
  double organic_lead_per_visit = 0.01;
  bool operator==(const Rates&) const = default;
};

// The mess of real traffic.
struct Mess {
  double invalid_share = 0.01;  // share of sent events that are invalid
  double pixel_blocked_browsers =
      0.12;  // regular (not in-app) browsers whose ad blocker stops the pixel
  double server_copy_missing = 0.05;  // conversions the server never reports (pixel only)
  double unshared_event_id = 0.1;     // pixel copies whose event_id differs from the server's
  double retried_batches = 0.03;      // server batches sent twice (a retry after a timeout)
  double late_server_events = 0.1;    // server events arriving 1-12 hours late
  double late_ad_logs = 0.3;          // ad log batches arriving a day late
  bool operator==(const Mess&) const = default;
};

// One ad gets many clicks and almost no purchases: its landing page is broken.
struct BrokenLanding {
  std::string ad_id;
  double ctr = 0;
  double purchase_per_click = 0;
  bool operator==(const BrokenLanding&) const = default;
};

// Ads tagged `tag` convert (per click or view) `ratio` times as often as the others, by age.
// `vs` names the comparison the effect is about (documentation; it has no effect of its own).
struct StyleByAge {
  std::string tag;
  std::string vs;
  std::map<std::string, double> cvr_ratio_by_age;  // ages not listed: 1
  bool operator==(const StyleByAge&) const = default;
};

// Plays of videos up to short_max_ms complete at short_completion, longer ones at
// long_completion (instead of rates.video_completion).
struct VideoLengthCompletion {
  int64_t short_max_ms = 15000;
  double short_completion = 0;
  double long_completion = 0;
  bool operator==(const VideoLengthCompletion&) const = default;
};

// Every conversion probability (click, view, organic) of users in `region` times `cvr_ratio`.
struct RegionCvr {
  std::string region;
  double cvr_ratio = 1;
  bool operator==(const RegionCvr&) const = default;
};

using Effect = std::variant<BrokenLanding, StyleByAge, VideoLengthCompletion, RegionCvr>;

struct Scenario {
  std::string name;
  std::string description;
  int users = 10000;  // defaults for the command's --users, --days, --campaigns
  int days = 28;
  int campaigns = 3;
  Rates rates;
  Mess mess;
  std::vector<Effect> effects;
  bool operator==(const Scenario&) const = default;
};

// Parses a scenario file. Unknown keys are errors (a typo must not silently plant nothing).
StatusOr<Scenario> ParseScenario(std::string_view json);

// The JSON text of a built-in scenario ("demo", "null"), or "" when there is none by that name.
std::string_view BuiltinScenarioJson(std::string_view name);

// A built-in scenario by name, or else a scenario file by path.
StatusOr<Scenario> LoadScenario(std::string_view name_or_path);

}  // namespace touchpoint::sim
