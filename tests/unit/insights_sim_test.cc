// Insights on simulated worlds (src/sim): every planted effect is found (recall), and in worlds
// with nothing planted the share of runs with any finding stays within the false discovery
// rate. Each world is simulated in-process and loaded into a Dataset (DatasetSink, below).
//
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "ingest/ad_events.h"
#include "ingest/events_api.h"
#include "query/dataset.h"
#include "query/insights.h"
#include "sim/simulator.h"
#include "store/dedup_index.h"

namespace touchpoint {
namespace {

constexpr int64_t kEndMs = 1717200000000;  // 2024-06-01T00:00:00Z

int EnvInt(const char* name, int fallback) {
  const char* v = std::getenv(name);
  return v && *v ? std::atoi(v) : fallback;
}

// Loads a simulated world straight into a Dataset: the batches go through the same parsers as
// over HTTP (the planted invalid events are rejected), and copies are de-duplicated by the
// store's keys (store::SiteDedupKey / AdDedupKey), a later copy's identifiers joining the
// first's, as the store's merge does. A bulk load arrives within minutes, so every repeat is
// within the store's 48-hour dedup and 5-minute merge windows. (The store's SQLite round trip
// would add ten seconds per world and nothing the insights read.)
class DatasetSink final : public sim::DeliverySink {
 public:
  explicit DatasetSink(query::Dataset& data) : data_(data) {}
  Status Begin(const sim::Simulator& s) override {
    ctx_.now_ms = s.end_ms();
    ctx_.limits.max_event_age_ms = (int64_t{s.options().days} + 2) * kDayMs;
    data_.SetCatalog(std::make_shared<Catalog>(s.catalog()));
    return OkStatus();
  }
  Status Deliver(const sim::Batch& batch) override {
    std::string body = batch.Body();
    if (batch.channel == sim::Channel::kAdEvents) {
      auto parsed = ingest::ParseAdEvents(body, ctx_);
      if (!parsed.ok()) return OkStatus();  // rejected as a whole, as the server would
      for (auto& e : *parsed) {
        if (!e.status.ok()) continue;
        std::string key = store::AdDedupKey(*e.event);
        if (!key.empty() && !seen_.emplace(key, seq_ + 1).second) continue;
        data_.Append(++seq_, std::move(*e.event));
      }
      return OkStatus();
    }
    if (batch.unknown_pixel()) return OkStatus();  // the server knows no such pixel
    auto parsed = ingest::ParseEventsApi2(body, ctx_);
    if (!parsed.ok()) return OkStatus();
    for (auto& e : parsed->events) {
      if (!e.status.ok()) continue;
      std::string key = store::SiteDedupKey(*e.event);
      if (!key.empty()) {
        auto [it, inserted] = seen_.emplace(key, seq_ + 1);
        if (!inserted) {
          data_.LinkMerged(it->second, *e.event);
          continue;
        }
      }
      data_.Append(++seq_, std::move(*e.event));
    }
    return OkStatus();
  }
  Status Conversions(const std::vector<std::string>&) override { return OkStatus(); }
  Status Finish(const sim::Simulator& s) override {
    data_.SetSpend(s.Spend());
    return OkStatus();
  }

 private:
  query::Dataset& data_;
  ingest::ParseContext ctx_;
  std::unordered_map<std::string, uint64_t> seen_;  // dedup key -> seq of the first copy
  uint64_t seq_ = 0;
};

struct World {
  int64_t start_ms = 0, end_ms = 0;
  std::unique_ptr<query::Dataset> data;
};

World Simulate(const std::string& scenario, uint64_t seed, int users) {
  World w;
  auto sc = sim::LoadScenario(scenario);
  EXPECT_TRUE(sc.ok());
  sim::SimOptions o;
  o.scenario = *sc;
  o.seed = seed;
  o.users = users;
  o.end_ms = kEndMs;
  w.data = std::make_unique<query::Dataset>();
  auto world = sim::Simulator::Create(o);
  EXPECT_TRUE(world.ok()) << world.status().message();
  DatasetSink sink(*w.data);
  Status st = (*world)->Run(sink);
  EXPECT_TRUE(st.ok()) << st.message();
  w.start_ms = (*world)->start_ms();
  w.end_ms = (*world)->end_ms();
  w.data->Cluster();
  return w;
}

query::InsightsResult Insights(World& w) {
  query::InsightsQuery q;
  q.report.from_ms = w.start_ms;
  q.report.to_ms = w.end_ms;
  // The sale and the sign-up campaigns' conversions: peers are compared within a campaign (or
  // stratified by it), so the two objectives never meet in one comparison.
  q.report.events = {"CompletePayment", "SubmitForm"};
  auto r = query::RunInsights(*w.data, q);
  EXPECT_TRUE(r.ok()) << r.status().message();
  return r.ok() ? *r : query::InsightsResult{};
}

std::string Entity(const query::Finding& f, std::string_view key) {
  for (const auto& [k, v] : f.entity)
    if (k == key) return v;
  return "";
}
bool HasTag(const query::Finding& f, std::string_view tag) {
  for (const auto& [k, v] : f.entity)
    if ((k == "tag" && v == tag) || (k == "same_ads_as" && v == "tag " + std::string(tag)))
      return true;
  return false;
}

// The demo scenario's four planted effects (scenarios/demo.json), each as the finding that
// names it. Sizes: the broken landing page converts clicks at 0.002 against 0.05 (0.04x) with
// twice the CTR; humor converts 1.8x among 18-24; short videos complete at 0.45 against 0.2
// for long ones (2.25x); Texas converts at 2x.
struct Planted {
  const char* name;
  bool (*matches)(const query::Finding&);
};
const Planted kPlanted[] = {
    {"broken landing page (ad-01-1-3)",
     [](const query::Finding& f) {
       return f.kind == "clicks_without_conversions" && Entity(f, "ad") == "ad-01-1-3";
     }},
    {"humor converts 1.8x among 18-24",
     [](const query::Finding& f) {
       return f.kind == "creative_attribute" && f.metric == "cvr_click" && HasTag(f, "humor") &&
              Entity(f, "age") == "18-24" && f.effect > 1;
     }},
    {"short videos complete 2.25x as often",
     [](const query::Finding& f) {
       return f.kind == "creative_attribute" && f.metric == "completion_rate" &&
              ((Entity(f, "length") == "short" && f.effect > 1) ||
               (Entity(f, "length") == "long" && f.effect < 1));
     }},
    {"Texas converts 2x",
     [](const query::Finding& f) {
       return f.kind == "segment" && Entity(f, "region") == "Texas" && f.effect > 1;
     }},
};

// World size: 40,000 users x 28 days, the size at which the demo's smallest planted effect
// (humor converting 1.8x among 18-24: about 40 conversions expected in that arm) is found at
// the 1.25x margin. TP_INSIGHTS_SIM_SEEDS (default 1) sets the seeds per scenario and
// TP_INSIGHTS_SIM_USERS the users; docs/insights.md quotes a 10-seed run.
int Users() { return EnvInt("TP_INSIGHTS_SIM_USERS", 40000); }
int Seeds() { return EnvInt("TP_INSIGHTS_SIM_SEEDS", 1); }

// Every world of both scenarios, simulated and analysed once for the suite, two at a time
// (the machines have two cores). Demo worlds use seeds 1, 2, ...; null worlds 101, 102, ...
class InsightsSim : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    const int seeds = Seeds(), users = Users();
    demo_.assign(static_cast<size_t>(seeds), {});
    null_.assign(static_cast<size_t>(seeds), {});
    std::atomic<int> next{0};
    auto worker = [&] {
      for (int job; (job = next++) < 2 * seeds;) {
        const bool is_null = job % 2 == 1;
        const int s = job / 2;
        World w = Simulate(is_null ? "null" : "demo",
                           static_cast<uint64_t>((is_null ? 101 : 1) + s), users);
        (is_null ? null_ : demo_)[static_cast<size_t>(s)] = Insights(w);
      }
    };
    std::thread other(worker);
    worker();
    other.join();
  }
  static std::vector<query::InsightsResult> demo_, null_;
};
std::vector<query::InsightsResult> InsightsSim::demo_, InsightsSim::null_;

TEST_F(InsightsSim, FindsEveryPlantedEffectOfTheDemoWorld) {
  const int seeds = static_cast<int>(demo_.size());
  const auto& results = demo_;
  int planted = 0, found = 0;
  size_t findings = 0, named = 0;
  for (int s = 0; s < seeds; ++s) {
    const auto& r = results[static_cast<size_t>(s)];
    for (const auto& p : kPlanted) {
      bool hit = false;
      for (const auto& f : r.findings) hit |= p.matches(f);
      ++planted;
      found += hit;
      EXPECT_TRUE(hit) << "seed " << s + 1 << ": missed " << p.name;
    }
    for (const auto& f : r.findings) {
      bool explained = false;
      for (const auto& p : kPlanted) explained |= p.matches(f);
      findings++;
      named += explained;
      std::printf("  demo seed %d: %s%s\n", s + 1, explained ? "" : "(other) ", f.title.c_str());
    }
  }
  std::printf(
      "recall %d/%d = %.3f over %d seeds; %zu findings, %zu of them name a planted effect\n", found,
      planted, static_cast<double>(found) / planted, seeds, findings, named);
  RecordProperty("recall", std::to_string(static_cast<double>(found) / planted));
  EXPECT_EQ(found, planted);
}

TEST_F(InsightsSim, NullWorldsStayWithinTheFalseDiscoveryRate) {
  const int seeds = static_cast<int>(null_.size());
  const auto& results = null_;
  int runs_with_findings = 0;
  size_t findings = 0, comparisons = 0;
  for (int s = 0; s < seeds; ++s) {
    const auto& r = results[static_cast<size_t>(s)];
    runs_with_findings += !r.findings.empty();
    findings += r.findings.size();
    comparisons += r.comparisons;
    for (const auto& f : r.findings) std::printf("  null seed %d: %s\n", 101 + s, f.title.c_str());
  }
  const double share = static_cast<double>(runs_with_findings) / seeds;
  std::printf(
      "null worlds: %d of %d runs with any finding (%.3f); %zu findings in %zu comparisons\n",
      runs_with_findings, seeds, share, findings, comparisons);
  RecordProperty("null_runs_with_findings", std::to_string(share));
  // With nothing planted every finding is false, so the false discovery rate is the share of
  // runs with any finding; it must stay within q = 0.05. Over a handful of seeds that means no
  // run may have one (1 of 10 would read 0.1).
  EXPECT_LE(share, 0.05);
}

// One demo world judged the default way: each campaign on its own event (the sale campaigns on
// purchases, the sign-up campaign "cmp-02" on SubmitForm, its catalog optimization_event).
class DemoByCampaign : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    world_ = new World(Simulate("demo", 1, 20000));
    query::InsightsQuery q;
    q.report.from_ms = world_->start_ms;
    q.report.to_ms = world_->end_ms;
    auto r = query::RunInsights(*world_->data, q);
    ASSERT_TRUE(r.ok()) << r.status().message();
    insights_ = new query::InsightsResult(*r);
  }
  static void TearDownTestSuite() {
    delete world_;
    delete insights_;
  }
  static query::ReportResult Report(std::vector<query::Dim> dims, std::vector<std::string> events,
                                    std::vector<std::string> columns = {}) {
    query::ReportQuery q;
    q.from_ms = world_->start_ms;
    q.to_ms = world_->end_ms;
    q.dims = std::move(dims);
    q.events = std::move(events);
    q.event_columns = std::move(columns);
    auto r = query::RunReport(*world_->data, q);
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : query::ReportResult{};
  }
  static double Conversions(const query::ReportResult& r, std::string_view campaign) {
    for (const auto& row : r.rows)
      if (row.dims[0] == campaign) return row.metrics.conversions();
    return -1;
  }
  static World* world_;
  static query::InsightsResult* insights_;
};
World* DemoByCampaign::world_ = nullptr;
query::InsightsResult* DemoByCampaign::insights_ = nullptr;

TEST_F(DemoByCampaign, TheSignUpCampaignIsJudgedOnSignUps) {
  const auto by_default = Report({query::Dim::kCampaign}, {});
  const auto purchases =
      Report({query::Dim::kCampaign}, {"CompletePayment", "Purchase", "PlaceAnOrder"});
  const auto sign_ups = Report({query::Dim::kCampaign}, {"SubmitForm"});
  // The sale campaigns count purchases: at least what they get when every campaign is judged on
  // purchases (then a sign-up ad clicked last takes a sale from them; by default it cannot).
  EXPECT_GE(Conversions(by_default, "cmp-01"), Conversions(purchases, "cmp-01"));
  EXPECT_GE(Conversions(by_default, "cmp-03"), Conversions(purchases, "cmp-03"));
  EXPECT_LT(Conversions(by_default, "cmp-01"), Conversions(purchases, "cmp-01") * 1.25);
  // Everything the default credits to a sale campaign is a purchase: judged on sign-ups instead,
  // they get few.
  EXPECT_LT(Conversions(sign_ups, "cmp-01"), Conversions(by_default, "cmp-01") / 2);
  // The sign-up campaign counts its sign-ups: at least what it gets when every campaign is
  // judged on SubmitForm (then a sale ad clicked later takes some), and far more than the few
  // purchases its visitors make.
  const double own = Conversions(by_default, "cmp-02");
  EXPECT_GE(own, Conversions(sign_ups, "cmp-02"));
  EXPECT_GT(own, 100);
  EXPECT_GT(own, 5 * Conversions(purchases, "cmp-02"));
}

TEST_F(DemoByCampaign, SeveralEventsSideBySideEachCountAsIfAskedAlone) {
  const std::vector<std::string> events = {"CompletePayment", "SubmitForm", "AddToCart"};
  const auto r = Report({query::Dim::kCampaign}, {}, events);
  ASSERT_EQ(r.totals_by_event.size(), 3u);
  for (size_t k = 0; k < events.size(); ++k) {
    const auto alone = Report({query::Dim::kCampaign}, {events[k]});
    EXPECT_DOUBLE_EQ(r.totals_by_event[k].conversions, alone.totals.conversions()) << events[k];
    EXPECT_GT(r.totals_by_event[k].conversions, 0) << events[k];
    for (const auto& row : r.rows) {
      ASSERT_EQ(row.by_event.size(), 3u);
      EXPECT_DOUBLE_EQ(row.by_event[k].conversions, Conversions(alone, row.dims[0]))
          << events[k] << " " << row.dims[0];
    }
  }
}

TEST_F(DemoByCampaign, TheMoneyLosingAdRanksInTheTopThreeAboveWhatIsOnlyWatched) {
  const auto& f = insights_->findings;
  size_t ad_rank = f.size(), completion_rank = f.size();
  for (size_t i = 0; i < f.size(); ++i) {
    std::printf("  %zu. %.2f %s\n", i + 1, f[i].money_at_stake, f[i].title.c_str());
    if (f[i].kind == "clicks_without_conversions" && Entity(f[i], "ad") == "ad-01-1-3")
      ad_rank = std::min(ad_rank, i);
    if (f[i].metric == "completion_rate") completion_rank = std::min(completion_rank, i);
  }
  ASSERT_LT(ad_rank, f.size()) << "the broken landing page was not found";
  EXPECT_LT(ad_rank, 3u);
  EXPECT_GT(f[ad_rank].money_at_stake, 0);
  // Short videos are watched to the end more often, as expected of short videos: attention, not
  // conversions, so nothing is at stake (docs/insights.md#money-at-stake).
  ASSERT_LT(completion_rank, f.size()) << "the completion finding was not made";
  EXPECT_LT(ad_rank, completion_rank);
  EXPECT_EQ(f[completion_rank].money_at_stake, 0);
}

TEST_F(DemoByCampaign, TheBrokenLandingAdIsFlaggedBelowItsCampaignsConversionRate) {
  query::ReportQuery q;
  q.from_ms = world_->start_ms;
  q.to_ms = world_->end_ms;
  q.dims = {query::Dim::kAd};
  auto r = query::RunReport(*world_->data, q);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(query::FlagLowCvr(*world_->data, q, *r).ok());
  EXPECT_TRUE(r->cvr_flags);
  EXPECT_GT(r->cvr_comparisons, 20u);
  std::vector<std::string> flagged;
  for (const auto& row : r->rows)
    if (row.cvr_flag && row.cvr_flag->below) flagged.push_back(row.dims[0]);
  EXPECT_NE(std::find(flagged.begin(), flagged.end(), "ad-01-1-3"), flagged.end());
  EXPECT_LE(flagged.size(), 2u) << "only the planted ad converts worse than its campaign";
}

TEST(NullWorldCvrFlags, NothingPlantedNothingFlagged) {
  World w = Simulate("null", 101, 20000);
  query::ReportQuery q;
  q.from_ms = w.start_ms;
  q.to_ms = w.end_ms;
  q.dims = {query::Dim::kAd};
  auto r = query::RunReport(*w.data, q);
  ASSERT_TRUE(r.ok());
  ASSERT_TRUE(query::FlagLowCvr(*w.data, q, *r).ok());
  EXPECT_GT(r->cvr_comparisons, 20u);
  for (const auto& row : r->rows)
    EXPECT_FALSE(row.cvr_flag && row.cvr_flag->below) << row.dims[0] << " flagged in a null world";
}

}  // namespace
}  // namespace touchpoint
