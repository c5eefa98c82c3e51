// `touchpoint simulate` as a process: byte-identical output, scenario files, bulk load.

#include <gtest/gtest.h>
#include <simdjson.h>

#include "child_process.h"
#include "sim_test_support.h"
#include "store/event_store.h"

namespace touchpoint::sim {
namespace {

using testing::ReadFile;
using testing::TempDir;
using testing::TouchpointBinary;

constexpr const char* kFiles[] = {"catalog.json", "spend.csv", "site_events.ndjson",
                                  "ad_events.ndjson", "truth.json"};

std::vector<std::string> Simulate(const std::string& bin, std::vector<std::string> extra,
                                  const char* users = "400", const char* days = "5") {
  std::vector<std::string> argv = {bin,  "simulate", "--users",    users,    "--days",
                                   days, "--end",    "2024-06-01", "--quiet"};
  argv.insert(argv.end(), extra.begin(), extra.end());
  return argv;
}

TEST(SimulateCommand, SameSeedAndScenarioGiveByteIdenticalFiles) {
  std::string bin = TouchpointBinary();
  if (bin.empty()) GTEST_SKIP() << "TP_BINARY not set";
  TempDir d;
  ASSERT_EQ(testing::Run(Simulate(bin, {"--out", d / "a", "--seed", "3"}), d / "log"), 0)
      << ReadFile(d / "log");
  ASSERT_EQ(testing::Run(Simulate(bin, {"--out", d / "b", "--seed", "3"}), d / "log"), 0)
      << ReadFile(d / "log");
  ASSERT_EQ(testing::Run(Simulate(bin, {"--out", d / "c", "--seed", "4"}), d / "log"), 0)
      << ReadFile(d / "log");
  const char* src = std::getenv("TP_SOURCE_DIR");
  ASSERT_NE(src, nullptr);
  ASSERT_EQ(testing::Run(Simulate(bin, {"--out", d / "f", "--seed", "3", "--scenario",
                                        std::string(src) + "/scenarios/demo.json"}),
                         d / "log"),
            0)
      << ReadFile(d / "log");
  for (const char* f : kFiles) {
    std::string a = ReadFile(d / (std::string("a/") + f));
    EXPECT_FALSE(a.empty()) << f;
    EXPECT_TRUE(a == ReadFile(d / (std::string("b/") + f))) << f << ": same seed, different bytes";
    EXPECT_TRUE(a == ReadFile(d / (std::string("f/") + f)))
        << f << ": scenarios/demo.json differs from the built-in demo";
  }
  EXPECT_NE(ReadFile(d / "a/site_events.ndjson"), ReadFile(d / "c/site_events.ndjson"));
}

TEST(SimulateCommand, RefusesToRunWithoutADestination) {
  std::string bin = TouchpointBinary();
  if (bin.empty()) GTEST_SKIP() << "TP_BINARY not set";
  TempDir d;
  EXPECT_EQ(testing::Run({bin, "simulate", "--users", "10"}, d / "log"), 2);
  EXPECT_NE(ReadFile(d / "log").find("--out DIR, --to-data DIR and/or --to-server URL"),
            std::string::npos);
}

TEST(SimulateCommand, BulkLoadStoresWhatTheTruthSaysAndRejectsTheInvalidOnes) {
  std::string bin = TouchpointBinary();
  if (bin.empty()) GTEST_SKIP() << "TP_BINARY not set";
  TempDir d;
  ASSERT_EQ(
      testing::Run(Simulate(bin, {"--to-data", d / "data", "--out", d / "files"}, "2000", "7"),
                   d / "log"),
      0)
      << ReadFile(d / "log");
  std::string log = ReadFile(d / "log");
  simdjson::dom::parser parser;
  simdjson::dom::element truth = parser.parse(ReadFile(d / "files/truth.json")).value();
  int64_t invalid = truth["totals"]["invalid_events"].get_int64().value();
  EXPECT_NE(log.find("rejected   " + std::to_string(invalid) + " "), std::string::npos) << log;

  ManualClock clock(1717200000000);
  store::StoreOptions opts;
  opts.data_dir = d / "data";
  opts.synchronous_full = false;
  auto store = store::EventStore::Open(opts, &clock);
  ASSERT_TRUE(store.ok()) << store.status().message();
  auto pixels = (*store)->ListPixels();
  ASSERT_EQ(pixels.size(), 1u);
  EXPECT_EQ(pixels[0].name, "demo");
  EXPECT_EQ((*store)->GetCatalog()->AdCount(), 27u);
  auto spend = (*store)->GetSpend();
  ASSERT_TRUE(spend.ok());
  EXPECT_FALSE(spend->empty());
  // Each purchase stored once per distinct event_id: pixel and server copies sharing one merge.
  std::map<std::string, int> purchases;
  size_t stored_purchases = 0;
  simdjson::dom::parser line_parser;  // `truth` lives in `parser`
  Status st = (*store)->Export(store::ExportQuery{.pixel_id = pixels[0].pixel_id},
                               [&](std::string_view line) {
                                 simdjson::dom::element e = line_parser.parse(line).value();
                                 if (e["event"].get_string().value() == "CompletePayment") {
                                   purchases[std::string(e["event_id"].get_string().value())]++;
                                   ++stored_purchases;
                                 }
                                 return true;
                               });
  ASSERT_TRUE(st.ok()) << st.message();
  for (const auto& [id, n] : purchases) EXPECT_EQ(n, 1) << id;
  size_t expected = 0;
  for (simdjson::dom::element c : truth["conversions"].get_array()) {
    if (c["event"].get_string().value() != "CompletePayment") continue;
    bool twice = c["copies"].get_string().value() == "pixel+server" &&
                 !c["shared_event_id"].get_bool().value();
    expected += twice ? 2 : 1;
  }
  EXPECT_GT(expected, 10u);
  EXPECT_EQ(stored_purchases, expected);
}

}  // namespace
}  // namespace touchpoint::sim
