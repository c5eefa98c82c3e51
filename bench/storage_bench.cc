// The storage benchmark (`make bench-storage`, docs/benchmarks.md): what a store's events cost
// on disk, how long a start takes to open it, and how long a scan of every event takes (what a
// start does to load the query side), for sealed segments against today's JSON rows in the log,
// measured in the same run on the same events.
//
// Usage: storage_bench --data DIR [--baseline DIR] [--label NAME]
//   --data DIR      a data directory written by touchpoint (e.g. `touchpoint simulate --to-data`
//                   or `report_bench --store`); its log's tail is sealed (SealNow) first
//   --baseline DIR  scratch directory: the same events are written there as JSON rows in the
//                   log, never sealed (the storage before segments), and measured the same way;
//                   omitted: no baseline
// Prints one JSON line per store measured, then a summary line with the ratios.
#include <sys/stat.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "store/event_store.h"

namespace touchpoint::bench {
namespace {

namespace fs = std::filesystem;

uint64_t DirectoryBytes(const fs::path& dir) {
  uint64_t bytes = 0;
  for (const auto& e : fs::recursive_directory_iterator(dir)) {
    struct stat st;
    // Allocated blocks, not the apparent size: what the disk gives to the file.
    if (e.is_regular_file() && ::stat(e.path().c_str(), &st) == 0)
      bytes += static_cast<uint64_t>(st.st_blocks) * 512;
  }
  return bytes;
}

double Seconds(std::chrono::steady_clock::time_point since) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - since).count();
}

struct Measured {
  uint64_t events = 0;
  uint64_t bytes = 0;
  double open_s = 0;
  double scan_s = 0;
};

StatusOr<std::unique_ptr<store::EventStore>> OpenStore(const std::string& dir, size_t seal_events,
                                                       const Clock* clock) {
  store::StoreOptions options;
  options.data_dir = dir;
  options.synchronous_full = false;
  options.seal_events = seal_events;
  return store::EventStore::Open(options, clock);
}

// Opens the store (timed), scans every event (timed), closes it; then its size on disk.
StatusOr<Measured> Measure(const std::string& dir, size_t seal_events, const Clock* clock) {
  Measured m;
  auto start = std::chrono::steady_clock::now();
  auto store = OpenStore(dir, seal_events, clock);
  if (!store.ok()) return store.status();
  m.open_s = Seconds(start);
  start = std::chrono::steady_clock::now();
  uint64_t checksum = 0;
  Status st = (*store)->ScanAll([&](uint64_t seq, int64_t, const store::StoredEvent& ev) {
    ++m.events;
    checksum += seq + ev.index();
  });
  if (!st.ok()) return st;
  m.scan_s = Seconds(start);
  store->reset();
  m.bytes = DirectoryBytes(dir);
  if (checksum == 0 && m.events > 0) std::fprintf(stderr, "storage_bench: nothing scanned\n");
  return m;
}

void Print(const char* label, const char* kind, const Measured& m) {
  std::printf(
      "{\"world\":\"%s\",\"storage\":\"%s\",\"events\":%llu,\"disk_bytes\":%llu,"
      "\"bytes_per_event\":%.2f,\"open_s\":%.3f,\"scan_s\":%.3f}\n",
      label, kind, static_cast<unsigned long long>(m.events),
      static_cast<unsigned long long>(m.bytes),
      m.events ? static_cast<double>(m.bytes) / static_cast<double>(m.events) : 0.0, m.open_s,
      m.scan_s);
  std::fflush(stdout);
}

int Main(int argc, char** argv) {
  std::string data, baseline, label = "store";
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    if (i + 1 >= argc) {
      std::fprintf(stderr, "usage: storage_bench --data DIR [--baseline DIR] [--label NAME]\n");
      return 2;
    }
    if (a == "--data")
      data = argv[++i];
    else if (a == "--baseline")
      baseline = argv[++i];
    else if (a == "--label")
      label = argv[++i];
    else {
      std::fprintf(stderr, "storage_bench: unknown option %s\n", argv[i]);
      return 2;
    }
  }
  if (data.empty()) {
    std::fprintf(stderr, "storage_bench: --data is required\n");
    return 2;
  }
  SystemClock clock;
  {
    auto store = OpenStore(data, 262144, &clock);
    if (!store.ok()) {
      std::fprintf(stderr, "storage_bench: %s\n", store.status().message().c_str());
      return 1;
    }
    auto start = std::chrono::steady_clock::now();
    Status st = (*store)->SealNow();
    if (!st.ok()) {
      std::fprintf(stderr, "storage_bench: sealing: %s\n", st.message().c_str());
      return 1;
    }
    std::fprintf(stderr, "storage_bench: sealed the tail in %.1f s\n", Seconds(start));
  }
  auto sealed = Measure(data, 262144, &clock);
  if (!sealed.ok()) {
    std::fprintf(stderr, "storage_bench: %s\n", sealed.status().message().c_str());
    return 1;
  }
  Print(label.c_str(), "segments", *sealed);
  if (baseline.empty()) return 0;

  // The same events as JSON rows in a log that never seals: the storage before segments.
  {
    fs::remove_all(baseline);
    auto from = OpenStore(data, 262144, &clock);
    auto to = OpenStore(baseline, SIZE_MAX, &clock);
    if (!from.ok() || !to.ok()) {
      std::fprintf(stderr, "storage_bench: %s\n",
                   (!from.ok() ? from.status() : to.status()).message().c_str());
      return 1;
    }
    std::vector<store::StoredEvent> batch;
    Status failed;
    auto flush = [&] {
      if (batch.empty()) return;
      store::WriteResult r = (*to)->Write(std::move(batch));
      if (!r.status.ok()) failed = r.status;
      batch.clear();
    };
    auto start = std::chrono::steady_clock::now();
    Status st = (*from)->ScanAll([&](uint64_t, int64_t, const store::StoredEvent& ev) {
      batch.push_back(ev);
      if (batch.size() == 20000) flush();
    });
    flush();
    if (!st.ok() || !failed.ok()) {
      std::fprintf(stderr, "storage_bench: copying: %s\n",
                   (!st.ok() ? st : failed).message().c_str());
      return 1;
    }
    std::fprintf(stderr, "storage_bench: wrote the JSON baseline in %.1f s\n", Seconds(start));
  }
  auto json = Measure(baseline, SIZE_MAX, &clock);
  if (!json.ok()) {
    std::fprintf(stderr, "storage_bench: %s\n", json.status().message().c_str());
    return 1;
  }
  Print(label.c_str(), "json_rows", *json);
  const double per_sealed = static_cast<double>(sealed->bytes) / sealed->events;
  const double per_json = static_cast<double>(json->bytes) / json->events;
  std::printf(
      "{\"world\":\"%s\",\"summary\":true,\"events\":%llu,\"json_bytes_per_event\":%.1f,"
      "\"segment_bytes_per_event\":%.2f,\"disk_ratio\":%.1f,\"open_s_json\":%.3f,"
      "\"open_s_segments\":%.3f,\"scan_s_json\":%.2f,\"scan_s_segments\":%.2f,"
      "\"scan_speedup\":%.2f,\"needed_bytes_per_event\":40,\"goal_bytes_per_event\":15}\n",
      label.c_str(), static_cast<unsigned long long>(sealed->events), per_json, per_sealed,
      per_json / per_sealed, json->open_s, sealed->open_s, json->scan_s, sealed->scan_s,
      json->scan_s / sealed->scan_s);
  std::printf(
      "%s: %llu events: disk %.1f -> %.2f B/event (%.1fx smaller; needed <= 40, goal <= 15); "
      "open %.3f -> %.3f s; scan of every event %.2f -> %.2f s (%.2fx)\n",
      label.c_str(), static_cast<unsigned long long>(sealed->events), per_json, per_sealed,
      per_json / per_sealed, json->open_s, sealed->open_s, json->scan_s, sealed->scan_s,
      json->scan_s / sealed->scan_s);
  return 0;
}

}  // namespace
}  // namespace touchpoint::bench

int main(int argc, char** argv) { return touchpoint::bench::Main(argc, argv); }
