// The simulator's promises: the same inputs give the same bytes; the planted rates are realised
// (within 99% confidence intervals computed here from the scenario, not from the simulator's
// own numbers); the invalid share is there and each invalid event fails the real parsers with
// the reason the truth announces; and the identity links hold the way they would in reality.

#include "sim/simulator.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <cmath>
#include <map>
#include <set>
#include <unordered_map>
#include <unordered_set>

#include "ingest/ad_events.h"
#include "ingest/events_api.h"
#include "sim/file_writer.h"
#include "sim_test_support.h"

namespace touchpoint::sim {
namespace {

using testing::kEndMs;
using testing::Options;
using testing::ReadFile;
using testing::RecordingSink;
using testing::TempDir;

// The string value of "key" in a flat JSON object we wrote ourselves.
std::string_view StringField(std::string_view json, std::string_view key) {
  std::string pat = "\"" + std::string(key) + "\":\"";
  size_t p = json.find(pat);
  if (p == std::string_view::npos) return {};
  p += pat.size();
  return json.substr(p, json.find('"', p) - p);
}

int64_t IntField(std::string_view json, std::string_view key) {
  std::string pat = "\"" + std::string(key) + "\":";
  size_t p = json.find(pat);
  if (p == std::string_view::npos) return -1;
  return std::stoll(std::string(json.substr(p + pat.size(), 20)));
}

// 99% two-sided: |observed - expected| <= 2.576 sd (+0.5 for the discreteness of counts).
void ExpectWithin99(const std::string& what, double observed, double expected, double variance) {
  double bound = 2.576 * std::sqrt(variance) + 0.5;
  EXPECT_LE(std::fabs(observed - expected), bound)
      << what << ": observed " << observed << ", expected " << expected << " +- " << bound;
}

void ExpectBinomial(const std::string& what, double k, double n, double p) {
  ASSERT_GT(n, 0) << what;
  ExpectWithin99(what + " (n=" + std::to_string(static_cast<int64_t>(n)) + ")", k, n * p,
                 n * p * (1 - p));
}

struct ClickInfo {
  std::string ad_id, age, region;
};

// What the test reads back from a simulated world.
struct World {
  const Scenario* scenario = nullptr;
  std::map<std::string, const Ad*> ads;
  std::map<std::string, double> impressions, clicks;
  std::unordered_map<std::string, ClickInfo> click_info;
  double short_plays = 0, short_complete = 0, long_plays = 0, long_complete = 0;
  std::unordered_map<std::string, int> click_conversions;  // click_id -> primary conversions
  std::vector<std::string> truth;

  explicit World(const Simulator& sim, const RecordingSink& sink)
      : scenario(&sim.options().scenario) {
    for (const auto& c : sim.catalog().campaigns)
      for (const auto& g : c.adgroups)
        for (const auto& a : g.ads) ads[a.ad_id] = &a;
    for (const auto& b : sink.batches) {
      if (b.channel != Channel::kAdEvents || b.retry) continue;
      for (const auto& e : b.events) {
        std::string ad(StringField(e, "ad_id"));
        if (!ads.count(ad)) continue;
        std::string_view type = StringField(e, "type");
        std::string age(StringField(e, "age"));
        bool valid_age = age == "13-17" || age == "18-24" || age == "25-34" || age == "35-44" ||
                         age == "45-54" || age == "55+";
        if (!valid_age) continue;
        if (type == "impression") {
          impressions[ad]++;
        } else if (type == "click") {
          clicks[ad]++;
          click_info[std::string(StringField(e, "click_id"))] =
              ClickInfo{ad, age, std::string(StringField(e, "region"))};
        } else if (type == "video_play") {
          int64_t watch = IntField(e, "watch_ms"), video = IntField(e, "video_ms");
          if (watch < 0) continue;
          bool is_short = video <= 15000;
          (is_short ? short_plays : long_plays)++;
          if (watch == video) (is_short ? short_complete : long_complete)++;
        }
      }
    }
    truth = sink.truth;
    simdjson::dom::parser parser;
    for (const auto& line : truth) {
      simdjson::dom::element t = parser.parse(line).value();
      std::string_view touch = t["touch"].get_string().value();
      std::string_view role = t["role"].get_string().value();
      if (touch == "click" && role == "primary")
        click_conversions[std::string(t["click_id"].get_string().value())]++;
    }
  }

  bool HasTag(const std::string& ad, std::string_view tag) const {
    for (const auto& t : ads.at(ad)->creative.tags)
      if (t == tag) return true;
    return false;
  }
  bool IsLead(const std::string& ad) const {
    return ads.at(ad)->landing_url.find("/newsletter") != std::string::npos;
  }

  // The planted probability that this click converts, from the scenario alone.
  double PlantedCvr(const ClickInfo& c) const {
    const Rates& r = scenario->rates;
    double p = IsLead(c.ad_id) ? r.lead_per_click : r.purchase_per_click;
    for (const auto& effect : scenario->effects) {
      if (auto* e = std::get_if<BrokenLanding>(&effect); e && e->ad_id == c.ad_id)
        p = e->purchase_per_click;
    }
    for (const auto& effect : scenario->effects) {
      if (auto* e = std::get_if<StyleByAge>(&effect); e && HasTag(c.ad_id, e->tag)) {
        auto it = e->cvr_ratio_by_age.find(c.age);
        if (it != e->cvr_ratio_by_age.end()) p *= it->second;
      }
      if (auto* e = std::get_if<RegionCvr>(&effect); e && e->region == c.region) p *= e->cvr_ratio;
    }
    return std::min(1.0, p);
  }

  // Conversions per click in a group of clicks, against the sum of their planted rates.
  struct Group {
    double clicks = 0, conversions = 0, expected = 0, variance = 0;
    double Rate() const { return clicks ? conversions / clicks : 0; }
  };
  template <typename Pred>
  Group ClickGroup(Pred pred) const {
    Group g;
    for (const auto& [id, c] : click_info) {
      if (!pred(c)) continue;
      double p = PlantedCvr(c);
      g.clicks++;
      g.expected += p;
      g.variance += p * (1 - p);
      auto it = click_conversions.find(id);
      if (it != click_conversions.end()) g.conversions += it->second;
    }
    return g;
  }
};

bool Is45Plus(const ClickInfo& c) { return c.age == "45-54" || c.age == "55+"; }

void CheckPlantedRates(const Simulator& sim, const RecordingSink& sink, const std::string& label) {
  World w(sim, sink);
  const Scenario& s = sim.options().scenario;
  const BrokenLanding* broken = nullptr;
  const VideoLengthCompletion* video = nullptr;
  for (const auto& e : s.effects) {
    if (auto* b = std::get_if<BrokenLanding>(&e)) broken = b;
    if (auto* v = std::get_if<VideoLengthCompletion>(&e)) video = v;
  }

  // Click-through: the broken ad's own rate, and everyone else's.
  double other_imps = 0, other_clicks = 0;
  for (const auto& [ad, imps] : w.impressions) {
    if (broken && ad == broken->ad_id) {
      ExpectBinomial(label + " broken ad CTR", w.clicks[ad], imps, broken->ctr);
    } else {
      other_imps += imps;
      other_clicks += w.clicks[ad];
    }
  }
  ExpectBinomial(label + " CTR of the other ads", other_clicks, other_imps, s.rates.ctr);

  // Video completion by length.
  ExpectBinomial(label + " short video completion", w.short_complete, w.short_plays,
                 video ? video->short_completion : s.rates.video_completion);
  ExpectBinomial(label + " long video completion", w.long_complete, w.long_plays,
                 video ? video->long_completion : s.rates.video_completion);

  // Conversions per click, by the segments the effects are about.
  auto check = [&](const std::string& what, const World::Group& g) {
    ASSERT_GT(g.clicks, 0) << what;
    ExpectWithin99(label + " conversions per click, " + what +
                       " (clicks=" + std::to_string(static_cast<int64_t>(g.clicks)) + ")",
                   g.conversions, g.expected, g.variance);
  };
  std::string broken_ad = broken ? broken->ad_id : "ad-01-1-3";
  check("the broken-landing ad",
        w.ClickGroup([&](const ClickInfo& c) { return c.ad_id == broken_ad; }));
  check("humor, 18-24", w.ClickGroup([&](const ClickInfo& c) {
    return c.age == "18-24" && w.HasTag(c.ad_id, "humor") && c.region != "Texas";
  }));
  check("straight-pitch, 18-24", w.ClickGroup([&](const ClickInfo& c) {
    return c.age == "18-24" && w.HasTag(c.ad_id, "straight-pitch") && c.region != "Texas";
  }));
  check("humor, 45+", w.ClickGroup([&](const ClickInfo& c) {
    return Is45Plus(c) && w.HasTag(c.ad_id, "humor") && c.region != "Texas";
  }));
  check("straight-pitch, 45+", w.ClickGroup([&](const ClickInfo& c) {
    return Is45Plus(c) && w.HasTag(c.ad_id, "straight-pitch") && c.region != "Texas";
  }));
  check("Texas", w.ClickGroup([&](const ClickInfo& c) { return c.region == "Texas"; }));
  check("everyone else", w.ClickGroup([&](const ClickInfo& c) {
    return c.region != "Texas" && c.ad_id != broken_ad;
  }));
}

TEST(Simulator, DemoRealisesEveryPlantedRate) {
  auto sim = Simulator::Create(Options("demo", 1, 12000, 28));
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  RecordingSink sink;
  ASSERT_TRUE((*sim)->Run(sink).ok());
  CheckPlantedRates(**sim, sink, "demo seed 1");

  // And the effects are visible, not just consistent: humor beats straight pitch for 18-24,
  // Texas converts at about twice the rate of elsewhere, the broken ad sells almost nothing.
  World w(**sim, sink);
  auto humor = w.ClickGroup(
      [&](const ClickInfo& c) { return c.age == "18-24" && w.HasTag(c.ad_id, "humor"); });
  auto pitch = w.ClickGroup(
      [&](const ClickInfo& c) { return c.age == "18-24" && w.HasTag(c.ad_id, "straight-pitch"); });
  EXPECT_GT(humor.Rate(), 1.2 * pitch.Rate());
  auto texas = w.ClickGroup(
      [&](const ClickInfo& c) { return c.region == "Texas" && c.ad_id != "ad-01-1-3"; });
  auto rest = w.ClickGroup(
      [&](const ClickInfo& c) { return c.region != "Texas" && c.ad_id != "ad-01-1-3"; });
  EXPECT_GT(texas.Rate(), 1.5 * rest.Rate());
  auto broken = w.ClickGroup([&](const ClickInfo& c) { return c.ad_id == "ad-01-1-3"; });
  EXPECT_GT(broken.clicks, 1.5 * w.clicks["ad-01-1-1"]);
  EXPECT_LT(broken.Rate(), 0.01);
}

TEST(Simulator, AnotherSeedGivesOtherEventsButTheSameRates) {
  auto a = Simulator::Create(Options("demo", 1, 300, 7));
  auto b = Simulator::Create(Options("demo", 2, 300, 7));
  RecordingSink sa, sb;
  ASSERT_TRUE((*a)->Run(sa).ok());
  ASSERT_TRUE((*b)->Run(sb).ok());
  ASSERT_FALSE(sa.batches.empty());
  EXPECT_NE(sa.batches[0].events, sb.batches[0].events);

  auto c = Simulator::Create(Options("demo", 2, 8000, 28));
  RecordingSink sc;
  ASSERT_TRUE((*c)->Run(sc).ok());
  CheckPlantedRates(**c, sc, "demo seed 2");
}

TEST(Simulator, NullScenarioHasNoDifferencesToFind) {
  auto sim = Simulator::Create(Options("null", 7, 8000, 28));
  ASSERT_TRUE(sim.ok()) << sim.status().message();
  RecordingSink sink;
  ASSERT_TRUE((*sim)->Run(sink).ok());
  CheckPlantedRates(**sim, sink, "null");
  EXPECT_NE((*sim)->TruthHead().find("\"effects\":[\n],\n\"conversions\""), std::string::npos);
}

TEST(Simulator, SameInputsGiveByteIdenticalFiles) {
  TempDir d1, d2, d3;
  for (const std::string& dir : {d1.path(), d2.path()}) {
    auto sim = Simulator::Create(Options("demo", 5, 1500, 14));
    ASSERT_TRUE(sim.ok());
    auto writer = FileWriter::Open(dir);
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*sim)->Run(**writer).ok());
  }
  {
    auto sim = Simulator::Create(Options("demo", 6, 1500, 14));
    auto writer = FileWriter::Open(d3.path());
    ASSERT_TRUE((*sim)->Run(**writer).ok());
  }
  for (const char* f :
       {"catalog.json", "spend.csv", "site_events.ndjson", "ad_events.ndjson", "truth.json"}) {
    std::string a = ReadFile(d1 / f), b = ReadFile(d2 / f);
    EXPECT_GT(a.size(), 100u) << f;
    EXPECT_TRUE(a == b) << f << " differs between two runs with the same seed";
  }
  EXPECT_NE(ReadFile(d1 / "site_events.ndjson"), ReadFile(d3 / "site_events.ndjson"));
  EXPECT_NE(ReadFile(d1 / "ad_events.ndjson"), ReadFile(d3 / "ad_events.ndjson"));
  // truth.json is one JSON document.
  simdjson::dom::parser parser;
  simdjson::dom::element truth;
  ASSERT_FALSE(parser.parse(ReadFile(d1 / "truth.json")).get(truth));
  EXPECT_EQ(truth["scenario"].get_string().value(), "demo");
  EXPECT_GT(truth["conversions"].get_array().size(), 10u);
}

TEST(Simulator, InvalidEventsComeInTheirShareAndFailTheRealParsersAsAnnounced) {
  auto sim = Simulator::Create(Options("demo", 3, 3000, 28));
  RecordingSink sink;
  ASSERT_TRUE((*sim)->Run(sink).ok());
  ingest::ParseContext ctx;
  ctx.now_ms = kEndMs;
  ctx.limits.max_event_age_ms = 30 * kDayMs;
  std::map<std::string, uint64_t> rejections;
  double unique_events = 0, unique_invalid = 0;
  for (const auto& b : sink.batches) {
    double invalid = 0;
    if (b.channel == Channel::kAdEvents) {
      auto parsed = ingest::ParseAdEvents(b.Body(), ctx);
      ASSERT_TRUE(parsed.ok()) << parsed.status().message();
      for (const auto& e : *parsed)
        if (!e.status.ok()) {
          rejections[NormalizeReason(e.status.message())]++;
          invalid++;
        }
    } else if (b.unknown_pixel()) {
      rejections[std::string("event_source_id: unknown pixel ") + kUnknownPixelId] +=
          b.events.size();
      invalid += static_cast<double>(b.events.size());
    } else {
      auto parsed = ingest::ParseEventsApi2(b.Body(), ctx);
      ASSERT_TRUE(parsed.ok()) << parsed.status().message();
      for (const auto& e : parsed->events)
        if (!e.status.ok()) {
          rejections[NormalizeReason(e.status.message())]++;
          invalid++;
        }
    }
    if (!b.retry) {
      unique_events += static_cast<double>(b.events.size());
      unique_invalid += invalid;
    }
  }
  EXPECT_EQ(rejections, (*sim)->totals().expected_rejections);
  ExpectBinomial("invalid share", unique_invalid, unique_events,
                 (*sim)->options().scenario.mess.invalid_share);
  // Every kind is there.
  EXPECT_GE(rejections.size(), 9u);
  EXPECT_TRUE(rejections.count("data[N].event_time: more than 10 minutes in the future"));
  EXPECT_TRUE(rejections.count("data[N].event_id: must be a string"));
}

TEST(Simulator, IdentityLinksHoldAsTheyWouldInReality) {
  auto sim = Simulator::Create(Options("demo", 4, 3000, 28));
  RecordingSink sink;
  ASSERT_TRUE((*sim)->Run(sink).ok());
  std::unordered_map<std::string, std::string> click_ad;  // click_id -> ad
  std::unordered_set<std::string> landing_ttclids;
  std::set<std::pair<std::string, std::string>> pixel_ids, server_ids;  // (event, event_id)
  simdjson::dom::parser parser;
  for (const auto& b : sink.batches) {
    if (b.retry) continue;
    for (size_t i = 0; i < b.events.size(); ++i) {
      if (!b.expected_error[i].empty()) continue;
      const std::string& e = b.events[i];
      if (b.channel == Channel::kAdEvents) {
        if (StringField(e, "type") == "click")
          click_ad[std::string(StringField(e, "click_id"))] = std::string(StringField(e, "ad_id"));
        continue;
      }
      simdjson::dom::element ev = parser.parse(e).value();
      std::string name(ev["event"].get_string().value());
      std::string id(ev["event_id"].get_string().value());
      (b.channel == Channel::kPixel ? pixel_ids : server_ids).emplace(name, id);
      std::string_view url;
      if (name == "PageView" && !ev["page"]["url"].get_string().get(url) &&
          url.find("ttclid=") != std::string_view::npos) {
        std::string_view ttclid = ev["user"]["ttclid"].get_string().value();
        EXPECT_NE(url.find(std::string("ttclid=") + std::string(ttclid)), std::string_view::npos);
        landing_ttclids.emplace(ttclid);
      }
    }
  }
  size_t checked = 0;
  for (const auto& line : sink.truth) {
    simdjson::dom::element t = parser.parse(line).value();
    std::string event(t["event"].get_string().value());
    std::string copies(t["copies"].get_string().value());
    if (copies != "pixel") {
      EXPECT_TRUE(server_ids.count({event, std::string(t["event_id"].get_string().value())}))
          << line;
    }
    if (copies != "server") {
      EXPECT_TRUE(pixel_ids.count({event, std::string(t["pixel_event_id"].get_string().value())}))
          << line;
    }
    if (t["touch"].get_string().value() != "click") continue;
    std::string click(t["click_id"].get_string().value());
    // The click is in the ad log, on the ad the truth names, and its landing page view carries
    // the click id (clicks land in the in-app browser, which blocks nothing).
    ASSERT_TRUE(click_ad.count(click)) << line;
    EXPECT_EQ(click_ad[click], t["ad_id"].get_string().value()) << line;
    EXPECT_TRUE(landing_ttclids.count(click)) << line;
    ++checked;
  }
  EXPECT_GT(checked, 50u);
}

TEST(Simulator, SpendFollowsImpressionsAndCoversThePeriod) {
  auto sim = Simulator::Create(Options("demo", 8, 1000, 7));
  RecordingSink sink;
  ASSERT_TRUE((*sim)->Run(sink).ok());
  auto spend = (*sim)->Spend();
  ASSERT_FALSE(spend.empty());
  std::set<int64_t> days;
  for (const auto& r : spend) {
    EXPECT_GE(r.day_ms, kEndMs - 7 * kDayMs);
    EXPECT_LT(r.day_ms, kEndMs);
    EXPECT_GT(r.spend, 0);
    days.insert(r.day_ms);
  }
  EXPECT_EQ(days.size(), 7u);
}

TEST(Simulator, EveryEventLiesInThePeriod) {
  auto sim = Simulator::Create(Options("demo", 9, 500, 3));
  RecordingSink sink;
  ASSERT_TRUE((*sim)->Run(sink).ok());
  for (const auto& b : sink.batches)
    for (size_t i = 0; i < b.events.size(); ++i) {
      if (!b.expected_error[i].empty()) continue;
      EXPECT_GE(b.event_times_ms[i], kEndMs - 3 * kDayMs);
      EXPECT_LT(b.event_times_ms[i], kEndMs);
    }
}

}  // namespace
}  // namespace touchpoint::sim
