// The simulator's ground truth against the report engine: for conversions whose true cause is
// unambiguous — a click, the only click by that person in the 7 days before, with the purchase
// made in the browser that landed — the last-touch report of a live server, fed through its real
// endpoints, credits exactly the true ad.
#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>
#include <set>
#include <unordered_map>

#include "child_process.h"
#include "format/catalog_file.h"
#include "ingest/ad_events.h"
#include "ingest/events_api.h"
#include "server/http_client.h"
#include "sim/simulator.h"
#include "sim_test_support.h"
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
  std::set<std::string> keep_ids;       // event ids / order ids of the unambiguous conversions
  std::map<std::string, int> expected;  // ad -> unambiguous conversions
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
      in_window +=
          same_person(c, it->second) && c.time_ms <= conv_ms && conv_ms - c.time_ms <= 7 * kDayMs;
    if (in_window != 1) continue;
    if (!t["event_id"].get(event_id)) keep_ids.insert(std::string(event_id));
    if (!t["pixel_event_id"].get(pixel_event_id)) keep_ids.insert(std::string(pixel_event_id));
    expected[std::string(ad_id)]++;
  }
  int total_expected = 0;
  for (auto& [ad, n] : expected) total_expected += n;
  ASSERT_GE(total_expected, 30) << "too few unambiguous conversions for a meaningful test";

  // Send the world through a live server's real endpoints, keeping of the conversions only the
  // unambiguous ones; then ask its report API.
  const std::string conversion_events = "CompletePayment,SubmitForm,CompleteRegistration";
  auto is_conversion = [&](std::string_view name) {
    return name == "CompletePayment" || name == "SubmitForm" || name == "CompleteRegistration";
  };
  sim::testing::TempDir dir;
  ASSERT_FALSE(sim::testing::TouchpointBinary().empty()) << "TP_BINARY is not set";
  sim::testing::ChildProcess server(
      {sim::testing::TouchpointBinary(), "serve", "--data", dir / "data", "--listen", "127.0.0.1:0",
       "--port-file", dir / "port", "--admin-token", "truth-admin", "--max-event-age-days", "90",
       "--no-fsync"},
      dir / "server.log");
  std::string port = sim::testing::WaitForFile(dir / "port", std::chrono::seconds(30));
  ASSERT_FALSE(port.empty()) << "server did not start";
  server::HttpClient http("http://127.0.0.1:" + port);
  const std::vector<std::pair<std::string, std::string>> admin = {
      {"Authorization", "Bearer truth-admin"}};
  auto px = http.Request("POST", "/api/v1/pixels", R"({"name":"truth"})", admin);
  ASSERT_TRUE(px.ok() && px->status == 201);
  simdjson::dom::element pj;
  ASSERT_FALSE(parser.parse(px->body).get(pj));
  std::string pixel_id(pj["pixel_id"].get_string().value());
  std::string token(pj["access_token"].get_string().value());
  auto cat =
      http.Request("PUT", "/api/v1/catalog", format::CatalogToJson((*simulator)->catalog()), admin);
  ASSERT_EQ(cat->status, 200) << cat->body;
  size_t kept_conversions = 0;
  for (const auto& batch : rec.batches) {
    if (batch.channel == sim::Channel::kAdEvents) {
      auto r = http.Request("POST", "/api/v1/ad-events", batch.Body(), admin);
      ASSERT_TRUE(r.ok());
      continue;
    }
    if (batch.unknown_pixel()) continue;
    std::string data;
    for (const auto& ev : batch.events) {
      simdjson::dom::element e;
      std::string_view name, id, order;
      if (!parser.parse(ev).get(e) && !e["event"].get(name) && is_conversion(name)) {
        bool keep = (!e["event_id"].get(id) && keep_ids.count(std::string(id))) ||
                    (!e["properties"]["order_id"].get(order) && keep_ids.count(std::string(order)));
        if (!keep) continue;
        ++kept_conversions;
      }
      data += (data.empty() ? "" : ",") + ev;
    }
    if (data.empty()) continue;
    auto r = http.Request(
        "POST", "/api/v1/events",
        R"({"event_source":"web","event_source_id":")" + pixel_id + R"(","data":[)" + data + "]}",
        {{"Access-Token", token}});
    ASSERT_TRUE(r.ok());
  }
  ASSERT_GT(kept_conversions, 0u);
  auto from = std::to_string((opts.end_ms - (opts.days + 1) * kDayMs) / 1000);
  auto to = std::to_string((opts.end_ms + kDayMs) / 1000);
  auto rep = http.Request("GET",
                          "/api/v1/report?from=" + from + "&to=" + to +
                              "&dimensions=ad&events=" + conversion_events +
                              "&model=last_touch&click_window=7&view_window=0&basis=real_time"
                              "&metrics=conversions_click,conversions&sort=ad",
                          "", admin);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->status, 200) << rep->body;
  simdjson::dom::element rj;
  ASSERT_FALSE(parser.parse(rep->body).get(rj));
  std::map<std::string, int> got;
  simdjson::dom::array rows;
  ASSERT_FALSE(rj["rows"].get_array().get(rows));
  for (simdjson::dom::element row : rows) {
    double n = row["metrics"]["conversions_click"].get_double().value();
    if (row["metrics"]["conversions"].get_double().value() > 0)
      got[std::string(row["dimensions"]["ad"].get_string().value())] = static_cast<int>(n + 0.5);
  }
  EXPECT_EQ(got, expected);
  EXPECT_EQ(rj["unattributed_conversions"].get_double().value(), 0);
  server.Signal(SIGTERM);
  EXPECT_EQ(server.Wait(), 0);
  std::printf("unambiguous conversions checked: %d over %zu ads\n", total_expected,
              expected.size());
}

}  // namespace
}  // namespace touchpoint
