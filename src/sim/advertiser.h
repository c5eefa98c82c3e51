#pragma once
// The simulated advertiser: a shop on https://shop.example with a product list, and its
// catalog of campaigns -> ad groups (targeting, attribution windows) -> ads (creatives), plus
// what the simulator alone knows about each ad: its true click-through, conversion and
// completion rates once the scenario's effects are applied.

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "core/catalog.h"
#include "core/status.h"
#include "sim/scenario.h"

namespace touchpoint::sim {

inline constexpr std::array<const char*, 6> kAgeBuckets = {"13-17", "18-24", "25-34",
                                                           "35-44", "45-54", "55+"};

enum class Objective : uint8_t { kPurchase = 0, kLead = 1 };
const char* ObjectiveName(Objective o);

struct Product {
  const char* content_id;
  const char* name;
  const char* category;
  double price;
};
// The shop's products (prices in the buyer's local currency units).
const std::vector<Product>& Products();
// https://shop.example/products/<slug of the product's name>
std::string ProductUrl(size_t product);

// One ad as the simulator sees it.
struct SimAd {
  std::string ad_id;
  std::string landing_url;
  size_t campaign = 0;  // index into Catalog::campaigns
  size_t adgroup = 0;   // index into the campaign's adgroups
  size_t ad = 0;        // index into the ad group's ads
  Objective objective = Objective::kPurchase;
  std::string style;  // humor, straight-pitch or ugc (also one of the creative's tags)
  bool video = true;
  int64_t video_ms = 0;
  uint8_t age_mask = 0;        // bit i: kAgeBuckets[i] is targeted
  double delivery_weight = 1;  // share of its audience's impressions
  double cpm = 10;             // cost per 1000 impressions
  size_t product = 0;          // featured product (purchase ads)
  // True rates, effects applied (before any audience effect).
  double ctr = 0;
  double cvr_per_click = 0;  // purchase_per_click or lead_per_click (or the broken ad's)
  double completion = 0;     // video plays watched to the end
  bool broken_landing = false;
};

struct Advertiser {
  Catalog catalog;
  std::vector<SimAd> ads;  // catalog order
  // For each age bucket, the ads targeting it and their delivery weights.
  std::array<std::vector<size_t>, kAgeBuckets.size()> ads_by_age;
  std::array<std::vector<double>, kAgeBuckets.size()> weights_by_age;
};

// Builds the catalog for `campaigns` campaigns, deterministically from the seed, and applies
// the scenario's ad-level effects. Fails when an effect names an ad, tag or region that the
// world does not have.
StatusOr<Advertiser> BuildAdvertiser(const Scenario& scenario, uint64_t seed, int campaigns);

}  // namespace touchpoint::sim
