#pragma once
// Reports: dimensions x metrics over a time range, with conversions attributed at query time.
// Metric definitions: docs/metrics.md (after spec §6.2).

#include <cstdint>
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
  std::vector<std::string> events = {"CompletePayment", "Purchase", "PlaceAnOrder"};
  std::string pixel_id;  // empty: every pixel
  std::string model = "last_touch";
  attribution::ModelParams params;
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

struct ReportRow {
  std::vector<std::string> dims;  // values, in query.dims order
  Metrics metrics;
};

struct ReportResult {
  std::vector<ReportRow> rows;
  Metrics totals;                       // over everything matching the filters, independent of dims
  double unattributed_conversions = 0;  // conversions in range with no touch in window
  size_t groups = 0;                    // rows before limit
};

StatusOr<ReportResult> RunReport(const Dataset& data, const ReportQuery& query);

// The values of one ad-level dimension (campaign ... tag) for an ad dictionary code, as reports
// name them: several for tags, "" when unknown. Funnels and insights use the same naming.
std::vector<std::string> AdDimensionValues(const Dataset& data, uint32_t ad_code, Dim dim);
// A creative's length class: "image", "short" (video up to 15 s), "long", or "" when unknown.
std::string_view CreativeLength(const Ad* ad);

}  // namespace touchpoint::query
