// End to end: a real `touchpoint serve` process, the simulator sending through its endpoints.
// Every sent event is accounted for (accepted + duplicate + rejected = sent), the planted invalid
// events are rejected with exactly the reasons the truth announces, and each purchase is stored
// once per distinct event_id, however many copies and retries were sent.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <map>

#include "child_process.h"
#include "server/http_client.h"
#include "sim/http_sender.h"
#include "sim_test_support.h"

namespace touchpoint::sim {
namespace {

using testing::ReadFile;
using testing::RecordingSink;
using testing::TempDir;

constexpr const char* kAdmin = "e2e-admin-token";

class LiveServer {
 public:
  explicit LiveServer(const TempDir& dir)
      : process_({testing::TouchpointBinary(), "serve", "--data", dir / "data", "--listen",
                  "127.0.0.1:0", "--port-file", dir / "port", "--admin-token", kAdmin,
                  "--max-event-age-days", "60", "--no-fsync"},
                 dir / "server.log") {
    port_ = testing::WaitForFile(dir / "port", std::chrono::seconds(30));
  }
  ~LiveServer() {
    process_.Signal(SIGTERM);
    process_.Wait();
  }
  bool up() const { return process_.started() && !port_.empty(); }
  std::string url() const { return "http://127.0.0.1:" + port_; }

 private:
  testing::ChildProcess process_;
  std::string port_;
};

std::vector<std::string> Export(const std::string& url, const std::string& query) {
  server::HttpClient client(url);
  auto res = client.Request("GET", "/api/v1/export?" + query, "",
                            {{"Authorization", std::string("Bearer ") + kAdmin}});
  EXPECT_TRUE(res.ok()) << res.status().message();
  if (!res.ok()) return {};
  EXPECT_EQ(res->status, 200) << res->body;
  std::vector<std::string> lines;
  size_t pos = 0;
  while (pos < res->body.size()) {
    size_t nl = res->body.find('\n', pos);
    if (nl == std::string::npos) nl = res->body.size();
    if (nl > pos) lines.push_back(res->body.substr(pos, nl - pos));
    pos = nl + 1;
  }
  return lines;
}

TEST(SimulateOverHttp, EverythingSentIsAccountedForAndPurchasesAreStoredOnce) {
  if (testing::TouchpointBinary().empty()) GTEST_SKIP() << "TP_BINARY not set";
  TempDir dir;
  LiveServer server(dir);
  ASSERT_TRUE(server.up()) << ReadFile(dir / "server.log");

  HttpSenderOptions hopts;
  hopts.url = server.url();
  hopts.admin_token = kAdmin;
  auto sender = HttpSender::Connect(hopts);
  ASSERT_TRUE(sender.ok()) << sender.status().message();
  EXPECT_TRUE((*sender)->created_pixel());

  // A week ending now, with more mess than the demo so every kind shows up in a small world.
  SimOptions o = testing::Options("demo", 11, 1500, 7);
  o.end_ms = SystemClock().NowMs() / 1000 * 1000;
  o.scenario.mess.invalid_share = 0.08;
  o.scenario.mess.retried_batches = 0.3;
  o.pixel_id = (*sender)->pixel_id();
  auto sim = Simulator::Create(o);
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  RecordingSink recorded;
  TeeSink tee({sender->get(), &recorded});
  Status st = (*sim)->Run(tee);
  ASSERT_TRUE(st.ok()) << st.message() << "\n" << ReadFile(dir / "server.log");

  const DeliverySummary& s = (*sender)->summary();
  const SimTotals& t = (*sim)->totals();
  EXPECT_EQ(s.sent, t.events);
  EXPECT_EQ(s.accepted + s.duplicate + s.rejected, s.sent) << s.ToText();
  EXPECT_GT(t.retried_events, 0u);
  // Exactly the planted invalid events were rejected, each for the planted reason.
  EXPECT_EQ(s.rejected, t.invalid_events) << s.ToText();
  EXPECT_EQ(s.rejected_by_reason, t.expected_rejections) << s.ToText();
  for (const char* reason :
       {"data[N].event_time: more than 10 minutes in the future",
        "data[N].event_id: must be a string", "event_source_id: unknown pixel TPUNKNOWNSIMPIXEL000",
        "events[N].age: must be one of 13-17, 18-24, 25-34, 35-44, 45-54, 55+"})
    EXPECT_GT(s.rejected_by_reason.count(reason), 0u) << reason << "\n" << s.ToText();
  EXPECT_GT(s.requests.at("/open_api/v1.3/event/track/"), 0u);
  EXPECT_GT(s.requests.at("/api/v1/events"), 0u);
  EXPECT_GT(s.requests.at("/api/v1/ad-events"), 0u);

  // What the server stored: each CompletePayment event_id once; as many purchases as the truth
  // says (a pixel copy with its own event_id cannot be matched to the server's, so it stays).
  auto site = Export(server.url(), "pixel_id=" + (*sender)->pixel_id());
  auto ads = Export(server.url(), "type=ad");
  EXPECT_EQ(site.size() + ads.size(), s.accepted);
  simdjson::dom::parser parser;
  std::map<std::string, int> purchases;
  size_t stored = 0;
  for (const auto& line : site) {
    simdjson::dom::element e = parser.parse(line).value();
    if (e["event"].get_string().value() != "CompletePayment") continue;
    purchases[std::string(e["event_id"].get_string().value())]++;
    ++stored;
  }
  for (const auto& [id, n] : purchases)
    EXPECT_EQ(n, 1) << "purchase " << id << " stored " << n << " times";
  size_t expected = 0;
  for (const auto& line : recorded.truth) {
    simdjson::dom::element c = parser.parse(line).value();
    if (c["event"].get_string().value() != "CompletePayment") continue;
    bool twice = c["copies"].get_string().value() == "pixel+server" &&
                 !c["shared_event_id"].get_bool().value();
    expected += twice ? 2 : 1;
  }
  EXPECT_GT(expected, 2u);
  EXPECT_EQ(stored, expected);
}

TEST(SimulateOverHttp, PixelEventsCanGoThroughTheBeacon) {
  if (testing::TouchpointBinary().empty()) GTEST_SKIP() << "TP_BINARY not set";
  TempDir dir;
  LiveServer server(dir);
  ASSERT_TRUE(server.up()) << ReadFile(dir / "server.log");
  HttpSenderOptions hopts;
  hopts.url = server.url();
  hopts.admin_token = kAdmin;
  hopts.pixel_route = PixelRoute::kBeacon;
  auto sender = HttpSender::Connect(hopts);
  ASSERT_TRUE(sender.ok()) << sender.status().message();
  SimOptions o = testing::Options("demo", 12, 150, 2);
  o.end_ms = SystemClock().NowMs() / 1000 * 1000;
  o.pixel_id = (*sender)->pixel_id();
  auto sim = Simulator::Create(o);
  ASSERT_TRUE(sim.ok());
  ASSERT_TRUE((*sim)->Run(**sender).ok());
  const DeliverySummary& s = (*sender)->summary();
  EXPECT_TRUE(s.Balanced()) << s.ToText();
  EXPECT_EQ(s.requests.at("/api/v1/pixel"), (*sim)->totals().events_by_channel.at("pixel"));
  EXPECT_EQ(s.rejected_by_reason, (*sim)->totals().expected_rejections) << s.ToText();
  // Stored as pixel events, stamped with the server's receive time.
  auto site = Export(server.url(), "pixel_id=" + (*sender)->pixel_id());
  size_t from_pixel = 0;
  simdjson::dom::parser parser;
  for (const auto& line : site)
    from_pixel += parser.parse(line).value()["source"].get_string().value() == "pixel";
  EXPECT_GT(from_pixel, 0u);
}

TEST(SimulateOverHttp, AWrongAdminTokenStopsBeforeSendingAnything) {
  if (testing::TouchpointBinary().empty()) GTEST_SKIP() << "TP_BINARY not set";
  TempDir dir;
  LiveServer server(dir);
  ASSERT_TRUE(server.up());
  HttpSenderOptions hopts;
  hopts.url = server.url();
  hopts.admin_token = "wrong";
  auto sender = HttpSender::Connect(hopts);
  ASSERT_FALSE(sender.ok());
  EXPECT_EQ(sender.status().code(), StatusCode::kUnauthenticated);
}

}  // namespace
}  // namespace touchpoint::sim
