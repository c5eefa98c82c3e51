#pragma once
// Reports: dimensions x metrics over a time range, with conversions attributed at query time.
// Metric definitions: docs/metrics.md (after spec §6.2).

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "attribution/model.h"
#include "core/catalog.h"
#include "core/status.h"
#include "query/dataset.h"

namespace touchpoint::query {

enum class Dim : uint8_t {
  kCampaign,
  kAdGroup,
  kAd,
  kFormat,
  kLength,
  kCta,
  kTag,  // ad level
  kAge,
  kGender,
  kCountry,
  kRegion,
  kPlacement,
  kOs,
  kDevice,  // audience (row level)
  kDay,
  kHour,  // time
};
std::optional<Dim> ParseDim(std::string_view name);
std::string_view DimName(Dim d);

enum class Basis : uint8_t { kTouch, kConversion };  // TikTok default columns / real_time columns

struct DimFilter {
  Dim dim;
  std::vector<std::string> values;  // any of
};

struct ReportQuery {
  int64_t from_ms = 0;       // inclusive
  int64_t to_ms = 0;         // exclusive
  int64_t tz_offset_ms = 0;  // days and hours are local to this UTC offset
  std::vector<Dim> dims;
  std::vector<DimFilter> filters;
  // The conversion events (docs/metrics.md#conversion-events). Empty (the default): each
  // campaign is judged on its own event — its catalog optimization_event, else the events its
  // converting pixel counts (pixel_events), else the purchase events (IsPurchaseEvent).
  // Non-empty: these events, for every campaign (event= / events=).
  std::vector<std::string> events;
  // Pixel id -> the events it counts as conversions (PUT /api/v1/pixels/{id}/conversion_events);
  // pixels not named here count the purchase events.
  std::map<std::string, std::vector<std::string>> pixel_events;
  // Events shown side by side: each gets its own conversions and value per row, as if asked
  // for alone with events={event} (event_columns=).
  std::vector<std::string> event_columns;
  std::string pixel_id;  // empty: every pixel
  std::string model = "last_touch";
  attribution::ModelParams params;
  // The channel the data-driven models (markov, shapley) learn over: an ad-side dimension
  // (IsChannelDim); unset: the first ad-side one of dims, else ad (channel=).
  std::optional<Dim> channel;
  std::optional<int> click_window_days;  // override the ad groups' windows
  std::optional<int> view_window_days;
  std::optional<CountMode> count_mode;  // override the ad groups' count mode
  Basis basis = Basis::kTouch;
  std::string sort;      // metric name, '-' prefix for descending; default -spend
  size_t limit = 0;      // 0: all rows
  bool delivery = true;  // false: skip delivery metrics (only conversions wanted)
  int threads = 2;       // worker threads for large datasets
};

// Additive metrics; ratios are derived from these on output.
struct Metrics {
  double spend = 0;
  int64_t impressions = 0, reach = 0, clicks = 0, video_plays = 0, watch_ms = 0;
  int64_t views_2s = 0, views_6s = 0, p25 = 0, p50 = 0, p75 = 0, p100 = 0;
  double conversions_click = 0, conversions_view = 0, conversions_engaged_view = 0, value = 0;

  double conversions() const { return conversions_click + conversions_view; }
  // A derived or additive metric by its API name; nullopt when undefined (division by zero).
  std::optional<double> Get(std::string_view name) const;
};

const std::vector<std::string>& MetricNames();

// One of ReportQuery::event_columns in one row.
struct EventColumn {
  double conversions = 0, value = 0;
};

// A row's click conversion rate tested against the rest of its campaign (FlagLowCvr).
struct CvrFlag {
  double campaign_cvr_click = 0;  // the campaign's, in percent, as cvr_click
  double rest_cvr_click = 0;      // the campaign's other rows', in percent
  double p_value = 1;             // one-sided: the row's rate is below the rest's
  double p_adjusted = 1;          // Benjamini-Hochberg over the tested rows
  bool below = false;             // p_adjusted <= the false discovery rate
};

struct ReportRow {
  std::vector<std::string> dims;  // values, in query.dims order
  Metrics metrics;
  std::vector<EventColumn> by_event;  // in query.event_columns order
  std::optional<CvrFlag> cvr_flag;    // set on the rows FlagLowCvr tested
};

// What a data-driven model learnt about one channel (markov, shapley).
struct ChannelFit {
  std::string channel;
  double removal_effect = 0;          // markov only
  double conversions = 0, value = 0;  // over every fitted conversion, before filters and basis
};

struct ReportResult {
  std::vector<ReportRow> rows;
  Metrics totals;                       // over everything matching the filters, independent of dims
  double unattributed_conversions = 0;  // conversions in range with no touch in window
  size_t groups = 0;                    // rows before limit
  std::vector<EventColumn> totals_by_event;  // in query.event_columns order
  bool cvr_flags = false;                    // FlagLowCvr ran
  size_t cvr_comparisons = 0;                // rows it tested
  // Data-driven models: the channel dimension, the journeys fitted and each channel's fit.
  std::optional<Dim> channel;
  size_t journeys_converting = 0, journeys_not_converting = 0, markov_states = 0;
  double markov_conversion_probability = 0;
  std::vector<ChannelFit> channel_fit;  // by channel name
};

StatusOr<ReportResult> RunReport(const Dataset& data, const ReportQuery& query);

// Flags the rows whose click conversion rate (click-through conversions per click) is
// significantly below the rest of their campaign's: a one-sided pooled two-proportion z-test
// per row with at least `min_clicks` clicks (and the rest of its campaign too, with at least
// `min_conversions`), Benjamini-Hochberg over the rows tested at `fdr` (docs/metrics.md).
// Rows must name one campaign: the report's dimensions include campaign, adgroup or ad and no
// audience or time dimension; otherwise nothing is tested. Runs a campaign-level report of the
// same query, less its campaign, ad group and ad filters, for the reference.
Status FlagLowCvr(const Dataset& data, const ReportQuery& query, ReportResult& result,
                  double fdr = 0.05, int64_t min_clicks = 30, int64_t min_conversions = 10);

// The values of one ad-level dimension (campaign ... tag) for an ad dictionary code, as reports
// name them: several for tags, "" when unknown. Funnels and insights use the same naming.
std::vector<std::string> AdDimensionValues(const Dataset& data, uint32_t ad_code, Dim dim);
// A creative's length class: "image", "short" (video up to 15 s), "long", or "" when unknown.
std::string_view CreativeLength(const Ad* ad);

}  // namespace touchpoint::query
