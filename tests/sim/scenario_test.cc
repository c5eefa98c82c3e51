#include "sim/scenario.h"

#include <gtest/gtest.h>

#include <cstdlib>

#include "sim_test_support.h"

namespace touchpoint::sim {
namespace {

using testing::ReadFile;

std::string SourceDir() {
  const char* dir = std::getenv("TP_SOURCE_DIR");
  return dir ? dir : ".";
}

TEST(Scenario, BuiltinsAreTheFilesInScenariosByteForByte) {
  for (const char* name : {"demo", "null"}) {
    std::string file = ReadFile(SourceDir() + "/scenarios/" + name + ".json");
    ASSERT_FALSE(file.empty()) << "scenarios/" << name << ".json not found (TP_SOURCE_DIR)";
    EXPECT_EQ(file, BuiltinScenarioJson(name)) << name;
  }
}

TEST(Scenario, DemoPlantsFourEffectsAndNullNone) {
  auto demo = LoadScenario("demo");
  ASSERT_TRUE(demo.ok()) << demo.status().message();
  EXPECT_EQ(demo->name, "demo");
  ASSERT_EQ(demo->effects.size(), 4u);
  auto* broken = std::get_if<BrokenLanding>(&demo->effects[0]);
  ASSERT_NE(broken, nullptr);
  EXPECT_EQ(broken->ad_id, "ad-01-1-3");
  EXPECT_DOUBLE_EQ(broken->ctr, 0.04);
  EXPECT_DOUBLE_EQ(broken->purchase_per_click, 0.002);
  auto* style = std::get_if<StyleByAge>(&demo->effects[1]);
  ASSERT_NE(style, nullptr);
  EXPECT_DOUBLE_EQ(style->cvr_ratio_by_age.at("18-24"), 1.8);
  EXPECT_DOUBLE_EQ(style->cvr_ratio_by_age.at("55+"), 1.0);
  auto null = LoadScenario("null");
  ASSERT_TRUE(null.ok()) << null.status().message();
  EXPECT_TRUE(null->effects.empty());
  // Everything else is the same world.
  EXPECT_EQ(null->rates, demo->rates);
  EXPECT_EQ(null->mess, demo->mess);
}

TEST(Scenario, LoadsAFileLikeTheBuiltin) {
  auto from_file = LoadScenario(SourceDir() + "/scenarios/demo.json");
  auto builtin = LoadScenario("demo");
  ASSERT_TRUE(from_file.ok()) << from_file.status().message();
  EXPECT_EQ(*from_file, *builtin);
}

TEST(Scenario, UnknownKeyIsAnErrorNamingIt) {
  auto s = ParseScenario(R"({"name":"x","rates":{"ctr":0.01,"crt":0.02}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "rates.crt: unknown key");
}

TEST(Scenario, UnknownEffectIsAnError) {
  auto s = ParseScenario(R"({"name":"x","effects":[{"effect":"moon_phase"}]})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("effects[0].effect: unknown effect 'moon_phase'"),
            std::string::npos)
      << s.status().message();
}

TEST(Scenario, ProbabilityOutOfRangeIsAnError) {
  auto s = ParseScenario(R"({"name":"x","mess":{"invalid_share":1.5}})");
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.status().message(), "mess.invalid_share: must be between 0 and 1");
}

TEST(Scenario, BadAgeBucketIsAnError) {
  auto s = ParseScenario(
      R"({"name":"x","effects":[{"effect":"style_by_age","tag":"humor","cvr_ratio_by_age":{"18-25":2}}]})");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("effects[0].cvr_ratio_by_age.18-25: not an age bucket"),
            std::string::npos)
      << s.status().message();
}

TEST(Scenario, MissingFileSaysWhatWasTried) {
  auto s = LoadScenario("/nonexistent/scenario.json");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.status().message().find("neither a built-in scenario"), std::string::npos);
}

TEST(Scenario, EffectOnAnAdThatDoesNotExistFailsToBuild) {
  auto s = LoadScenario("demo");
  SimOptions o;
  o.scenario = *s;
  std::get<BrokenLanding>(o.scenario.effects[0]).ad_id = "ad-09-1-1";
  o.campaigns = 3;
  o.end_ms = testing::kEndMs;
  auto sim = Simulator::Create(o);
  ASSERT_FALSE(sim.ok());
  EXPECT_NE(sim.status().message().find("no ad ad-09-1-1"), std::string::npos)
      << sim.status().message();
}

}  // namespace
}  // namespace touchpoint::sim
