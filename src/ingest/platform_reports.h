#pragma once
// Spend files as advertisers get them from the ad platforms (docs/formats.md#platform-reports),
// besides Touchpoint's own spend CSV/JSON (format/catalog_file.h):
//   - TikTok's Reporting API answer, report/integrated/get:
//       {"code":0,"data":{"list":[{"dimensions":{"ad_id":"..","stat_time_day":"2026-12-01 00:00:00"
//         [,"age":"AGE_25_34","gender":"GENDER_FEMALE"]},"metrics":{"spend":"12.30",
//         "impressions":"1200","clicks":"31","video_play_actions":"340","currency":"USD"}}]}}
//     (metric values are strings; "-" means none)
//   - Meta's insights answer (level=ad, time_increment=1): {"data":[{"ad_id","date_start",
//       "date_stop","spend","impressions","clicks"[,"age","gender","account_currency",
//       "video_play_actions":[{"action_type":"video_view","value"}]]}]}
//   - a CSV export from TikTok Ads Manager or Meta Ads Manager: a header naming the columns
//     (Ad ID, Date / Day / By Day / Reporting starts, Cost / Amount spent (USD) / Spend,
//     Impressions, Clicks (Destination) / Link clicks / Clicks, Video views / Video plays, Age,
//     Gender, Currency), matched without regard to case.
// Each gives the daily spend per ad (summed over age and gender cells) for the spend table and
// every row as the platform reported it. Errors name the row (JSON path or CSV line) and field.

#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.h"
#include "core/status.h"

namespace touchpoint::ingest {

struct SpendImport {
  // "touchpoint" (our own spend file), "tiktok_report", "meta_insights", "tiktok_csv",
  // "meta_csv" or "csv" (a platform CSV that names neither platform's columns).
  std::string format;
  std::vector<SpendRow> spend;         // one per (day, ad): what the reports use
  std::vector<PlatformStatRow> stats;  // every row as reported (none for our own format)
};

// Recognizes any of the formats above, or Touchpoint's own spend CSV/JSON, from the content.
StatusOr<SpendImport> ParseSpendImport(std::string_view body);

StatusOr<SpendImport> ParseTikTokReport(std::string_view body);
StatusOr<SpendImport> ParseMetaInsights(std::string_view body);
StatusOr<SpendImport> ParsePlatformCsv(std::string_view body);

}  // namespace touchpoint::ingest
