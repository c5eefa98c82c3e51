// The simulator's ground truth against the report engine: for conversions whose true cause is
// unambiguous — a click, the only click by that person in the 7 days before, with the purchase
// made in the browser that landed — last-touch attribution credits exactly the true ad.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <unordered_map>

#include "ingest/ad_events.h"
#include "ingest/events_api.h"
#include "query/dataset.h"
#include "query/report.h"
#include "sim/simulator.h"
#include "store/dedup_index.h"

namespace touchpoint {
namespace {

struct Click {
  std::string user_key, ad_id, email, phone;
  int64_t time_ms;
};

// Records the world: ad clicks, site batches and the truth.
class RecordingSink final : public sim::DeliverySink {
 public:
  Status Begin(const sim::Simulator&) override { return OkStatus(); }
  Status Deliver(const sim::Batch& batch) override {
    batches.push_back(batch);
    if (batch.channel != sim::Channel::kAdEvents) return OkStatus();
    for (const auto& line : batch.events) {
      simdjson::dom::element e;
      if (parser.parse(line).get(e)) continue;
      std::string_view type, id;
      if (e["type"].get(type) || type != "click" || e["click_id"].get(id)) continue;
      Click c;
      std::string_view s;
      if (!e["user_key"].get(s)) c.user_key = s;
      if (!e["ad_id"].get(s)) c.ad_id = s;
      if (!e["email"].get(s)) c.email = s;
      if (!e["phone"].get(s)) c.phone = s;
      double t = 0;
      if (e["event_time"].get(t)) continue;
      c.time_ms = static_cast<int64_t>(t * 1000 + 0.5);
      clicks[std::string(id)] = c;
    }
    return OkStatus();
  }
  Status Conversions(const std::vector<std::string>& lines) override {
    truth.insert(truth.end(), lines.begin(), lines.end());
    return OkStatus();
  }
  Status Finish(const sim::Simulator&) override { return OkStatus(); }

  simdjson::dom::parser parser;
  std::vector<sim::Batch> batches;
  std::unordered_map<std::string, Click> clicks;  // by click id
  std::vector<std::string> truth;
};

TEST(SimulatedTruth, LastTouchCreditsTheTrueAdWhenTheCauseIsUnambiguous) {
  auto scenario = sim::LoadScenario("demo");
  ASSERT_TRUE(scenario.ok());
  sim::SimOptions opts;
  opts.scenario = *scenario;
  opts.seed = 11;
  opts.users = 4000;
  opts.days = 14;
  opts.end_ms = 1795000000000;
  auto simulator = sim::Simulator::Create(opts);
  ASSERT_TRUE(simulator.ok()) << simulator.status().message();
  RecordingSink rec;
  ASSERT_TRUE((*simulator)->Run(rec).ok());

  // A person's clicks: the same platform user key, or the same hashed email / phone.
  auto same_person = [](const Click& a, const Click& b) {
    return a.user_key == b.user_key || (!a.email.empty() && a.email == b.email) ||
           (!a.phone.empty() && a.phone == b.phone);
  };
  std::set<std::string> keep_ids;          // event ids / order ids of the unambiguous conversions
  std::map<std::string, int> expected;     // ad -> unambiguous conversions
  simdjson::dom::parser parser;
  for (const auto& line : rec.truth) {
    simdjson::dom::element t;
    ASSERT_FALSE(parser.parse(line).get(t));
    std::string_view touch, path, copies, click_id, ad_id, event_id, pixel_event_id;
    bool shared = false;
    int64_t time_s = 0;
    if (t["touch"].get(touch) || touch != "click") continue;
    if (t["path"].get(path) || (path != "same_session" && path != "same_browser")) continue;
    if (!t["copies"].get(copies) && copies == "pixel+server" &&
        (t["shared_event_id"].get(shared) || !shared))
      continue;  // two unshared copies are two conversions, by design
    if (t["click_id"].get(click_id) || t["ad_id"].get(ad_id) || t["time"].get(time_s)) continue;
    auto it = rec.clicks.find(std::string(click_id));
    ASSERT_NE(it, rec.clicks.end()) << "the truth names a click that was never logged";
    const int64_t conv_ms = time_s * 1000;
    int in_window = 0;
    for (const auto& [id, c] : rec.clicks)
      in_window += same_person(c, it->second) && c.time_ms <= conv_ms && conv_ms - c.time_ms <= 7 * kDayMs;
    if (in_window != 1) continue;
    if (!t["event_id"].get(event_id)) keep_ids.insert(std::string(event_id));
    if (!t["pixel_event_id"].get(pixel_event_id)) keep_ids.insert(std::string(pixel_event_id));
    expected[std::string(ad_id)]++;
  }
  int total_expected = 0;
  for (auto& [ad, n] : expected) total_expected += n;
  ASSERT_GE(total_expected, 30) << "too few unambiguous conversions for a meaningful test";

  // Load the world as the server would (same parsers, same dedup), keeping of the conversions
  // only the unambiguous ones.
  const std::vector<std::string> conversion_events = {"CompletePayment", "SubmitForm", "CompleteRegistration"};
  auto is_conversion = [&](std::string_view name) {
    for (const auto& c : conversion_events) if (c == name) return true;
    return false;
  };
  query::Dataset data;
  data.SetCatalog(std::make_shared<Catalog>((*simulator)->catalog()));
  ingest::ParseContext ctx;
  ctx.now_ms = opts.end_ms;
  ctx.limits.max_event_age_ms = (opts.days + 2) * kDayMs;
  std::unordered_map<std::string, uint64_t> seen;
  uint64_t seq = 0;
  for (const auto& batch : rec.batches) {
    std::string body = batch.Body();
    if (batch.channel == sim::Channel::kAdEvents) {
      auto parsed = ingest::ParseAdEvents(body, ctx);
      if (!parsed.ok()) continue;
      for (auto& e : *parsed) {
        if (!e.status.ok()) continue;
        std::string key = store::AdDedupKey(*e.event);
        if (!key.empty() && !seen.emplace(key, seq + 1).second) continue;
        data.Append(++seq, std::move(*e.event));
      }
      continue;
    }
    if (batch.unknown_pixel()) continue;
    auto parsed = ingest::ParseEventsApi2(body, ctx);
    if (!parsed.ok()) continue;
    for (auto& e : parsed->events) {
      if (!e.status.ok()) continue;
      SiteEvent& ev = *e.event;
      if (is_conversion(ev.event) && !keep_ids.count(ev.event_id) && !keep_ids.count(ev.order_id))
        continue;
      std::string key = store::SiteDedupKey(ev);
      if (!key.empty()) {
        auto [it, inserted] = seen.emplace(key, seq + 1);
        if (!inserted) {
          data.LinkMerged(it->second, ev);
          continue;
        }
      }
      data.Append(++seq, std::move(ev));
    }
  }
  data.Cluster();
  query::ReportQuery q;
  q.dims = {query::Dim::kAd};
  q.from_ms = opts.end_ms - (opts.days + 1) * kDayMs;
  q.to_ms = opts.end_ms + kDayMs;
  q.events = conversion_events;
  q.model = "last_touch";
  q.click_window_days = 7;
  q.view_window_days = 0;
  q.basis = query::Basis::kConversion;
  auto r = query::RunReport(data, q);
  ASSERT_TRUE(r.ok()) << r.status().message();
  std::map<std::string, int> got;
  for (const auto& row : r->rows)
    if (row.metrics.conversions() > 0) got[row.dims[0]] = static_cast<int>(row.metrics.conversions_click + 0.5);
  EXPECT_EQ(got, expected);
  EXPECT_EQ(r->unattributed_conversions, 0);
  std::printf("unambiguous conversions checked: %d over %zu ads\n", total_expected, expected.size());
}

}  // namespace
}  // namespace touchpoint
