#pragma once
// A user-level lift study read from the stored events (docs/metrics.md#lift-studies).
//
// Who is in it: every person with an ad event carrying the study's id in the range (shown
// impressions, clicks and plays for the test cell; ghost impressions for the control cell), by
// the ad platform's user key. A person seen in both cells is left out and counted.
// What counts: a conversion (one of `events`, of `pixel_id` when given) at or after the person's
// first study event and before the range's end, matched to the person by hashed email or phone
// on their study events (equal to one on the conversion: email, phone or external id). Click ids
// and cookies exist only where ads were shown, so matching by them would find more of the test
// cell's conversions than of the control's and make up lift; match keys are the same in both
// cells. People without a match key can never be matched: they are counted, not included.
#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "query/dataset.h"
#include "query/lift.h"

namespace touchpoint::query {

struct LiftQuery {
  std::string study;
  int64_t from_ms = INT64_MIN, to_ms = INT64_MAX;  // [from, to)
  std::vector<std::string> events;                 // conversion events (required)
  std::string pixel_id;                            // "" : every pixel
};

struct LiftCellInfo {
  lift::CellTotals totals;         // the people with a match key, and their conversions
  int64_t unmatchable_people = 0;  // in the cell, without a match key
};

struct LiftAnswer {
  std::string study;
  LiftCellInfo test, control;
  int64_t people_in_both_cells = 0;   // left out
  int64_t events_without_person = 0;  // study events with no user key, email or phone
  int64_t first_ms = 0, last_ms = 0;  // the study events in range
  std::vector<std::string> ads;       // the ads of the test cell's study events
  double spend = 0;                   // imported spend on those ads in the range
  std::vector<std::string> spend_currencies;
  std::vector<std::string> value_currencies;  // of the counted conversions' values
  lift::UserLevelResult result;
};

// NotFound when no study event has that id in the range.
StatusOr<LiftAnswer> RunLift(const Dataset& data, const LiftQuery& query);

struct StudySummary {
  std::string study;
  int64_t test_events = 0, control_events = 0, ghost_events = 0;
  int64_t first_ms = 0, last_ms = 0;
};
std::vector<StudySummary> ListStudies(const Dataset& data);

}  // namespace touchpoint::query

namespace touchpoint::query {

// GET /api/v1/lift?study=&from=&to=&tz=&event=&pixel_id= : `events` stays empty when not
// given (the caller fills in the pixel's conversion events).
struct LiftRequest {
  LiftQuery query;
  bool list = false;            // no study: list the studies
  std::string format = "json";  // or "text"
};
StatusOr<LiftRequest> ParseLiftParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms);
std::string LiftToJson(const LiftQuery& q, const LiftAnswer& a);
std::string StudiesToJson(const std::vector<StudySummary>& studies);
// For people: the cells, the lift with its interval, the p-value and what to make of it.
std::string LiftToText(const LiftQuery& q, const LiftAnswer& a);
std::string StudiesToText(const std::vector<StudySummary>& studies);

// GET /api/v1/lift/plan?baseline_rate=&min_lift=&alpha=&power=&control_share=&people_per_day=
StatusOr<std::string> PlanLiftJson(const std::vector<std::pair<std::string, std::string>>& params);
// POST /api/v1/lift/geo {"regions":[{"name","cell":"test"|"control","pre","post"}],
//                         "permutations"?, "seed"?}
StatusOr<std::string> GeoLiftJson(std::string_view body);

}  // namespace touchpoint::query
