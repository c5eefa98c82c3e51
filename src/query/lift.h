#pragma once
// Lift studies (docs/metrics.md#lift-studies): did the ads cause conversions at all?
//
// A user-level study splits people at random into a test cell (shown the ads) and a control cell
// (held out; the ad server logs the impressions they would have seen as ghost impressions). The
// estimators here take per-cell totals; which people and conversions count is decided by the
// caller (query/lift_query.cc from the stored events, or the simulator's study model).
//
// A geo study assigns whole regions to cells and compares each region's change from a pre-period
// to the test period (difference in differences), with an interval from inverting a permutation
// test over the region assignments.
//
// Pure functions; deterministic (the permutations come from a given seed).

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "query/stats.h"

namespace touchpoint::query::lift {

// One cell's people and what they did after entering the study.
struct CellTotals {
  int64_t people = 0;      // entered the study in this cell
  int64_t converters = 0;  // people with at least one conversion after entering
  int64_t conversions = 0;
  double value = 0;     // conversion value, summed over people
  double value_sq = 0;  // sum over people of (their value)^2, for the value's variance
};

struct Estimate {
  double value = 0;
  stats::Interval ci95;
};

struct UserLevelResult {
  double test_rate = 0, control_rate = 0;             // converters / people
  stats::Interval test_rate_ci95, control_rate_ci95;  // Wilson
  // Relative lift test_rate / control_rate - 1 (Katz log interval); absent when the control
  // cell has no converter (the lift is unbounded) or a cell is empty.
  std::optional<Estimate> lift;
  // (test_rate - control_rate) x test people: the conversions the ads caused in the test cell
  // (Newcombe's interval, scaled).
  Estimate incremental_converters;
  double p_value = 1;  // pooled two-proportion z-test, two-sided
  // Value per person, test minus control (Welch, normal), times test people.
  Estimate incremental_value;
  // incremental_value / spend (spend taken as known); absent without spend.
  std::optional<Estimate> iroas;
  std::string note;  // why an estimate is absent, for the answer
};

UserLevelResult EstimateUserLevel(const CellTotals& test, const CellTotals& control,
                                  double spend = 0);

// Before a study: the people needed per cell to detect a relative lift of `min_lift` over a
// baseline conversion rate, two-sided test at `alpha` with `power`, `control_share` of the people
// held out. Normal approximation for two proportions (unpooled under H1, pooled under H0).
struct Plan {
  int64_t test_people = 0, control_people = 0;
  std::optional<int64_t> days;  // at `people_per_day` entering the study
};
Plan PlanUserLevel(double baseline_rate, double min_lift, double alpha = 0.05, double power = 0.8,
                   double control_share = 0.5, double people_per_day = 0);

// One region of a geo study: its cell and its outcome (conversions or value) summed over the
// pre-period and over the test period.
struct Region {
  std::string name;
  bool test = false;
  double pre = 0, post = 0;
};

struct GeoResult {
  // Difference in differences of the regions' mean change (post - pre), test minus control,
  // times the test regions: the outcome the ads added over the test regions.
  Estimate incremental;
  // incremental / (test regions' post - incremental): relative to what the test regions would
  // have had without the ads. Absent when that counterfactual is not positive.
  std::optional<Estimate> lift;
  double p_value = 1;  // permutation test of "no effect"
  int permutations = 0;
  bool exact = false;  // every assignment enumerated (else sampled)
};
// `permutations`: assignments sampled (all of them are enumerated when there are at most that
// many). Needs at least two regions in each cell.
GeoResult EstimateGeo(const std::vector<Region>& regions, int permutations = 4000,
                      uint64_t seed = 1);

}  // namespace touchpoint::query::lift
