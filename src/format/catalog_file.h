#pragma once
// Catalog and spend files (docs/formats.md):
//   catalog JSON: {"campaigns":[{"campaign_id","name","adgroups":[{"adgroup_id","name",
//                  "click_window_days","view_window_days","count_mode","ads":[{"ad_id","name",
//                  "landing_url","creative":{"format","video_ms","call_to_action","tags":[]}}]}]}]}
//   catalog CSV:  one row per ad, header naming the columns (any order):
//                  campaign_id,campaign_name,adgroup_id,adgroup_name,click_window_days,
//                  view_window_days,count_mode,ad_id,ad_name,landing_url,format,video_ms,
//                  call_to_action,tags   (tags separated by '|')
//   spend CSV:    date,ad_id,spend[,currency]      spend JSON: [{"date","ad_id","spend"}]
// Errors name the line (CSV) or path (JSON) and the field.

#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.h"
#include "core/status.h"

namespace touchpoint::format {

StatusOr<Catalog> ParseCatalogJson(std::string_view body);
StatusOr<Catalog> ParseCatalogCsv(std::string_view body);
// Picks JSON or CSV from the first non-blank byte.
StatusOr<Catalog> ParseCatalog(std::string_view body);

StatusOr<std::vector<SpendRow>> ParseSpendCsv(std::string_view body);
StatusOr<std::vector<SpendRow>> ParseSpendJson(std::string_view body);
StatusOr<std::vector<SpendRow>> ParseSpend(std::string_view body);

// Checks ids, windows, landing URLs and uniqueness of ad ids.
Status ValidateCatalog(const Catalog& catalog);

// Splits CSV text (RFC 4180: quotes, doubled quotes, CRLF) into rows of fields.
StatusOr<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);

// Writes the catalog back as the JSON form above.
std::string CatalogToJson(const Catalog& catalog);

}  // namespace touchpoint::format
