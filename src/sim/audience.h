#pragma once
// The simulated people: their audience attributes (age bucket, gender, region, devices), their
// browsers (one first-party cookie each), their ad-platform user key, and the email/phone they
// use to sign up, log in and check out.

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "sim/random.h"

namespace touchpoint::sim {

struct Region {
  const char* name;
  const char* country;   // ISO 3166-1 alpha-2
  const char* currency;  // ISO 4217
  double weight;         // share of users
};
const std::vector<Region>& Regions();
// Index into Regions(), or -1.
int FindRegion(std::string_view name);

struct Browser {
  std::string cookie;  // the pixel's first-party cookie (_tp), 27 characters
  std::string user_agent;
  std::string ip;
  bool in_app = false;  // the ad app's in-app browser: where ad clicks land
  bool blocks_pixel = false;
  bool logged_in = false;  // identify() runs on every page: events carry email/phone/external_id
  std::string click_id;    // tp.js keeps the last ttclid for 7 days (_tp_clid)
  int64_t click_id_expiry_ms = 0;
};

struct Device {
  const char* kind;  // phone, tablet, desktop
  const char* os;    // ios, android, windows, macos
  std::vector<Browser> browsers;
};

struct User {
  uint64_t index = 0;
  std::string id;  // "u000123": names the user in the ground truth
  size_t age = 0;  // index into kAgeBuckets
  const char* gender = "unknown";
  size_t region = 0;            // index into Regions()
  std::vector<Device> devices;  // devices[0] is the phone
  std::string user_key;         // the ad platform's key for this person
  std::string email, email_sha256;
  std::string phone, phone_sha256;              // empty when the user gave no phone
  std::string external_id, external_id_sha256;  // the shop's customer id
  bool platform_knows_email = false;  // the ad platform shares hashed email with ad events
  bool has_account = false;
  double impressions_per_day = 0;
  double organic_visits_per_day = 0;
};

// Draws user `index` from its own random stream (so users are independent of each other and
// of how many there are). The means come from the scenario; each user varies around them.
User MakeUser(uint64_t seed, uint64_t index, double impressions_per_day,
              double organic_visits_per_day, double pixel_blocked_browsers);

}  // namespace touchpoint::sim
