#pragma once
// The advertiser's catalog: campaign -> ad group -> ad (with its creative), and daily spend.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace touchpoint {

enum class CountMode : uint8_t { kEvery = 0, kOnce = 1 };

struct Creative {
  std::string format;             // "video", "image", ...
  int64_t video_ms = 0;           // 0 for images
  std::string call_to_action;     // "shop_now", "sign_up", ...
  std::vector<std::string> tags;  // "humor", "straight-pitch", "ugc", ...
  bool operator==(const Creative&) const = default;
};

struct Ad {
  std::string ad_id;
  std::string name;
  std::string landing_url;  // click redirects go only here
  Creative creative;
  bool operator==(const Ad&) const = default;
};

struct AdGroup {
  std::string adgroup_id;
  std::string name;
  int click_window_days = 7;  // 1, 7, 14, 28
  int view_window_days = 1;   // 0 (off), 1, 7
  CountMode count_mode = CountMode::kEvery;
  std::vector<Ad> ads;
  bool operator==(const AdGroup&) const = default;
};

struct Campaign {
  std::string campaign_id;
  std::string name;
  std::vector<AdGroup> adgroups;
  // The event this campaign is judged on (its optimisation event, e.g. "CompleteRegistration"
  // for a sign-up campaign); empty: its conversions are what the converting pixel counts.
  std::string optimization_event;
  bool operator==(const Campaign&) const = default;
};

struct Catalog {
  std::vector<Campaign> campaigns;
  bool operator==(const Catalog&) const = default;

  // Finds an ad and its parents; nullptr when unknown.
  struct AdRef {
    const Campaign* campaign;
    const AdGroup* adgroup;
    const Ad* ad;
  };
  std::optional<AdRef> FindAd(std::string_view ad_id) const;
  size_t AdCount() const;
};

// Spend of one ad on one day (UTC date), in the account currency.
struct SpendRow {
  int64_t day_ms = 0;  // 00:00 UTC of the day
  std::string ad_id;
  double spend = 0;
  std::string currency;
  bool operator==(const SpendRow&) const = default;
};

// What an ad platform's own report says about one ad on one day, or on one age x gender cell
// of that day when the report is broken down so. Kept beside Touchpoint's own counts (never
// summed into them): the platform's impressions and clicks are what the advertiser is billed
// on, ours are what reached the site.
struct PlatformStatRow {
  int64_t day_ms = 0;  // 00:00 UTC of the report's (account-local) date
  std::string ad_id;
  std::string platform;  // "tiktok", "meta", or "" when the file does not say
  std::string age;       // as the report writes it ("AGE_25_34", "25-34"); "" = all ages
  std::string gender;    // as the report writes it ("GENDER_FEMALE", "female"); "" = all
  std::optional<double> spend;
  std::optional<int64_t> impressions;
  std::optional<int64_t> clicks;
  std::optional<int64_t> video_views;
  std::string currency;
  bool operator==(const PlatformStatRow&) const = default;
};

const char* CountModeName(CountMode mode);

}  // namespace touchpoint
