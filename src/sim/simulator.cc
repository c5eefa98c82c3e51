#include "sim/simulator.h"

#include <algorithm>
#include <cmath>

#include "core/json_writer.h"
#include "core/time.h"
#include "sim/audience.h"
#include "sim/journey.h"
#include "sim/random.h"

namespace touchpoint::sim {

const char* ChannelName(Channel c) {
  switch (c) {
    case Channel::kEventsApi:
      return "events_api";
    case Channel::kPixel:
      return "pixel";
    case Channel::kAdEvents:
      return "ad_events";
  }
  return "events_api";
}

std::string Batch::Body(std::string_view pixel_id_override) const {
  size_t size = 64;
  for (const auto& e : events) size += e.size() + 1;
  std::string body;
  body.reserve(size);
  if (channel == Channel::kAdEvents) {
    for (const auto& e : events) {
      body += e;
      body += '\n';
    }
    return body;
  }
  body += R"({"event_source":"web","event_source_id":)";
  AppendJsonString(body,
                   pixel_id_override.empty() ? std::string_view(pixel_id) : pixel_id_override);
  body += R"(,"data":[)";
  for (size_t i = 0; i < events.size(); ++i) {
    if (i) body += ',';
    body += events[i];
  }
  body += "]}";
  return body;
}

std::string NormalizeReason(std::string_view message) {
  std::string out;
  out.reserve(message.size());
  for (size_t i = 0; i < message.size(); ++i) {
    if (message[i] == '[') {
      size_t j = i + 1;
      while (j < message.size() && message[j] >= '0' && message[j] <= '9') ++j;
      if (j > i + 1 && j < message.size() && message[j] == ']') {
        out += "[N]";
        i = j;
        continue;
      }
    }
    out += message[i];
  }
  return out;
}

std::string FormatSecondsMs(int64_t ms) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%lld.%03lld", static_cast<long long>(ms / 1000),
                static_cast<long long>(ms % 1000));
  return buf;
}

Status TeeSink::Begin(const Simulator& sim) {
  for (auto* s : sinks_) TP_RETURN_IF_ERROR(s->Begin(sim));
  return OkStatus();
}
Status TeeSink::Deliver(const Batch& batch) {
  for (auto* s : sinks_) TP_RETURN_IF_ERROR(s->Deliver(batch));
  return OkStatus();
}
Status TeeSink::Conversions(const std::vector<std::string>& lines) {
  for (auto* s : sinks_) TP_RETURN_IF_ERROR(s->Conversions(lines));
  return OkStatus();
}
Status TeeSink::Finish(const Simulator& sim) {
  for (auto* s : sinks_) TP_RETURN_IF_ERROR(s->Finish(sim));
  return OkStatus();
}

namespace {

// The invalid events the simulator plants, and how the server words their rejection.
struct InvalidKind {
  const char* name;
  double weight;
  Channel channel;
  bool unknown_pixel;
  const char* reason;  // indices as [N]
};
constexpr InvalidKind kInvalidKinds[] = {
    {"event_id_number", 3, Channel::kEventsApi, false, "data[N].event_id: must be a string"},
    {"future_time", 3, Channel::kEventsApi, false,
     "data[N].event_time: more than 10 minutes in the future"},
    {"value_string", 2, Channel::kEventsApi, false, "data[N].properties.value: must be a number"},
    {"currency_lowercase", 1, Channel::kEventsApi, false,
     "data[N].properties.currency: must be an ISO 4217 code in capitals, like USD"},
    {"milliseconds_time", 1, Channel::kEventsApi, false,
     "data[N].event_time: must be Unix seconds (this looks like milliseconds)"},
    {"unknown_pixel", 2, Channel::kEventsApi, true, nullptr},
    {"bad_age", 2, Channel::kAdEvents, false,
     "events[N].age: must be one of 13-17, 18-24, 25-34, 35-44, 45-54, 55+"},
    {"bad_type", 1, Channel::kAdEvents, false,
     "events[N].type: must be impression, video_play or click"},
    {"play_without_watch", 1, Channel::kAdEvents, false,
     "events[N].watch_ms: required for a video_play"},
};

std::string UnknownPixelReason() {
  return std::string("event_source_id: unknown pixel ") + kUnknownPixelId;
}

// Builds one invalid event of the given kind around time `t`.
std::string InvalidEventJson(const InvalidKind& kind, Rng& rng, int64_t t, int64_t end_ms,
                             const std::string& ad_id, uint64_t serial) {
  std::string json;
  JsonWriter w(json);
  std::string_view name = kind.name;
  if (kind.channel == Channel::kAdEvents) {
    bool play = name == "play_without_watch";
    w.BeginObject().Key("type").String(name == "bad_type" ? "view"
                                       : play             ? "video_play"
                                                          : "impression");
    w.Key("ad_id").String(ad_id).Key("event_time").Raw(FormatSecondsMs(t));
    w.Key("user_key").String("tk" + rng.Hex(16));
    if (play) w.Key("video_ms").Int(15000);
    w.Key("age").String(name == "bad_age" ? "25-30" : "25-34").Key("gender").String("female");
    w.Key("country").String("US").Key("region").String("California");
    w.Key("placement").String("tiktok").Key("os").String("ios").Key("device").String("phone");
    w.EndObject();
    return json;
  }
  bool unknown = kind.unknown_pixel;
  w.BeginObject().Key("event").String(unknown ? "CompletePayment" : "AddToCart");
  std::string id = (unknown ? "stg-" : "bad-") + std::to_string(serial);
  if (name == "event_id_number")
    w.Key("event_id").Int(static_cast<int64_t>(1000000 + serial));
  else
    w.Key("event_id").String(id);
  int64_t secs = t / 1000;
  if (name == "future_time") secs = end_ms / 1000 + 30 * 24 * 3600;
  if (name == "milliseconds_time")
    w.Key("event_time").Int(secs * 1000 + rng.Between(0, 999));
  else
    w.Key("event_time").Int(secs);
  w.Key("user").BeginObject().Key("ttp").String(rng.Alnum(27)).EndObject();
  w.Key("properties").BeginObject();
  if (name == "value_string")
    w.Key("value").String("19.99");
  else
    w.Key("value").Double(19.99);
  w.Key("currency").String(name == "currency_lowercase" ? "usd" : "USD");
  if (unknown) w.Key("order_id").String(id);
  w.EndObject();
  w.Key("page")
      .BeginObject()
      .Key("url")
      .String("https://staging.shop.example/checkout")
      .EndObject();
  w.EndObject();
  return json;
}

void WriteRates(JsonWriter& w, const Rates& r) {
  w.BeginObject();
  w.Key("impressions_per_user_day").Double(r.impressions_per_user_day);
  w.Key("video_play_rate").Double(r.video_play_rate);
  w.Key("video_completion").Double(r.video_completion);
  w.Key("ctr").Double(r.ctr);
  w.Key("landing_pageview_rate").Double(r.landing_pageview_rate);
  w.Key("purchase_per_click").Double(r.purchase_per_click);
  w.Key("lead_per_click").Double(r.lead_per_click);
  w.Key("view_through_visit_rate").Double(r.view_through_visit_rate);
  w.Key("organic_visits_per_user_day").Double(r.organic_visits_per_user_day);
  w.Key("organic_purchase_per_visit").Double(r.organic_purchase_per_visit);
  w.Key("organic_lead_per_visit").Double(r.organic_lead_per_visit);
  w.EndObject();
}

void WriteMess(JsonWriter& w, const Mess& m) {
  w.BeginObject();
  w.Key("invalid_share").Double(m.invalid_share);
  w.Key("pixel_blocked_browsers").Double(m.pixel_blocked_browsers);
  w.Key("server_copy_missing").Double(m.server_copy_missing);
  w.Key("unshared_event_id").Double(m.unshared_event_id);
  w.Key("retried_batches").Double(m.retried_batches);
  w.Key("late_server_events").Double(m.late_server_events);
  w.Key("late_ad_logs").Double(m.late_ad_logs);
  w.EndObject();
}

void WriteCounts(JsonWriter& w, const std::map<std::string, uint64_t>& counts) {
  w.BeginObject();
  for (const auto& [k, v] : counts) w.Key(k).Int(static_cast<int64_t>(v));
  w.EndObject();
}

}  // namespace

struct Simulator::Impl {
  JourneyContext ctx;
  std::vector<uint32_t> impressions;
  int64_t days_in_ledger = 0;
  uint64_t next_batch = 1;
  uint64_t invalid_serial = 0;
  bool ran = false;
};

Simulator::Simulator(SimOptions options, Advertiser advertiser)
    : options_(std::move(options)), advertiser_(std::move(advertiser)), impl_(new Impl) {}

Simulator::~Simulator() = default;

StatusOr<std::unique_ptr<Simulator>> Simulator::Create(SimOptions options) {
  const Scenario& s = options.scenario;
  if (options.users <= 0) options.users = s.users;
  if (options.days <= 0) options.days = s.days;
  if (options.campaigns <= 0) options.campaigns = s.campaigns;
  if (options.campaigns > 99) return InvalidArgument("campaigns", ": at most 99");
  if (options.days > 3650) return InvalidArgument("days", ": at most 3650");
  if (options.end_ms <= int64_t{options.days} * kDayMs)
    return InvalidArgument("end", ": must be a time after 1970 + days");
  if (options.pixel_id.empty()) return InvalidArgument("pixel_id", ": required");
  auto adv = BuildAdvertiser(s, options.seed, options.campaigns);
  if (!adv.ok()) return adv.status();
  std::unique_ptr<Simulator> sim(new Simulator(std::move(options), std::move(*adv)));
  sim->start_ms_ = sim->options_.end_ms - int64_t{sim->options_.days} * kDayMs;
  Impl& impl = *sim->impl_;
  impl.ctx = MakeJourneyContext(sim->options_.scenario, sim->advertiser_, sim->options_.seed,
                                sim->start_ms_, sim->options_.end_ms);
  impl.days_in_ledger = (sim->options_.end_ms - 1) / kDayMs - impl.ctx.first_day + 1;
  impl.impressions.assign(static_cast<size_t>(impl.days_in_ledger) * sim->advertiser_.ads.size(),
                          0);
  impl.ctx.impressions = &impl.impressions;
  return sim;
}

Status Simulator::Run(DeliverySink& sink, const std::function<void(uint64_t)>& on_block) {
  Impl& impl = *impl_;
  if (impl.ran) return Internal("Simulator::Run: already ran");
  impl.ran = true;
  TP_RETURN_IF_ERROR(sink.Begin(*this));
  const Mess& mess = options_.scenario.mess;
  const uint64_t users = static_cast<uint64_t>(options_.users);
  // One invalid event after a valid one with probability q makes invalid/(all) = share.
  const double q = mess.invalid_share >= 1 ? 1 : mess.invalid_share / (1 - mess.invalid_share);
  // Invalid site events follow site events and invalid ad events ad events, so each stream
  // carries about the same share of them.
  std::vector<double> site_kinds, ad_kinds;
  for (const auto& k : kInvalidKinds) {
    site_kinds.push_back(k.channel == Channel::kAdEvents ? 0 : k.weight);
    ad_kinds.push_back(k.channel == Channel::kAdEvents ? k.weight : 0);
  }
  totals_.users = users;

  for (uint64_t block = 0, lo = 0; lo < users; ++block, lo += kBlockUsers) {
    uint64_t hi = std::min(users, lo + kBlockUsers);
    BlockOutput out;
    for (uint64_t u = lo; u < hi; ++u) {
      User user = MakeUser(options_.seed, u, options_.scenario.rates.impressions_per_user_day,
                           options_.scenario.rates.organic_visits_per_user_day,
                           mess.pixel_blocked_browsers);
      SimulateUser(impl.ctx, user, out);
    }
    std::sort(out.records.begin(), out.records.end(), [](const Record& a, const Record& b) {
      return a.arrival_ms != b.arrival_ms ? a.arrival_ms < b.arrival_ms : a.order < b.order;
    });

    Rng rng(DeriveSeed(options_.seed, "block", block));
    // Open batches: Events API, pixel, ad events, and the misconfigured site's.
    Batch open[4];
    const size_t limits[4] = {kEventsApiBatch, kPixelBatch, kAdBatch, kEventsApiBatch};
    for (int k = 0; k < 4; ++k) {
      open[k].channel = k == 3 ? Channel::kEventsApi : static_cast<Channel>(k);
      open[k].pixel_id = k == 3 ? kUnknownPixelId : (k == 2 ? "" : options_.pixel_id);
    }
    auto deliver = [&](const Batch& b) -> Status {
      totals_.batches++;
      totals_.events += b.events.size();
      totals_.events_by_channel[ChannelName(b.channel)] += b.events.size();
      if (b.retry) totals_.retried_events += b.events.size();
      for (const auto& e : b.expected_error) {
        if (e.empty()) continue;
        totals_.invalid_events++;
        totals_.expected_rejections[e]++;
      }
      return sink.Deliver(b);
    };
    auto flush = [&](int k) -> Status {
      Batch& b = open[k];
      if (b.events.empty()) return OkStatus();
      b.number = impl.next_batch++;
      TP_RETURN_IF_ERROR(deliver(b));
      // A timeout after the server committed: the sender retries the very same batch.
      if (k == 0 && rng.Bernoulli(mess.retried_batches)) {
        b.retry = true;
        TP_RETURN_IF_ERROR(deliver(b));
      }
      b.retry = false;
      b.has_invalid = false;
      b.events.clear();
      b.event_times_ms.clear();
      b.expected_error.clear();
      return OkStatus();
    };
    int64_t server_batch_opened = 0;  // arrival of the open Events API batch's first event
    auto add = [&](int k, std::string json, int64_t time_ms, int64_t arrival_ms,
                   std::string error) -> Status {
      Batch& b = open[k];
      if (k == 0 && b.events.empty()) server_batch_opened = arrival_ms;
      b.has_invalid |= !error.empty();
      b.events.push_back(std::move(json));
      b.event_times_ms.push_back(time_ms);
      b.expected_error.push_back(std::move(error));
      return b.events.size() >= limits[k] ? flush(k) : OkStatus();
    };
    for (auto& rec : out.records) {
      int64_t t = rec.event_time_ms;
      if (rec.channel == Channel::kEventsApi && !open[0].events.empty() &&
          rec.arrival_ms - server_batch_opened > kEventsApiBatchSpanMs)
        TP_RETURN_IF_ERROR(flush(0));
      TP_RETURN_IF_ERROR(
          add(static_cast<int>(rec.channel), std::move(rec.json), t, rec.arrival_ms, ""));
      if (q > 0 && rng.Bernoulli(q)) {
        bool ad = rec.channel == Channel::kAdEvents;
        const InvalidKind& kind = kInvalidKinds[rng.Weighted(ad ? ad_kinds : site_kinds)];
        int k = kind.unknown_pixel ? 3 : static_cast<int>(kind.channel);
        std::string json = InvalidEventJson(kind, rng, t, options_.end_ms,
                                            advertiser_.ads.front().ad_id, ++impl.invalid_serial);
        TP_RETURN_IF_ERROR(add(k, std::move(json), t, rec.arrival_ms,
                               kind.unknown_pixel ? UnknownPixelReason() : kind.reason));
      }
    }
    for (int k = 0; k < 4; ++k) TP_RETURN_IF_ERROR(flush(k));

    std::sort(out.truth.begin(), out.truth.end(), [](const TruthRecord& a, const TruthRecord& b) {
      return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.order < b.order;
    });
    std::vector<std::string> lines;
    lines.reserve(out.truth.size());
    for (auto& tr : out.truth) {
      if (tr.primary) totals_.conversions_by_touch[tr.touch]++;
      totals_.conversions_by_event[tr.event]++;
      lines.push_back(std::move(tr.json));
    }
    TP_RETURN_IF_ERROR(sink.Conversions(lines));
    if (on_block) on_block(hi);
  }
  return sink.Finish(*this);
}

std::vector<SpendRow> Simulator::Spend() const {
  std::vector<SpendRow> rows;
  const size_t n_ads = advertiser_.ads.size();
  for (int64_t d = 0; d < impl_->days_in_ledger; ++d) {
    int64_t day = impl_->ctx.first_day + d;
    for (size_t a = 0; a < n_ads; ++a) {
      uint32_t imps = impl_->impressions[static_cast<size_t>(d) * n_ads + a];
      if (imps == 0) continue;
      Rng rng(DeriveSeed(options_.seed, "spend", static_cast<uint64_t>(day) * 1000 + a));
      double cpm = advertiser_.ads[a].cpm * rng.Uniform(0.9, 1.1);
      SpendRow row;
      row.day_ms = day * kDayMs;
      row.ad_id = advertiser_.ads[a].ad_id;
      row.spend = std::round(imps * cpm / 1000 * 100) / 100;
      row.currency = "USD";
      rows.push_back(std::move(row));
    }
  }
  return rows;
}

std::string Simulator::TruthHead() const {
  const Scenario& s = options_.scenario;
  int64_t short_max_ms = 15000;
  for (const auto& e : s.effects)
    if (auto* v = std::get_if<VideoLengthCompletion>(&e)) short_max_ms = v->short_max_ms;
  std::string out;
  JsonWriter w(out);
  w.BeginObject().Key("scenario").String(s.name).Key("description").String(s.description);
  w.Key("seed").Int(static_cast<int64_t>(options_.seed)).Key("users").Int(options_.users);
  w.Key("days").Int(options_.days).Key("campaigns").Int(options_.campaigns);
  w.Key("start").Int(start_ms_ / 1000).Key("end").Int(options_.end_ms / 1000);
  w.Key("pixel_id").String(options_.pixel_id);
  w.Key("rates");
  WriteRates(w, s.rates);
  w.Key("mess");
  WriteMess(w, s.mess);
  out += ",\n\"ads\":[\n";
  bool first = true;
  for (const auto& ad : advertiser_.ads) {
    if (!first) out += ",\n";
    first = false;
    const Campaign& c = catalog().campaigns[ad.campaign];
    JsonWriter a(out);
    a.BeginObject().Key("ad_id").String(ad.ad_id).Key("campaign_id").String(c.campaign_id);
    a.Key("adgroup_id").String(c.adgroups[ad.adgroup].adgroup_id);
    a.Key("objective").String(ObjectiveName(ad.objective)).Key("style").String(ad.style);
    a.Key("format").String(ad.video ? "video" : "image").Key("video_ms").Int(ad.video_ms);
    a.Key("length");
    if (ad.video)
      a.String(ad.video_ms <= short_max_ms ? "short" : "long");
    else
      a.Null();
    a.Key("ctr").Double(ad.ctr).Key("cvr_per_click").Double(ad.cvr_per_click);
    a.Key("completion");
    if (ad.video)
      a.Double(ad.completion);
    else
      a.Null();
    a.Key("broken_landing").Bool(ad.broken_landing).EndObject();
  }
  out += "],\n\"effects\":[\n";
  first = true;
  auto next = [&] {
    if (!first) out += ",\n";
    first = false;
  };
  for (const auto& effect : s.effects) {
    if (auto* e = std::get_if<BrokenLanding>(&effect)) {
      next();
      JsonWriter x(out);
      x.BeginObject().Key("effect").String("broken_landing").Key("ad_id").String(e->ad_id);
      x.Key("ctr").Double(e->ctr).Key("purchase_per_click").Double(e->purchase_per_click);
      x.Key("peer_ctr").Double(s.rates.ctr);
      x.Key("peer_purchase_per_click").Double(s.rates.purchase_per_click).EndObject();
    } else if (auto* e = std::get_if<StyleByAge>(&effect)) {
      for (const auto& [age, ratio] : e->cvr_ratio_by_age) {
        next();
        JsonWriter x(out);
        x.BeginObject().Key("effect").String("style_by_age").Key("tag").String(e->tag);
        x.Key("vs").String(e->vs).Key("segment").BeginObject().Key("age").String(age).EndObject();
        x.Key("metric").String("conversions per click or view-through visit");
        x.Key("cvr_ratio").Double(ratio).EndObject();
      }
    } else if (auto* e = std::get_if<VideoLengthCompletion>(&effect)) {
      next();
      JsonWriter x(out);
      x.BeginObject().Key("effect").String("video_length_completion");
      x.Key("short_max_ms").Int(e->short_max_ms);
      x.Key("short_completion").Double(e->short_completion);
      x.Key("long_completion").Double(e->long_completion).EndObject();
    } else if (auto* e = std::get_if<RegionCvr>(&effect)) {
      next();
      JsonWriter x(out);
      x.BeginObject().Key("effect").String("region_cvr").Key("region").String(e->region);
      x.Key("cvr_ratio").Double(e->cvr_ratio);
      x.Key("metric").String("every conversion probability (click, view-through, organic)");
      x.EndObject();
    }
  }
  out += "],\n\"conversions\":[\n";
  return out;
}

std::string Simulator::TruthTail() const {
  std::string out = "],\n\"totals\":";
  JsonWriter w(out);
  w.BeginObject().Key("users").Int(static_cast<int64_t>(totals_.users));
  w.Key("batches").Int(static_cast<int64_t>(totals_.batches));
  w.Key("events").Int(static_cast<int64_t>(totals_.events));
  w.Key("events_by_channel");
  WriteCounts(w, totals_.events_by_channel);
  w.Key("retried_events").Int(static_cast<int64_t>(totals_.retried_events));
  w.Key("invalid_events").Int(static_cast<int64_t>(totals_.invalid_events));
  w.Key("expected_rejections");
  WriteCounts(w, totals_.expected_rejections);
  w.Key("conversions_by_touch");
  WriteCounts(w, totals_.conversions_by_touch);
  w.Key("conversions_by_event");
  WriteCounts(w, totals_.conversions_by_event);
  w.EndObject();
  out += "}\n";
  return out;
}

}  // namespace touchpoint::sim
