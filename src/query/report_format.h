#pragma once
// Rendering reports: JSON (the API), CSV, and a plain-text table for terminals.
#include <string>
#include <vector>

#include "query/report.h"

namespace touchpoint::query {

// The metrics to show: `requested`, or a default set when empty. Unknown names are an error.
StatusOr<std::vector<std::string>> ResolveMetrics(const std::vector<std::string>& requested);

std::string ReportToJson(const ReportQuery& q, const ReportResult& r,
                         const std::vector<std::string>& metrics);
std::string ReportToCsv(const ReportQuery& q, const ReportResult& r,
                        const std::vector<std::string>& metrics);
std::string ReportToTable(const ReportQuery& q, const ReportResult& r,
                          const std::vector<std::string>& metrics);

// Parses the report's query parameters (docs/api.md#report) into a ReportQuery.
struct ReportRequest {
  ReportQuery query;
  std::vector<std::string> metrics;
  std::string format = "json";  // json | csv
  bool flag_cvr = false;        // flags=cvr: FlagLowCvr on the rows (before the limit)
};
StatusOr<ReportRequest> ParseReportParams(
    const std::vector<std::pair<std::string, std::string>>& params, int64_t now_ms);

// One CSV cell (RFC 4180 quoting); a text starting with = + - @, a tab or a CR gets a leading
// apostrophe so that a spreadsheet shows it instead of running it as a formula.
std::string CsvField(std::string_view s);

}  // namespace touchpoint::query
