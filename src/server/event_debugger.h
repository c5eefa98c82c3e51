#pragma once
// The live event debugger behind GET /api/v1/debug/events (docs/api.md#get-apiv1debugevents):
// the last few events each collection endpoint received, with what became of each one —
// accepted, duplicate (merged or dropped) or rejected with the error the sender got — like an
// ad platform's "test events" view.
//
// Two bounded rings, one for site events (Events API, pixel) and one for ad events (ad events,
// clicks), so a busy ad feed cannot push a pixel's events out. Each holds the newest `capacity`
// entries; older ones are forgotten. Everything is in memory and starts empty with the process.
//
// What an entry holds: for accepted and duplicate events the event as ingest normalised it (email,
// phone and external id already SHA-256, IP truncated: the same form /api/v1/export returns); for
// rejected events only the error message, its reason label and the endpoint — never the body.
//
// Thread-safe: recorded from the I/O threads and the store's writer thread, read by the API.

#include <cstddef>
#include <cstdint>
#include <deque>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "core/status.h"
#include "core/time.h"
#include "ingest/events_api.h"
#include "store/event_store.h"

namespace touchpoint::server {

enum class DebugOutcome : uint8_t { kAccepted, kDuplicate, kRejected };
std::string_view DebugOutcomeName(DebugOutcome o);

struct DebugEntry {
  uint64_t id = 0;          // 1, 2, ... in recording order, across both rings
  int64_t received_ms = 0;  // when the outcome was known (server clock)
  bool ad = false;          // ad ring (ad events, clicks) or site ring
  std::string endpoint;     // the path that received it: "/api/v1/events", "/c/a1", ...
  std::string pixel_id;     // "" for ad events and when refused before the pixel was known
  DebugOutcome outcome = DebugOutcome::kAccepted;
  int64_t index = -1;   // position in the request's batch; -1: the request as a whole
  uint64_t events = 1;  // events covered (> 1 only for a whole request refused)
  bool merged = false;  // duplicate merged into the first copy (within 5 minutes)
  uint64_t seq = 0;     // accepted: its seq; duplicate: the stored first copy's
  std::string name;     // event name, or the ad event type; "" when not known
  std::string error;    // rejected: the message the sender got
  std::string reason;   // rejected: the bounded label of /metrics
  // Accepted / duplicate: the normalised event as JSON (docs/formats.md), and for site events its
  // event_id and test_event_code. Empty for rejections.
  std::string event_json;
  std::string event_id;
  std::string test_event_code;
};

// What GET /api/v1/debug/events asks for.
struct DebugQuery {
  std::string pixel_id;                 // "": any
  std::optional<bool> ad;               // nullopt: both rings
  std::optional<DebugOutcome> outcome;  // nullopt: any
  uint64_t after_id = 0;                // only entries newer than this id (polling)
  size_t limit = 50;
};

class EventDebugger {
 public:
  static constexpr size_t kDefaultCapacity = 200;

  explicit EventDebugger(const Clock* clock, size_t capacity = kDefaultCapacity);

  // What to record of one write's events, taken before the events are moved into the store and
  // recorded once the write's outcome is known. The entries are built here, on the thread that
  // parsed the request (names and ids only: the events themselves come back as JSON in the
  // write's result, so none is copied); recording only fills in the outcome and moves them, on
  // whichever thread the store answers from. At most `capacity` events (the last).
  struct Pending {
    size_t total = 0;                 // events in the write
    std::vector<DebugEntry> entries;  // of the last min(total, capacity) events
  };

  // One event of a batch refused by validation.
  void RecordRejectedEvent(std::string_view endpoint, std::string_view pixel_id, int64_t index,
                           const Status& error);
  // A whole request refused (authentication, malformed body, unknown pixel, queue full, ...),
  // covering `events` events. `reason` is the /metrics label.
  void RecordRejected(std::string_view endpoint, std::string_view pixel_id, std::string_view error,
                      std::string_view reason, uint64_t events = 1);

  // A batch refused whole because some of its events are invalid (TikTok's rule): the invalid
  // events with their own errors, the valid ones as "not stored" with the first error.
  void RecordFailedBatch(std::string_view endpoint, const ingest::ParsedEventBatch& batch);

  // Records the rejections among `parse_errors` (one per input event; may be empty when every
  // event parsed) and returns the copies to record after the write. `events` are the events that
  // will be written, in order: the OK entries of `parse_errors`, or all inputs when it is empty.
  Pending Prepare(std::string_view endpoint, std::string_view pixel_id,
                  const std::vector<Status>& parse_errors,
                  const std::vector<store::StoredEvent>& events);
  // The write's outcome: one entry per event (accepted / duplicate, taking its JSON from
  // `result.bodies`), or, when the write failed, a rejection with `failure_reason` for each.
  // Moves the entries out of `pending`: record a Pending once.
  void RecordWrite(Pending& pending, store::WriteResult& result,
                   std::string_view failure_reason = "store:error");

  // Newest first.
  std::vector<DebugEntry> Recent(const DebugQuery& query) const;
  size_t capacity() const { return capacity_; }

  // GET /api/v1/debug/events: parses the query string and renders the answer.
  StatusOr<std::string> QueryJson(std::string_view query_string) const;

 private:
  void Add(DebugEntry entry);
  void PushLocked(DebugEntry entry);  // under mu_: into its ring, dropping the oldest if full

  const Clock* clock_;
  const size_t capacity_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  std::deque<DebugEntry> site_;  // oldest first
  std::deque<DebugEntry> ads_;
};

}  // namespace touchpoint::server
