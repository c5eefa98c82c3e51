#pragma once
// Funnels: ordered steps mixing ad-side touches and site events, followed per person (identity
// cluster) within a conversion window, optionally broken down by an ad-level or audience
// dimension. Semantics (entry, ordering, ties, window edges, breakdown): docs/funnels.md.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "query/dataset.h"
#include "query/report.h"

namespace touchpoint::query {

enum class StepKind : uint8_t {
  kImpression,
  kVideoPlay,    // any video_play
  kVideoView2s,  // a video_play watched >= 2 s (or to the end of a shorter video)
  kVideoView6s,  // a video_play watched >= 6 s (or to the end of a shorter video)
  kClick,
  kSite,  // a site/app event by name
};

struct FunnelStep {
  StepKind kind = StepKind::kSite;
  std::vector<std::string> events;  // kSite: any of these event names
  // kSite written "conversion": the person's campaign's own conversion event (the campaign of
  // the entry ad, or of the click a site-entry funnel takes its breakdown from), by the rule
  // of reports (docs/metrics.md#conversion-events); FunnelQuery::events overrides it.
  bool conversion = false;
  std::string label;  // as written: "click", "CompletePayment|Purchase"

  bool ad_side() const { return kind != StepKind::kSite; }
};

// "impression", "video_play", "video_view_2s", "video_view_6s", "click", "conversion", or site
// event names separated by '|' (any of them). Names are case-sensitive, as stored.
StatusOr<FunnelStep> ParseFunnelStep(std::string_view text);

struct FunnelQuery {
  int64_t from_ms = 0;  // step 1 must happen in [from_ms, to_ms)
  int64_t to_ms = 0;
  std::vector<FunnelStep> steps;               // 2 to 16
  int64_t window_ms = 7 * 24 * 3600 * 1000LL;  // every step within this of step 1 (inclusive)
  std::optional<Dim> breakdown;                // ad level or audience; not day/hour
  std::string pixel_id;                        // site steps: this pixel's events only (empty: any)
  // Funnels that start with a site event take the breakdown from the person's last click at
  // most this long before step 1.
  int64_t lookback_ms = 7 * 24 * 3600 * 1000LL;
  // Funnels that start with an ad step: later ad steps must be on the entry ad.
  bool same_ad = true;
  // "conversion" steps: these events for everyone (event= / events=), or when empty each
  // campaign's own; pixel_events as ReportQuery::pixel_events.
  std::vector<std::string> events;
  std::map<std::string, std::vector<std::string>> pixel_events;
};

struct FunnelStepResult {
  int64_t count = 0;
  std::optional<double> median_ms;  // time from the previous step, over people who reached it
};

struct FunnelGroup {
  std::string value;  // breakdown value ("" for the total)
  std::vector<FunnelStepResult> steps;
};

struct FunnelResult {
  FunnelGroup total;
  std::vector<FunnelGroup> groups;  // by people entering, descending; empty without breakdown
};

StatusOr<FunnelResult> RunFunnel(const Dataset& data, const FunnelQuery& query);

// Query parameters (docs/funnels.md#api): steps, window, breakdown, from, to, tz, pixel_id,
// lookback_days, same_ad, format.
struct FunnelRequest {
  FunnelQuery query;
  std::string format = "json";  // json | table
};
StatusOr<FunnelRequest> ParseFunnelParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms);

std::string FunnelToJson(const FunnelQuery& q, const FunnelResult& r);
std::string FunnelToTable(const FunnelQuery& q, const FunnelResult& r);

}  // namespace touchpoint::query
