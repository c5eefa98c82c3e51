#pragma once
// The simulator: a world of users seeing, watching and clicking ads, visiting the shop, buying
// and signing up (or not), with the mess of real traffic, and the ground truth of why.
//
// Output is a stream of batches, each one request's worth of events in the shape it would be
// sent: Events API 2.0 data[] elements (server events, and pixel events) or ad events (the
// /api/v1/ad-events shape). Users are simulated in blocks of kBlockUsers; within a block events
// are ordered by when they would arrive (pixel: at once; server: seconds, sometimes hours, later;
// ad logs: hourly exports, some a day late), then cut into batches. Everything is a function of
// (scenario, seed, users, days, campaigns, end, pixel id): the same inputs give the same bytes.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "core/catalog.h"
#include "core/status.h"
#include "sim/advertiser.h"
#include "sim/scenario.h"

namespace touchpoint::sim {

inline constexpr size_t kBlockUsers = 1024;
inline constexpr size_t kEventsApiBatch = 500;
inline constexpr size_t kPixelBatch = 100;
inline constexpr size_t kAdBatch = 1000;
// A server sends what it has at least this often: an Events API batch closes when its events'
// arrivals span more than this (or it is full).
inline constexpr int64_t kEventsApiBatchSpanMs = 6 * 3600 * 1000;
// The event_source_id of the misconfigured second site whose events all bounce.
inline constexpr const char* kUnknownPixelId = "TPUNKNOWNSIMPIXEL000";

struct SimOptions {
  Scenario scenario;
  uint64_t seed = 1;
  int users = 0;       // 0: the scenario's default
  int days = 0;        // 0: the scenario's default
  int campaigns = 0;   // 0: the scenario's default
  int64_t end_ms = 0;  // the simulated period is [end - days, end)
  std::string pixel_id = "SIMPIXEL";
};

enum class Channel : uint8_t {
  kEventsApi = 0,  // the advertiser's server (Events API 2.0)
  kPixel = 1,      // tp.js in the browser
  kAdEvents = 2,   // the ad platform's logs
};
const char* ChannelName(Channel c);

// One request's worth of events.
struct Batch {
  uint64_t number = 0;  // 1, 2, ... in delivery order (a retry repeats the number)
  Channel channel = Channel::kEventsApi;
  std::string pixel_id;      // site channels: SimOptions::pixel_id or kUnknownPixelId
  bool retry = false;        // a second send of the batch before it
  bool has_invalid = false;  // holds deliberately invalid events
  // JSON objects: Events API 2.0 data[] elements (site channels) or ad events.
  std::vector<std::string> events;
  std::vector<int64_t> event_times_ms;  // as simulated (invalid events: their garbled time)
  // Per event: "" when valid, else the rejection the simulator planted, as the server words it
  // with indices replaced by N ("data[N].event_id: must be a string").
  std::vector<std::string> expected_error;

  bool unknown_pixel() const { return pixel_id == kUnknownPixelId; }
  // The request body: {"event_source":"web","event_source_id":P,"data":[...]} for site
  // channels (P = pixel_id unless given), NDJSON for ad events.
  std::string Body(std::string_view pixel_id_override = {}) const;
};

class Simulator;

// Where batches go: files, a data directory, a running server (or several at once).
class DeliverySink {
 public:
  virtual ~DeliverySink() = default;
  // The catalog and the truth's header are known.
  virtual Status Begin(const Simulator& sim) = 0;
  virtual Status Deliver(const Batch& batch) = 0;
  // Ground truth of one block's conversions, one JSON object each, in time order.
  virtual Status Conversions(const std::vector<std::string>& truth_lines) = 0;
  // Spend and totals are known.
  virtual Status Finish(const Simulator& sim) = 0;
};

// Fans one stream out to several sinks, in order.
class TeeSink final : public DeliverySink {
 public:
  explicit TeeSink(std::vector<DeliverySink*> sinks) : sinks_(std::move(sinks)) {}
  Status Begin(const Simulator& sim) override;
  Status Deliver(const Batch& batch) override;
  Status Conversions(const std::vector<std::string>& truth_lines) override;
  Status Finish(const Simulator& sim) override;

 private:
  std::vector<DeliverySink*> sinks_;
};

// What the simulator sent, counted as it went (the truth's "totals").
struct SimTotals {
  uint64_t users = 0;
  uint64_t batches = 0;
  uint64_t events = 0;  // everything handed to sinks, retries included
  std::map<std::string, uint64_t> events_by_channel;
  uint64_t retried_events = 0;
  uint64_t invalid_events = 0;                           // retries included
  std::map<std::string, uint64_t> expected_rejections;   // reason -> count, retries included
  std::map<std::string, uint64_t> conversions_by_touch;  // click, view, none (primary only)
  std::map<std::string, uint64_t> conversions_by_event;
};

class Simulator {
 public:
  static StatusOr<std::unique_ptr<Simulator>> Create(SimOptions options);
  ~Simulator();

  // Simulates every user and hands the batches to `sink`. `on_block` (optional) is called
  // after each block with the number of users done so far.
  Status Run(DeliverySink& sink, const std::function<void(uint64_t users_done)>& on_block = {});

  const SimOptions& options() const { return options_; }
  const Advertiser& advertiser() const { return advertiser_; }
  const Catalog& catalog() const { return advertiser_.catalog; }
  int64_t start_ms() const { return start_ms_; }
  int64_t end_ms() const { return options_.end_ms; }

  // Daily spend per ad (impressions x the ad's CPM, with daily variation). After Run().
  std::vector<SpendRow> Spend() const;
  const SimTotals& totals() const { return totals_; }

  // truth.json, in pieces: the header (run, rates, ads, planted effects) up to the opening of
  // the "conversions" array, and the closing (totals). Conversions go between, one a line.
  std::string TruthHead() const;
  std::string TruthTail() const;

 private:
  struct Impl;
  explicit Simulator(SimOptions options, Advertiser advertiser);

  SimOptions options_;
  Advertiser advertiser_;
  int64_t start_ms_ = 0;
  SimTotals totals_;
  std::unique_ptr<Impl> impl_;
};

// "data[3].event_id: must be a string" -> "data[N].event_id: must be a string".
std::string NormalizeReason(std::string_view message);

// Unix ms as "<seconds>.<millis>" (the ad events' fractional event_time).
std::string FormatSecondsMs(int64_t ms);

}  // namespace touchpoint::sim
