#include "sim/advertiser.h"

#include <cmath>
#include <cstdio>

#include "sim/audience.h"
#include "sim/random.h"

namespace touchpoint::sim {

const char* ObjectiveName(Objective o) { return o == Objective::kLead ? "lead" : "purchase"; }

const std::vector<Product>& Products() {
  static const std::vector<Product> kProducts = {
      {"SKU-1001", "Trail Runner Sneakers", "shoes", 89.00},
      {"SKU-1002", "Everyday Canvas Tote", "bags", 24.50},
      {"SKU-1003", "Merino Crew Socks (3 pack)", "apparel", 18.00},
      {"SKU-1004", "Waterproof Shell Jacket", "apparel", 149.00},
      {"SKU-1005", "Insulated Steel Bottle", "accessories", 29.95},
      {"SKU-1006", "Recycled Fleece Hoodie", "apparel", 64.00},
      {"SKU-1007", "Packable Day Pack", "bags", 45.00},
      {"SKU-1008", "Wool Beanie", "accessories", 22.00},
      {"SKU-1009", "Cork Yoga Mat", "fitness", 58.00},
      {"SKU-1010", "Bamboo Sunglasses", "accessories", 39.00},
      {"SKU-1011", "Linen Camp Shirt", "apparel", 52.00},
      {"SKU-1012", "Leather Card Wallet", "accessories", 34.00},
  };
  return kProducts;
}

namespace {

std::string Slug(std::string_view name) {
  std::string out;
  for (char c : name) {
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))
      out += c;
    else if (c >= 'A' && c <= 'Z')
      out += static_cast<char>(c - 'A' + 'a');
    else if (!out.empty() && out.back() != '-')
      out += '-';
  }
  while (!out.empty() && out.back() == '-') out.pop_back();
  return out;
}

}  // namespace

std::string ProductUrl(size_t product) {
  return "https://shop.example/products/" + Slug(Products()[product].name);
}

namespace {

const char* const kPurchaseCampaigns[] = {"Summer Sale", "Best Sellers", "New Arrivals",
                                          "Gift Guide",  "Clearance",    "Bundles"};
const char* const kLeadCampaigns[] = {"Newsletter Sign-ups", "Style Quiz", "Early Access List"};
const char* const kStyles[] = {"humor", "straight-pitch", "ugc"};
const char* const kSecondTags[] = {"music", "product-demo", "testimonial"};

struct GroupShape {
  const char* name;
  uint8_t age_mask;
  int click_window_days;
  int view_window_days;
};
// 18-34, 35+ and broad (the only one that reaches 13-17).
constexpr GroupShape kGroups[] = {
    {"18-34", 0b000110, 7, 1},
    {"35+", 0b111000, 14, 1},
    {"Broad", 0b111111, 28, 7},
};

std::string TwoDigits(int n) {
  char buf[16];
  std::snprintf(buf, sizeof buf, "%02d", n);
  return buf;
}

}  // namespace

StatusOr<Advertiser> BuildAdvertiser(const Scenario& scenario, uint64_t seed, int campaigns) {
  Rng rng(DeriveSeed(seed, "catalog"));
  const auto& products = Products();
  Advertiser adv;
  int purchase_n = 0, lead_n = 0;
  for (int c = 0; c < campaigns; ++c) {
    // Every third campaign (the 2nd, 5th, ...) collects leads; the rest sell.
    Objective objective = c % 3 == 1 ? Objective::kLead : Objective::kPurchase;
    std::string cc = TwoDigits(c + 1);
    Campaign camp;
    camp.campaign_id = "cmp-" + cc;
    if (objective == Objective::kPurchase) {
      int n = purchase_n++;
      camp.name = kPurchaseCampaigns[n % 6];
      if (n >= 6) camp.name += " #" + std::to_string(n / 6 + 1);
    } else {
      int n = lead_n++;
      camp.name = kLeadCampaigns[n % 3];
      if (n >= 3) camp.name += " #" + std::to_string(n / 3 + 1);
      camp.optimization_event = "SubmitForm";  // judged on the sign-ups it collects
    }
    size_t product = static_cast<size_t>(rng.Below(products.size()));
    for (int g = 0; g < 3; ++g) {
      const GroupShape& shape = kGroups[g];
      AdGroup group;
      group.adgroup_id = "adg-" + cc + "-" + std::to_string(g + 1);
      group.name = camp.name + " / " + shape.name;
      group.click_window_days = shape.click_window_days;
      group.view_window_days = shape.view_window_days;
      group.count_mode = objective == Objective::kLead ? CountMode::kOnce : CountMode::kEvery;
      for (int a = 0; a < 3; ++a) {
        SimAd sa;
        sa.campaign = adv.catalog.campaigns.size();
        sa.adgroup = static_cast<size_t>(g);
        sa.ad = static_cast<size_t>(a);
        sa.objective = objective;
        sa.style = kStyles[a];
        sa.age_mask = shape.age_mask;
        // One image ad per campaign (the 35+ group's ugc ad); the rest are videos, short and
        // long alternating so that every style comes in both lengths across the catalog.
        sa.video = !(g == 1 && a == 2);
        if (sa.video) {
          bool is_short = (c + g + a) % 2 == 0;
          sa.video_ms = is_short ? rng.Between(9, 15) * 1000 : rng.Between(30, 60) * 1000;
        }
        sa.delivery_weight = rng.Uniform(0.6, 1.4);
        sa.cpm = std::round(rng.Uniform(12, 28) * 100) / 100;
        sa.product = (product + static_cast<size_t>(g)) % products.size();
        sa.ad_id = "ad-" + cc + "-" + std::to_string(g + 1) + "-" + std::to_string(a + 1);

        Ad ad;
        ad.ad_id = sa.ad_id;
        std::string length = sa.video ? std::to_string(sa.video_ms / 1000) + "s video" : "image";
        ad.name = camp.name + " / " + sa.style + " / " + length;
        if (objective == Objective::kPurchase) {
          ad.landing_url =
              ProductUrl(sa.product) + "?utm_source=tiktok&utm_campaign=" + camp.campaign_id;
          ad.creative.call_to_action = a == 2 ? "learn_more" : "shop_now";
        } else {
          ad.landing_url =
              "https://shop.example/newsletter?utm_source=tiktok&utm_campaign=" + camp.campaign_id;
          ad.creative.call_to_action = a == 2 ? "subscribe" : "sign_up";
        }
        ad.creative.format = sa.video ? "video" : "image";
        ad.creative.video_ms = sa.video_ms;
        ad.creative.tags = {sa.style, kSecondTags[a]};
        if (rng.Bernoulli(0.3)) ad.creative.tags.push_back("voiceover");
        sa.landing_url = ad.landing_url;
        group.ads.push_back(std::move(ad));
        adv.ads.push_back(std::move(sa));
      }
      camp.adgroups.push_back(std::move(group));
    }
    adv.catalog.campaigns.push_back(std::move(camp));
  }

  // True ad-level rates: the base, then the effects that act on ads.
  const Rates& r = scenario.rates;
  for (auto& sa : adv.ads) {
    sa.ctr = r.ctr;
    sa.cvr_per_click =
        sa.objective == Objective::kPurchase ? r.purchase_per_click : r.lead_per_click;
    sa.completion = r.video_completion;
  }
  for (const Effect& effect : scenario.effects) {
    if (auto* e = std::get_if<BrokenLanding>(&effect)) {
      SimAd* hit = nullptr;
      for (auto& sa : adv.ads)
        if (sa.ad_id == e->ad_id) hit = &sa;
      if (!hit)
        return InvalidArgument("effects.broken_landing.ad_id",
                               ": no ad " + e->ad_id + " in a catalog of " +
                                   std::to_string(campaigns) +
                                   " campaigns (ads are named "
                                   "ad-<campaign>-<group 1-3>-<ad 1-3>)");
      if (hit->objective != Objective::kPurchase)
        return InvalidArgument("effects.broken_landing.ad_id",
                               ": " + e->ad_id + " belongs to a lead campaign; pick a purchase ad");
      hit->broken_landing = true;
      hit->ctr = e->ctr;
      hit->cvr_per_click = e->purchase_per_click;
    } else if (auto* e = std::get_if<VideoLengthCompletion>(&effect)) {
      for (auto& sa : adv.ads)
        if (sa.video)
          sa.completion = sa.video_ms <= e->short_max_ms ? e->short_completion : e->long_completion;
    } else if (auto* e = std::get_if<StyleByAge>(&effect)) {
      bool known = false;
      for (const char* s : kStyles) known |= e->tag == s;
      if (!known)
        return InvalidArgument("effects.style_by_age.tag",
                               ": " + e->tag +
                                   " is not a style the catalog uses (humor, "
                                   "straight-pitch, ugc)");
    } else if (auto* e = std::get_if<RegionCvr>(&effect)) {
      if (FindRegion(e->region) < 0)
        return InvalidArgument("effects.region_cvr.region",
                               ": " + e->region + " is not a simulated region");
    }
  }
  for (size_t i = 0; i < adv.ads.size(); ++i) {
    for (size_t age = 0; age < kAgeBuckets.size(); ++age) {
      if (adv.ads[i].age_mask & (1u << age)) {
        adv.ads_by_age[age].push_back(i);
        adv.weights_by_age[age].push_back(adv.ads[i].delivery_weight);
      }
    }
  }
  return adv;
}

}  // namespace touchpoint::sim
