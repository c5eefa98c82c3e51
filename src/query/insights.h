#pragma once
// Insights: findings in plain language, each backed by a test. A pure function of the dataset
// and the query (it runs reports through RunReport and applies the rules); no I/O.
//
// The rules, their statistics, minimum samples and the money at stake: docs/insights.md.
// Every comparison made in one run joins one Benjamini-Hochberg family at `fdr`; a finding is
// made when its adjusted p-value is at most `fdr` (spending without conversions: at most
// `spend_p`) and its effect is at least `min_ratio` (or at most 1 / min_ratio).

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/status.h"
#include "query/dataset.h"
#include "query/report.h"

namespace touchpoint::query {

struct InsightsQuery {
  // Range, model, windows, conversion events, pixel, count mode, basis and filters, as for a
  // report. Its dims, sort and limit are not used.
  ReportQuery report;
  double fdr = 0.05;              // Benjamini-Hochberg q over all comparisons of the run
  double min_ratio = 1.25;        // smallest effect reported: 25% above or 20% below
  int64_t min_impressions = 200;  // per arm, for rates per impression (CTR, hook rate)
  int64_t min_clicks = 30;        // per arm, for conversion rates per click
  int64_t min_plays = 200;        // per arm, for rates per video play
  int64_t min_conversions = 10;   // in the reference arm (peers / the rest)
  double min_expected = 5;        // expected successes in each arm under no difference
  double spend_p = 0.01;          // spending without conversions: adjusted p at most this
  size_t limit = 0;               // findings returned (0: all)
};

struct Finding {
  std::string kind;    // clicks_without_conversions, weak_hook, watched_not_clicked,
                       // creative_attribute, segment, spend_without_conversions
  std::string title;   // one line of plain language with the advice
  std::string detail;  // the numbers behind it, in words
  std::vector<std::pair<std::string, std::string>> entity;  // e.g. {ad, ...}, {age, 18-24}
  std::string metric;  // cvr_click, ctr, hook_rate, completion_rate, conversions
  // The effect as a ratio of rates (entity / reference), with its 95% interval.
  double effect = 1, ci_low = 0, ci_high = 0;
  double p_value = 1;
  double p_adjusted = 1;  // Benjamini-Hochberg over the run's comparisons
  // The posterior probability, with Beta(1, 1) priors, that the entity's rate lies on the side
  // of the reference the finding states (above it for "converts 2x", below for "few clicks").
  std::optional<double> posterior;
  double money_at_stake = 0;  // account currency; the ranking key
  std::vector<std::pair<std::string, double>> numbers;
};

struct InsightsResult {
  std::vector<Finding> findings;  // ranked by money at stake, then p-value
  size_t comparisons = 0;         // hypotheses in the Benjamini-Hochberg family
  size_t significant = 0;         // of those, rejected at fdr (before the effect-size cut)
  size_t total_findings = 0;      // before the limit
};

StatusOr<InsightsResult> RunInsights(const Dataset& data, const InsightsQuery& query);

// Query parameters (docs/insights.md#api): the report's range/model/window/event parameters
// plus fdr, min_ratio, min_impressions, min_clicks, min_plays, min_conversions, min_expected,
// limit, format (json | text).
struct InsightsRequest {
  InsightsQuery query;
  std::string format = "json";
};
StatusOr<InsightsRequest> ParseInsightsParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms);

std::string InsightsToJson(const InsightsQuery& q, const InsightsResult& r);
std::string InsightsToText(const InsightsQuery& q, const InsightsResult& r);

}  // namespace touchpoint::query
