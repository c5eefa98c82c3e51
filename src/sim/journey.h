#pragma once
// One simulated user's weeks: the ads they see, watch and click, the visits those cause (or
// not), what they do on the site, and the ground truth of every conversion. Internal to the
// simulator (simulator.cc drives it block by block).

#include <cstdint>
#include <string>
#include <vector>

#include "sim/advertiser.h"
#include "sim/audience.h"
#include "sim/scenario.h"
#include "sim/simulator.h"

namespace touchpoint::sim {

// One event as it will be sent, with when it arrives.
struct Record {
  int64_t arrival_ms = 0;
  uint64_t order = 0;  // emission order: ties on arrival keep it
  Channel channel = Channel::kEventsApi;
  int64_t event_time_ms = 0;
  std::string json;
};

// One conversion's ground truth.
struct TruthRecord {
  int64_t time_ms = 0;
  uint64_t order = 0;
  std::string touch;  // click, view, none
  std::string event;
  bool primary = true;  // the objective's conversion (not the sign-up that came with it)
  std::string json;
};

struct BlockOutput {
  std::vector<Record> records;
  std::vector<TruthRecord> truth;
  uint64_t next_order = 0;
};

// Read-only context shared by every journey of a run, plus the impression ledger for spend.
struct JourneyContext {
  const Scenario* scenario = nullptr;
  const Advertiser* advertiser = nullptr;
  uint64_t seed = 0;
  int64_t start_ms = 0;
  int64_t end_ms = 0;
  // Conversion multipliers from the audience effects.
  std::vector<std::vector<double>> ad_age_ratio;  // [ad][age bucket]
  std::vector<double> region_ratio;               // [region]
  // Impressions per (UTC day since first_day, ad): spend is billed on them.
  int64_t first_day = 0;
  std::vector<uint32_t>* impressions = nullptr;
};

JourneyContext MakeJourneyContext(const Scenario& scenario, const Advertiser& advertiser,
                                  uint64_t seed, int64_t start_ms, int64_t end_ms);

void SimulateUser(const JourneyContext& ctx, User& user, BlockOutput& out);

}  // namespace touchpoint::sim
