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

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
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
  std::string test_event_code;          // "": any; else only test events with this code
  size_t limit = 50;
};

class EventDebugger {
 public:
  static constexpr size_t kDefaultCapacity = 200;
  // Endpoints are our own route paths, but a click path carries the ad id the client sent.
  static constexpr size_t kMaxEndpointBytes = 256;
  static constexpr size_t kMaxPixelIdBytes = 128;

  // Up to N bytes of text, kept inline (clipped); copies copy only the text.
  template <size_t N>
  class InlineText {
   public:
    InlineText() = default;
    InlineText(const InlineText& o) { assign(o.view()); }
    InlineText& operator=(const InlineText& o) {
      assign(o.view());
      return *this;
    }
    void assign(std::string_view s) {
      size_ = static_cast<uint16_t>(std::min(s.size(), N));
      std::memmove(data_, s.data(), size_);
    }
    std::string_view view() const { return {data_, size_}; }

   private:
    uint16_t size_ = 0;
    char data_[N];
  };

  explicit EventDebugger(const Clock* clock, size_t capacity = kDefaultCapacity);

  // What to record of one write's events, taken on the thread that parsed the request, before
  // the events are moved into the store, and recorded once the write's outcome is known. Nothing
  // per event is copied: the write's result brings each event back as its JSON (WriteResult::
  // bodies), and an entry's name, event_id and test_event_code are read from that JSON when the
  // debugger is queried, not when events are recorded (the hot path: every collected event).
  struct Pending {
    size_t total = 0;  // events in the write
    size_t kept = 0;   // its last `kept` events are recorded (at most `capacity`)
    bool ad = false;   // ad ring
    InlineText<kMaxEndpointBytes> endpoint;  // (inline: no allocation per request)
    InlineText<kMaxPixelIdBytes> pixel_id;
    // The input position of each kept event when validation refused some of the request's
    // events (so positions and write order differ); empty: kept event j is input total-kept+j.
    std::vector<int64_t> index;
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
  // Takes `result.bodies`. Record a Pending once (a second call records nothing).
  void RecordWrite(Pending& pending, store::WriteResult& result,
                   std::string_view failure_reason = "store:error");

  // Newest first.
  std::vector<DebugEntry> Recent(const DebugQuery& query) const;
  size_t capacity() const { return capacity_; }
  // How many events' JSON the rings hold: those of the records still visible, at most about
  // 2 x capacity per ring (a record no longer visible keeps none, though its slot waits to be
  // reused).
  size_t RetainedEvents() const;

  // GET /api/v1/debug/events: parses the query string and renders the answer.
  StatusOr<std::string> QueryJson(std::string_view query_string) const;

 private:
  // Entries live in the rings as records: one per recorded write (its kept events, ids first_id,
  // first_id + 1, ...) or one per rejection, so that recording a write costs one record, not one
  // entry per event. An entry is made into a DebugEntry only when queried.
  struct Cell {
    int64_t index = -1;
    uint64_t seq = 0;
    DebugOutcome outcome = DebugOutcome::kAccepted;
    bool merged = false;
  };
  struct Record {
    uint64_t first_id = 0;
    int64_t received_ms = 0;
    InlineText<kMaxEndpointBytes> endpoint;
    InlineText<kMaxPixelIdBytes> pixel_id;
    size_t count = 1;         // entries
    Cell one;                 // the entry when count == 1
    std::vector<Cell> cells;  // the entries when count > 1
    // A write's events as JSON, one per entry (or none, when the store returned none): accepted
    // and duplicate entries show it; rejected ones (a failed write) only take their name from it.
    std::vector<std::string> bodies;
    // Rejections: shared by the record's entries (a failed write) or its one entry.
    std::string name;  // when not read from `bodies`
    std::string error;
    std::string reason;
    uint64_t events = 1;  // events covered by a whole request refused

    const Cell& cell(size_t j) const { return count == 1 ? one : cells[j]; }
  };
  struct Ring {
    std::vector<Record> slots;  // circular, capacity + 1 records (each holds at least one entry)
    size_t head = 0;            // the oldest record's slot
    size_t size = 0;            // records
    size_t entries = 0;         // in the records; the newest `capacity` of them are visible
    Record& at(size_t i) { return slots[(head + i) % slots.size()]; }
    const Record& at(size_t i) const { return slots[(head + i) % slots.size()]; }
  };

  // Stamps the record, gives it its ids, puts it in the ring's next slot and forgets the records
  // no longer visible. Records carry their text inline, so a one-event write allocates nothing.
  void Add(Record record, bool ad);
  DebugEntry MakeEntry(const Record& r, size_t j, bool ad) const;

  const Clock* clock_;
  const size_t capacity_;
  mutable std::mutex mu_;
  uint64_t next_id_ = 1;
  Ring site_;
  Ring ads_;
};

}  // namespace touchpoint::server
