#include "sim/file_writer.h"

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "core/json_writer.h"
#include "core/time.h"
#include "format/catalog_file.h"

namespace touchpoint::sim {

std::string SpendCsv(const std::vector<SpendRow>& rows) {
  std::string out = "date,ad_id,spend,currency\n";
  for (const auto& r : rows) {
    out += FormatIso8601Ms(r.day_ms).substr(0, 10);
    out += ',';
    out += r.ad_id;
    out += ',';
    AppendJsonNumber(out, r.spend);
    out += ',';
    out += r.currency;
    out += '\n';
  }
  return out;
}

StatusOr<std::unique_ptr<FileWriter>> FileWriter::Open(std::string dir) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Internal("cannot create " + dir + ": " + ec.message());
  return std::unique_ptr<FileWriter>(new FileWriter(std::move(dir)));
}

FileWriter::~FileWriter() { CloseAll(); }

void FileWriter::CloseAll() {
  for (std::FILE** f : {&site_, &ads_, &truth_}) {
    if (*f) std::fclose(*f);
    *f = nullptr;
  }
}

StatusOr<std::FILE*> FileWriter::Create(const char* name) {
  std::string path = dir_ + "/" + name;
  std::FILE* f = std::fopen(path.c_str(), "wb");
  if (!f) return Internal("cannot write " + path + ": " + std::strerror(errno));
  std::setvbuf(f, nullptr, _IOFBF, 1 << 20);
  return f;
}

Status FileWriter::Write(std::FILE* f, std::string_view data, const char* name) {
  if (std::fwrite(data.data(), 1, data.size(), f) != data.size())
    return Internal("write " + dir_ + "/" + name + ": " + std::strerror(errno));
  return OkStatus();
}

Status FileWriter::Begin(const Simulator& sim) {
  auto catalog = Create("catalog.json");
  if (!catalog.ok()) return catalog.status();
  std::string json = format::CatalogToJson(sim.catalog()) + "\n";
  Status st = Write(*catalog, json, "catalog.json");
  if (std::fclose(*catalog) != 0 && st.ok()) st = Internal("close " + dir_ + "/catalog.json");
  TP_RETURN_IF_ERROR(st);
  auto site = Create("site_events.ndjson");
  if (!site.ok()) return site.status();
  site_ = *site;
  auto ads = Create("ad_events.ndjson");
  if (!ads.ok()) return ads.status();
  ads_ = *ads;
  auto truth = Create("truth.json");
  if (!truth.ok()) return truth.status();
  truth_ = *truth;
  return Write(truth_, sim.TruthHead(), "truth.json");
}

Status FileWriter::Deliver(const Batch& batch) {
  bool site = batch.channel != Channel::kAdEvents;
  for (const auto& e : batch.events) {
    line_.clear();
    line_ += "{\"batch\":";
    line_ += std::to_string(batch.number);
    if (batch.retry) line_ += ",\"retry\":true";
    if (site) {
      line_ += ",\"channel\":";
      AppendJsonString(line_, ChannelName(batch.channel));
      line_ += ",\"event_source_id\":";
      AppendJsonString(line_, batch.pixel_id);
    }
    line_ += ',';
    line_.append(e, 1);  // the event object without its '{'
    line_ += '\n';
    TP_RETURN_IF_ERROR(
        Write(site ? site_ : ads_, line_, site ? "site_events.ndjson" : "ad_events.ndjson"));
  }
  return OkStatus();
}

Status FileWriter::Conversions(const std::vector<std::string>& lines) {
  for (const auto& l : lines) {
    line_.clear();
    if (!first_conversion_) line_ += ",\n";
    first_conversion_ = false;
    line_ += l;
    TP_RETURN_IF_ERROR(Write(truth_, line_, "truth.json"));
  }
  return OkStatus();
}

Status FileWriter::Finish(const Simulator& sim) {
  Status st = Write(truth_, (first_conversion_ ? "" : "\n") + sim.TruthTail(), "truth.json");
  auto spend = Create("spend.csv");
  if (!spend.ok()) return spend.status();
  if (st.ok()) st = Write(*spend, SpendCsv(sim.Spend()), "spend.csv");
  bool close_ok = std::fclose(*spend) == 0;
  for (std::FILE** f : {&site_, &ads_, &truth_}) {
    close_ok &= std::fclose(*f) == 0;
    *f = nullptr;
  }
  if (st.ok() && !close_ok) st = Internal("closing the files in " + dir_ + " failed (disk full?)");
  return st;
}

}  // namespace touchpoint::sim
