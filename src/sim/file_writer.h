#pragma once
// --out DIR: the simulated world as files (docs/simulator.md):
//   catalog.json        the catalog, in the import format (touchpoint import catalog)
//   spend.csv           daily spend per ad, in the import format (touchpoint import spend)
//   site_events.ndjson  one line per site event as sent: {"batch","retry"?,"channel",
//                       "event_source_id", ...the Events API 2.0 data[] element}
//   ad_events.ndjson    one line per ad event as sent: {"batch","retry"?, ...the ad event}
//   truth.json          the ground truth: ads, planted effects, every conversion's cause, totals

#include <cstdio>
#include <memory>
#include <string>

#include "sim/simulator.h"

namespace touchpoint::sim {

class FileWriter final : public DeliverySink {
 public:
  // Creates `dir` if needed; files in it are replaced.
  static StatusOr<std::unique_ptr<FileWriter>> Open(std::string dir);
  ~FileWriter() override;

  Status Begin(const Simulator& sim) override;
  Status Deliver(const Batch& batch) override;
  Status Conversions(const std::vector<std::string>& truth_lines) override;
  Status Finish(const Simulator& sim) override;

 private:
  explicit FileWriter(std::string dir) : dir_(std::move(dir)) {}
  StatusOr<std::FILE*> Create(const char* name);
  Status Write(std::FILE* f, std::string_view data, const char* name);
  void CloseAll();

  std::string dir_;
  std::FILE* site_ = nullptr;
  std::FILE* ads_ = nullptr;
  std::FILE* truth_ = nullptr;
  bool first_conversion_ = true;
  std::string line_;
};

// Daily spend as the CSV `touchpoint import spend` reads: date,ad_id,spend,currency.
std::string SpendCsv(const std::vector<SpendRow>& rows);

}  // namespace touchpoint::sim
