#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include <iostream>

#include "cli/commands.h"
#include "format/url.h"
#include "query/dataset.h"
#include "query/report_format.h"
#include "server/http_client.h"
#include "store/event_store.h"

namespace touchpoint::cli {

namespace {

// Renders CSV (from a server) as an aligned table.
std::string CsvAsTable(const std::string& csv) {
  std::vector<std::vector<std::string>> rows;
  size_t pos = 0;
  while (pos < csv.size()) {
    size_t nl = csv.find('\n', pos);
    std::string line = csv.substr(pos, nl - pos);
    pos = nl == std::string::npos ? csv.size() : nl + 1;
    std::vector<std::string> cells;
    std::string cell;
    bool q = false;
    for (char c : line) {
      if (c == '"')
        q = !q;
      else if (c == ',' && !q) {
        cells.push_back(cell);
        cell.clear();
      } else
        cell += c;
    }
    cells.push_back(cell);
    rows.push_back(cells);
  }
  std::vector<size_t> w;
  for (const auto& r : rows)
    for (size_t i = 0; i < r.size(); ++i) {
      if (w.size() <= i) w.push_back(0);
      w[i] = std::max(w[i], r[i].size());
    }
  std::string out;
  for (size_t ri = 0; ri < rows.size(); ++ri) {
    for (size_t i = 0; i < rows[ri].size(); ++i)
      out += rows[ri][i] + std::string(w[i] - rows[ri][i].size() + 2, ' ');
    out += "\n";
    if (ri == 0) {
      for (size_t i = 0; i < w.size(); ++i) out += std::string(w[i], '-') + "  ";
      out += "\n";
    }
  }
  return out;
}

}  // namespace

int Report(const ReportFlags& flags) {
  if (!flags.server.empty()) {
    std::string target =
        "/api/v1/report?format=" + std::string(flags.format == "json" ? "json" : "csv");
    for (const auto& [k, v] : flags.params) target += "&" + k + "=" + format::PercentEncode(v);
    server::HttpClient client(flags.server, {.ca_file = CaFile(flags.ca_file)});
    auto res =
        client.Request("GET", target, "", {{"Authorization", "Bearer " + flags.admin_token}});
    if (!res.ok()) {
      std::cerr << "error: " << res.status().message() << "\n";
      return 1;
    }
    if (res->status != 200) {
      std::cerr << "error: " << res->body << "\n";
      return 1;
    }
    std::cout << (flags.format == "table" ? CsvAsTable(res->body) : res->body);
    if (flags.format == "json") std::cout << "\n";
    return 0;
  }
  // Logs go to stderr: stdout carries the report (pipe-able as CSV or JSON).
  spdlog::set_default_logger(spdlog::stderr_color_mt("report"));
  SystemClock clock;
  auto parsed = query::ParseReportParams(flags.params, clock.NowMs());
  if (!parsed.ok()) {
    std::cerr << "error: " << parsed.status().message() << "\n";
    return 2;
  }
  store::StoreOptions opts;
  opts.data_dir = flags.data_dir;
  auto store = store::EventStore::Open(opts, &clock);
  if (!store.ok()) {
    std::cerr << "error: " << store.status().message() << "\n";
    return 1;
  }
  query::LiveDataset live;
  if (Status st = live.LoadFrom(**store); !st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  auto result =
      live.Read([&](const query::Dataset& d) { return query::RunReport(d, parsed->query); });
  if (!result.ok()) {
    std::cerr << "error: " << result.status().message() << "\n";
    return 2;
  }
  if (flags.format == "csv")
    std::cout << query::ReportToCsv(parsed->query, *result, parsed->metrics);
  else if (flags.format == "json")
    std::cout << query::ReportToJson(parsed->query, *result, parsed->metrics) << "\n";
  else
    std::cout << query::ReportToTable(parsed->query, *result, parsed->metrics);
  return 0;
}

}  // namespace touchpoint::cli
