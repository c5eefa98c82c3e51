#include "server/event_debugger.h"

#include <algorithm>
#include <charconv>
#include <variant>

#include "core/json_writer.h"
#include "ingest/event_json.h"
#include "ingest/url.h"
#include "server/metrics.h"

namespace touchpoint::server {

namespace {

// Endpoints are our own route paths, but a click path carries the ad id the client sent.
constexpr size_t kMaxEndpointBytes = 256;
constexpr size_t kMaxPixelIdBytes = 128;

std::string Clip(std::string_view s, size_t max) { return std::string(s.substr(0, max)); }

std::string NameOf(const store::StoredEvent& ev) {
  if (const auto* site = std::get_if<SiteEvent>(&ev)) return site->event;
  switch (std::get<AdEvent>(ev).type) {
    case AdEventType::kImpression:
      return "impression";
    case AdEventType::kVideoPlay:
      return "video_play";
    case AdEventType::kClick:
      return "click";
  }
  return "";
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
    : clock_(clock), capacity_(capacity == 0 ? 1 : capacity) {}

void EventDebugger::Add(DebugEntry entry) {
  entry.received_ms = clock_->NowMs();
  std::lock_guard<std::mutex> lock(mu_);
  PushLocked(std::move(entry));
}

void EventDebugger::PushLocked(DebugEntry entry) {
  entry.id = next_id_++;
  std::deque<DebugEntry>& ring = entry.ad ? ads_ : site_;
  if (ring.size() == capacity_) ring.pop_front();
  ring.push_back(std::move(entry));
}

void EventDebugger::RecordRejectedEvent(std::string_view endpoint, std::string_view pixel_id,
                                        int64_t index, const Status& error) {
  DebugEntry e;
  e.ad = endpoint == "/api/v1/ad-events";
  e.endpoint = Clip(endpoint, kMaxEndpointBytes);
  e.pixel_id = Clip(pixel_id, kMaxPixelIdBytes);
  e.outcome = DebugOutcome::kRejected;
  e.index = index;
  e.error = error.message();
  e.reason = Metrics::ReasonLabel(error.message());
  Add(std::move(e));
}

void EventDebugger::RecordRejected(std::string_view endpoint, std::string_view pixel_id,
                                   std::string_view error, std::string_view reason,
                                   uint64_t events) {
  DebugEntry e;
  e.ad = endpoint == "/api/v1/ad-events" || endpoint.rfind("/c/", 0) == 0;
  e.endpoint = Clip(endpoint, kMaxEndpointBytes);
  e.pixel_id = Clip(pixel_id, kMaxPixelIdBytes);
  e.outcome = DebugOutcome::kRejected;
  e.events = events;
  e.error = std::string(error);
  e.reason = std::string(reason);
  Add(std::move(e));
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
    DebugEntry e;
    e.endpoint = Clip(endpoint, kMaxEndpointBytes);
    e.pixel_id = Clip(batch.pixel_id, kMaxPixelIdBytes);
    e.outcome = DebugOutcome::kRejected;
    e.index = static_cast<int64_t>(i);
    if (pe.event) e.name = pe.event->event;
    e.error = "not stored: the batch was refused because of " +
              (first ? first->message() : std::string("another event"));
    e.reason = "batch:failed_with_other_event";
    Add(std::move(e));
  }
}

EventDebugger::Pending EventDebugger::Prepare(std::string_view endpoint, std::string_view pixel_id,
                                              const std::vector<Status>& parse_errors,
                                              const std::vector<store::StoredEvent>& events) {
  Pending p;
  const std::string clipped_endpoint = Clip(endpoint, kMaxEndpointBytes);
  const std::string clipped_pixel = Clip(pixel_id, kMaxPixelIdBytes);
  const bool ad = endpoint == "/api/v1/ad-events" || endpoint.rfind("/c/", 0) == 0 ||
                  (!events.empty() && std::holds_alternative<AdEvent>(events.front()));
  p.total = events.size();
  // Only the newest `capacity_` entries survive in a ring, so older ones need not be made.
  const size_t first_kept = events.size() > capacity_ ? events.size() - capacity_ : 0;
  p.entries.reserve(events.size() - first_kept);
  size_t k = 0;  // index into `events`
  for (size_t i = 0; i < std::max(parse_errors.size(), events.size()); ++i) {
    if (i < parse_errors.size() && !parse_errors[i].ok()) {
      if (i + capacity_ >= parse_errors.size())
        RecordRejectedEvent(endpoint, pixel_id, static_cast<int64_t>(i), parse_errors[i]);
      continue;
    }
    if (k >= events.size()) break;
    if (k >= first_kept) {
      DebugEntry& e = p.entries.emplace_back();
      e.ad = ad;
      e.endpoint = clipped_endpoint;
      e.pixel_id = clipped_pixel;
      e.index = static_cast<int64_t>(i);
      e.name = NameOf(events[k]);
      if (const auto* site = std::get_if<SiteEvent>(&events[k])) {
        e.event_id = site->event_id;
        e.test_event_code = site->test_event_code;
      }
    }
    ++k;
  }
  return p;
}

void EventDebugger::RecordWrite(Pending& pending, store::WriteResult& result,
                                std::string_view failure_reason) {
  const size_t first_kept = pending.total - pending.entries.size();
  const int64_t now = clock_->NowMs();
  for (size_t j = 0; j < pending.entries.size(); ++j) {
    DebugEntry& e = pending.entries[j];
    const size_t k = first_kept + j;  // position in the write
    e.received_ms = now;
    if (!result.status.ok() || k >= result.outcomes.size()) {
      e.outcome = DebugOutcome::kRejected;
      e.error = result.status.ok() ? "not stored" : result.status.message();
      e.reason = std::string(failure_reason);
      e.event_id.clear();  // as before: a rejected entry carries its error, not its ids
      e.test_event_code.clear();
    } else {
      store::WriteOutcome o = result.outcomes[k];
      e.outcome =
          o == store::WriteOutcome::kAccepted ? DebugOutcome::kAccepted : DebugOutcome::kDuplicate;
      e.merged = o == store::WriteOutcome::kMerged;
      e.seq = k < result.seqs.size() ? result.seqs[k] : 0;
      if (k < result.bodies.size()) e.event_json = std::move(result.bodies[k]);
    }
  }
  std::lock_guard<std::mutex> lock(mu_);
  for (auto& e : pending.entries) PushLocked(std::move(e));
  pending.entries.clear();
}

std::vector<DebugEntry> EventDebugger::Recent(const DebugQuery& q) const {
  std::vector<DebugEntry> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto site = site_.rbegin(), ad = ads_.rbegin();
  const bool want_site = !q.ad || !*q.ad, want_ads = !q.ad || *q.ad;
  // Merge the two rings newest first (ids increase with time in each).
  while (out.size() < q.limit) {
    const DebugEntry* next = nullptr;
    bool from_site = false;
    if (want_site && site != site_.rend()) next = &*site, from_site = true;
    if (want_ads && ad != ads_.rend() && (!next || ad->id > next->id))
      next = &*ad, from_site = false;
    if (!next || next->id <= q.after_id) break;
    (from_site ? ++site : ++ad);
    if (!q.pixel_id.empty() && next->pixel_id != q.pixel_id) continue;
    if (q.outcome && next->outcome != *q.outcome) continue;
    out.push_back(*next);
  }
  return out;
}

StatusOr<std::string> EventDebugger::QueryJson(std::string_view query_string) const {
  auto params = ingest::ParseQuery(query_string);
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
    } else if (k == "after") {
      auto n = ParseUint(v);
      if (!n) return InvalidArgument("after", ": must be an entry id (an integer >= 0)");
      q.after_id = *n;
    } else {
      return InvalidArgument(k, ": unknown parameter");
    }
  }
  std::vector<DebugEntry> entries = Recent(q);
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
