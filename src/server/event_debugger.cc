#include "server/event_debugger.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <variant>

#include "core/json_writer.h"
#include "format/event_json.h"
#include "format/url.h"
#include "server/metrics.h"

namespace touchpoint::server {

namespace {

// Ad events (and clicks) go to the ad ring, so that a busy ad feed cannot push a pixel's out.
bool IsAdEndpoint(std::string_view endpoint) {
  return endpoint == "/api/v1/ad-events" || endpoint.rfind("/c/", 0) == 0;
}

std::optional<uint64_t> ParseUint(std::string_view s) {
  uint64_t v = 0;
  auto [p, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (s.empty() || ec != std::errc() || p != s.data() + s.size()) return std::nullopt;
  return v;
}

void WriteEntry(JsonWriter& w, const DebugEntry& e) {
  w.BeginObject();
  w.Key("id").Int(static_cast<int64_t>(e.id));
  w.Key("received_at").String(FormatIso8601Ms(e.received_ms));
  w.Key("received_at_ms").Int(e.received_ms);
  w.Key("type").String(e.ad ? "ad" : "site");
  w.Key("endpoint").String(e.endpoint);
  w.StringIf("pixel_id", e.pixel_id);
  w.Key("outcome").String(DebugOutcomeName(e.outcome));
  if (e.index >= 0) w.Key("index").Int(e.index);
  if (e.events != 1) w.Key("events").Int(static_cast<int64_t>(e.events));
  w.StringIf("name", e.name);
  if (e.outcome != DebugOutcome::kRejected) {
    w.Key("seq").Int(static_cast<int64_t>(e.seq));
    if (e.outcome == DebugOutcome::kDuplicate) w.Key("merged").Bool(e.merged);
  }
  w.StringIf("error", e.error);
  w.StringIf("reason", e.reason);
  if (!e.event_json.empty()) {
    w.StringIf("event_id", e.event_id);
    w.StringIf("test_event_code", e.test_event_code);
    w.Key("event").Raw(e.event_json);
  }
  w.EndObject();
}

}  // namespace

std::string_view DebugOutcomeName(DebugOutcome o) {
  switch (o) {
    case DebugOutcome::kAccepted:
      return "accepted";
    case DebugOutcome::kDuplicate:
      return "duplicate";
    case DebugOutcome::kRejected:
      return "rejected";
  }
  return "";
}

EventDebugger::EventDebugger(const Clock* clock, size_t capacity)
    : clock_(clock), capacity_(capacity == 0 ? 1 : capacity) {
  site_.slots.resize(capacity_ + 1);
  ads_.slots.resize(capacity_ + 1);
}

void EventDebugger::Add(Record record, bool ad) {
  record.received_ms = clock_->NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  Ring& ring = ad ? ads_ : site_;
  record.first_id = next_id_;
  next_id_ += record.count;
  ring.entries += record.count;
  ring.at(ring.size) = std::move(record);  // (never full: at most capacity_ records stay)
  ++ring.size;
  // Forget the oldest records while the rest still hold `capacity_` entries.
  while (ring.entries - ring.at(0).count >= capacity_) {
    Record& old = ring.at(0);
    ring.entries -= old.count;
    // Its slot is reused only after capacity_ + 1 records: let its events go now, or every slot
    // would keep a whole batch (up to capacity_ events each).
    old.bodies = std::vector<std::string>();
    old.cells = std::vector<Cell>();
    ring.head = (ring.head + 1) % ring.slots.size();
    --ring.size;
  }
}

size_t EventDebugger::RetainedEvents() const {
  std::lock_guard<std::mutex> lock(mu_);
  size_t n = 0;
  for (const Ring* ring : {&site_, &ads_})
    for (const Record& r : ring->slots) n += r.bodies.size();
  return n;
}

void EventDebugger::RecordRejectedEvent(std::string_view endpoint, std::string_view pixel_id,
                                        int64_t index, const Status& error) {
  Record r;
  r.endpoint.assign(endpoint);
  r.pixel_id.assign(pixel_id);
  r.one.outcome = DebugOutcome::kRejected;
  r.one.index = index;
  r.error = error.message();
  r.reason = Metrics::ReasonLabel(error.message());
  Add(std::move(r), endpoint == "/api/v1/ad-events");
}

void EventDebugger::RecordRejected(std::string_view endpoint, std::string_view pixel_id,
                                   std::string_view error, std::string_view reason,
                                   uint64_t events) {
  Record r;
  r.endpoint.assign(endpoint);
  r.pixel_id.assign(pixel_id);
  r.one.outcome = DebugOutcome::kRejected;
  r.events = events;
  r.error = std::string(error);
  r.reason = std::string(reason);
  Add(std::move(r), IsAdEndpoint(endpoint));
}

void EventDebugger::RecordFailedBatch(std::string_view endpoint,
                                      const ingest::ParsedEventBatch& batch) {
  const Status* first = batch.FirstError();
  const size_t n = batch.events.size();
  for (size_t i = n > capacity_ ? n - capacity_ : 0; i < n; ++i) {
    const ingest::ParsedEvent& pe = batch.events[i];
    if (!pe.status.ok()) {
      RecordRejectedEvent(endpoint, batch.pixel_id, static_cast<int64_t>(i), pe.status);
      continue;
    }
    Record r;
    r.endpoint.assign(endpoint);
    r.pixel_id.assign(batch.pixel_id);
    r.one.outcome = DebugOutcome::kRejected;
    r.one.index = static_cast<int64_t>(i);
    if (pe.event) r.name = pe.event->event;
    r.error = "not stored: the batch was refused because of " +
              (first ? first->message() : std::string("another event"));
    r.reason = "batch:failed_with_other_event";
    Add(std::move(r), false);
  }
}

EventDebugger::Pending EventDebugger::Prepare(std::string_view endpoint, std::string_view pixel_id,
                                              const std::vector<Status>& parse_errors,
                                              const std::vector<store::StoredEvent>& events) {
  Pending p;
  p.endpoint.assign(endpoint);
  p.pixel_id.assign(pixel_id);
  p.ad = IsAdEndpoint(endpoint) ||
         (!events.empty() && std::holds_alternative<AdEvent>(events.front()));
  p.total = events.size();
  // Only the newest `capacity_` entries survive in a ring, so older ones need not be recorded.
  p.kept = std::min(events.size(), capacity_);
  const size_t first_kept = p.total - p.kept;
  size_t k = 0;  // index into `events`
  for (size_t i = 0; i < parse_errors.size(); ++i) {
    if (!parse_errors[i].ok()) {
      if (i + capacity_ >= parse_errors.size())
        RecordRejectedEvent(endpoint, pixel_id, static_cast<int64_t>(i), parse_errors[i]);
      continue;
    }
    if (k >= events.size()) break;
    if (k >= first_kept) {
      // Positions differ from write order only once an event before this one was refused.
      if (p.index.empty() && i != k) {
        p.index.reserve(p.kept);
        for (size_t j = first_kept; j < k; ++j) p.index.push_back(static_cast<int64_t>(j));
      }
      if (!p.index.empty() || i != k) p.index.push_back(static_cast<int64_t>(i));
    }
    ++k;
  }
  return p;
}

void EventDebugger::RecordWrite(Pending& pending, store::WriteResult& result,
                                std::string_view failure_reason) {
  if (pending.kept == 0) return;
  const size_t first_kept = pending.total - pending.kept;
  const bool failed = !result.status.ok();
  Record r;
  r.endpoint = pending.endpoint;
  r.pixel_id = pending.pixel_id;
  r.count = pending.kept;
  pending.kept = 0;
  if (failed) {
    r.error = result.status.message();
    r.reason.assign(failure_reason);
  }
  if (r.count > 1) r.cells.resize(r.count);
  for (size_t j = 0; j < r.count; ++j) {
    Cell& c = r.count == 1 ? r.one : r.cells[j];
    const size_t k = first_kept + j;  // position in the write
    c.index = pending.index.empty() ? static_cast<int64_t>(k) : pending.index[j];
    if (failed || k >= result.outcomes.size()) {
      c.outcome = DebugOutcome::kRejected;
      if (!failed && r.error.empty()) {
        r.error = "not stored";
        r.reason.assign(failure_reason);
      }
    } else {
      const store::WriteOutcome o = result.outcomes[k];
      c.outcome =
          o == store::WriteOutcome::kAccepted ? DebugOutcome::kAccepted : DebugOutcome::kDuplicate;
      c.merged = o == store::WriteOutcome::kMerged || o == store::WriteOutcome::kReplaced;
      c.seq = k < result.seqs.size() ? result.seqs[k] : 0;
    }
  }
  if (result.bodies.size() == pending.total) {
    if (first_kept == 0) {
      r.bodies = std::move(result.bodies);  // the usual case: the JSON is not copied
    } else {
      r.bodies.reserve(r.count);
      for (size_t k = first_kept; k < pending.total; ++k)
        r.bodies.push_back(std::move(result.bodies[k]));
    }
  }
  Add(std::move(r), pending.ad);
}

// Under the lock: the entry with the event's JSON copied into event_json (rejected ones too);
// FinishEntry, outside the lock, reads the name and ids from it.
DebugEntry EventDebugger::MakeEntry(const Record& r, size_t j, bool ad) const {
  const Cell& c = r.cell(j);
  DebugEntry e;
  e.id = r.first_id + j;
  e.received_ms = r.received_ms;
  e.ad = ad;
  e.endpoint = r.endpoint.view();
  e.pixel_id = r.pixel_id.view();
  e.outcome = c.outcome;
  e.index = c.index;
  e.events = r.events;
  e.merged = c.merged;
  e.seq = c.seq;
  e.name = r.name;
  if (c.outcome == DebugOutcome::kRejected) {
    e.error = r.error;
    e.reason = r.reason;
  }
  if (j < r.bodies.size()) e.event_json = r.bodies[j];
  return e;
}

namespace {

// The name and ids of an entry, read back from the event's JSON (ours: docs/formats.md). A
// rejected entry keeps only its name: it shows its error, not the event.
void FinishEntry(simdjson::dom::parser& parser, DebugEntry& e) {
  if (e.event_json.empty()) return;
  simdjson::dom::element doc;
  if (!parser.parse(e.event_json).get(doc)) {
    std::string_view kind, v;
    if (doc["kind"].get(kind)) kind = {};
    if (!doc[kind == "ad" ? "type" : "event"].get(v)) e.name = std::string(v);
    if (e.outcome != DebugOutcome::kRejected && kind != "ad") {
      if (!doc["event_id"].get(v)) e.event_id = std::string(v);
      if (!doc["test_event_code"].get(v)) e.test_event_code = std::string(v);
    }
  }
  if (e.outcome == DebugOutcome::kRejected) e.event_json.clear();
}

}  // namespace

std::vector<DebugEntry> EventDebugger::Recent(const DebugQuery& q) const {
  // A ring read newest first, over its visible (newest `capacity_`) entries.
  struct Cursor {
    const Ring* ring;
    size_t record;  // index from the oldest record, counting down
    size_t entry;   // within the record, counting down
    size_t left;    // visible entries still to read
    bool ad;
    bool done() const { return left == 0; }
    const Record& rec() const { return ring->at(record); }
    uint64_t id() const { return rec().first_id + entry; }
    void next() {
      if (--left == 0) return;
      if (entry > 0) {
        --entry;
      } else {
        --record;
        entry = ring->at(record).count - 1;
      }
    }
  };
  auto start = [&](const Ring& ring, bool ad, bool want) {
    Cursor c{&ring, 0, 0, 0, ad};
    if (!want || ring.size == 0) return c;
    c.record = ring.size - 1;
    c.entry = ring.at(c.record).count - 1;
    c.left = std::min(ring.entries, capacity_);
    return c;
  };
  std::vector<DebugEntry> out;
  std::unique_lock<std::mutex> lock(mu_);
  Cursor site = start(site_, false, !q.ad || !*q.ad);
  Cursor ad = start(ads_, true, !q.ad || *q.ad);
  // Merge the two rings newest first (ids increase with time in each).
  while (out.size() < q.limit) {
    Cursor* next = nullptr;
    if (!site.done()) next = &site;
    if (!ad.done() && (!next || ad.id() > next->id())) next = &ad;
    if (!next || next->id() <= q.after_id) break;
    const Record& r = next->rec();
    const size_t j = next->entry;
    const bool is_ad = next->ad;
    next->next();
    if (!q.pixel_id.empty() && r.pixel_id.view() != q.pixel_id) continue;
    if (q.outcome && r.cell(j).outcome != *q.outcome) continue;
    out.push_back(MakeEntry(r, j, is_ad));
  }
  lock.unlock();  // parsing is the reader's cost, not the writer's (which records under mu_)
  simdjson::dom::parser parser;
  for (auto& e : out) FinishEntry(parser, e);
  return out;
}

StatusOr<std::string> EventDebugger::QueryJson(std::string_view query_string) const {
  auto params = format::ParseQuery(query_string);
  if (!params) return InvalidArgument("query", ": malformed percent-encoding");
  DebugQuery q;
  for (const auto& [k, v] : *params) {
    if (k == "pixel_id") {
      q.pixel_id = v;
    } else if (k == "type") {
      if (v == "site")
        q.ad = false;
      else if (v == "ad")
        q.ad = true;
      else if (v != "all" && !v.empty())
        return InvalidArgument("type", ": must be site, ad or all");
    } else if (k == "outcome") {
      if (v == "accepted")
        q.outcome = DebugOutcome::kAccepted;
      else if (v == "duplicate")
        q.outcome = DebugOutcome::kDuplicate;
      else if (v == "rejected")
        q.outcome = DebugOutcome::kRejected;
      else if (!v.empty())
        return InvalidArgument("outcome", ": must be accepted, duplicate or rejected");
    } else if (k == "limit") {
      auto n = ParseUint(v);
      if (!n || *n < 1 || *n > capacity_)
        return InvalidArgument("limit",
                               ": must be an integer from 1 to " + std::to_string(capacity_));
      q.limit = static_cast<size_t>(*n);
    } else if (k == "test_event_code") {
      q.test_event_code = v;
    } else if (k == "after") {
      auto n = ParseUint(v);
      if (!n) return InvalidArgument("after", ": must be an entry id (an integer >= 0)");
      q.after_id = *n;
    } else {
      return InvalidArgument(k, ": unknown parameter");
    }
  }
  std::vector<DebugEntry> entries;
  if (q.test_event_code.empty()) {
    entries = Recent(q);
  } else {
    // The test code is read from each entry's event, outside the lock: look through every
    // entry the rings hold (at most two capacities), then keep the newest `limit` that match.
    DebugQuery all = q;
    all.limit = 2 * capacity_;
    for (auto& e : Recent(all))
      if (e.test_event_code == q.test_event_code && entries.size() < q.limit)
        entries.push_back(std::move(e));
  }
  uint64_t last_id;
  {
    std::lock_guard<std::mutex> lock(mu_);
    last_id = next_id_ - 1;
  }
  std::string body;
  JsonWriter w(body);
  w.BeginObject().Key("capacity").Int(static_cast<int64_t>(capacity_));
  w.Key("last_id").Int(static_cast<int64_t>(last_id));
  w.Key("events").BeginArray();
  for (const auto& e : entries) WriteEntry(w, e);
  w.EndArray().EndObject();
  return body;
}

}  // namespace touchpoint::server
