#include "sim/audience.h"

#include <cstdio>

#include "ingest/hashing.h"
#include "sim/advertiser.h"

namespace touchpoint::sim {

const std::vector<Region>& Regions() {
  static const std::vector<Region> kRegions = {
      {"California", "US", "USD", 0.11},      {"Texas", "US", "USD", 0.09},
      {"New York", "US", "USD", 0.07},        {"Florida", "US", "USD", 0.06},
      {"Illinois", "US", "USD", 0.04},        {"Washington", "US", "USD", 0.03},
      {"England", "GB", "GBP", 0.13},         {"Scotland", "GB", "GBP", 0.03},
      {"Wales", "GB", "GBP", 0.02},           {"Bavaria", "DE", "EUR", 0.06},
      {"Berlin", "DE", "EUR", 0.05},          {"Hamburg", "DE", "EUR", 0.03},
      {"Ile-de-France", "FR", "EUR", 0.07},   {"Provence", "FR", "EUR", 0.03},
      {"Ontario", "CA", "CAD", 0.06},         {"Quebec", "CA", "CAD", 0.04},
      {"New South Wales", "AU", "AUD", 0.05}, {"Victoria", "AU", "AUD", 0.03},
  };
  return kRegions;
}

int FindRegion(std::string_view name) {
  const auto& regions = Regions();
  for (size_t i = 0; i < regions.size(); ++i)
    if (name == regions[i].name) return static_cast<int>(i);
  return -1;
}

namespace {

constexpr double kAgeWeights[] = {0.05, 0.25, 0.28, 0.18, 0.13, 0.11};
const char* const kEmailDomains[] = {"example.com", "example.org", "example.net", "mail.example"};

const char* UserAgent(const char* os, const char* kind, bool in_app) {
  std::string_view o = os;
  if (in_app)
    return o == "ios"
               ? "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Mobile/15E148 musical_ly_34.1.0 BytedanceWebview"
               : "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like "
                 "Gecko) Version/4.0 Chrome/124.0 Mobile Safari/537.36 musical_ly_2023401030";
  if (o == "ios")
    return std::string_view(kind) == "tablet"
               ? "Mozilla/5.0 (iPad; CPU OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like "
                 "Gecko) Version/17.4 Mobile/15E148 Safari/604.1"
               : "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 "
                 "(KHTML, like Gecko) Version/17.4 Mobile/15E148 Safari/604.1";
  if (o == "android")
    return "Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
           "Chrome/124.0 Mobile Safari/537.36";
  if (o == "macos")
    return "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_4) AppleWebKit/605.1.15 (KHTML, like Gecko) "
           "Version/17.4 Safari/605.1.15";
  return "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
         "Chrome/124.0 Safari/537.36";
}

std::string RandomIp(Rng& rng) {
  // Documentation and benchmarking ranges only: never a real person's address.
  static const char* const kPrefixes[] = {"198.51.100.", "203.0.113.", "192.0.2.", "198.18.0."};
  return std::string(kPrefixes[rng.Below(4)]) + std::to_string(rng.Between(1, 254));
}

Browser MakeBrowser(Rng& rng, const char* os, const char* kind, bool in_app, std::string ip,
                    double pixel_blocked) {
  Browser b;
  b.cookie = rng.Alnum(27);
  b.user_agent = UserAgent(os, kind, in_app);
  b.ip = std::move(ip);
  b.in_app = in_app;
  // In-app browsers run no ad blocker.
  b.blocks_pixel = !in_app && rng.Bernoulli(pixel_blocked);
  return b;
}

}  // namespace

User MakeUser(uint64_t seed, uint64_t index, double impressions_per_day,
              double organic_visits_per_day, double pixel_blocked_browsers) {
  Rng rng(DeriveSeed(seed, "user", index));
  User u;
  u.index = index;
  char id[32];
  std::snprintf(id, sizeof id, "u%06llu", static_cast<unsigned long long>(index));
  u.id = id;
  u.age = rng.Weighted(kAgeWeights);
  double g = rng.Uniform();
  u.gender = g < 0.52 ? "female" : g < 0.97 ? "male" : "unknown";
  std::vector<double> rw;
  for (const auto& r : Regions()) rw.push_back(r.weight);
  u.region = rng.Weighted(rw);

  std::string home_ip = RandomIp(rng);
  std::string mobile_ip = RandomIp(rng);
  const char* phone_os = rng.Bernoulli(0.5) ? "ios" : "android";
  Device phone{"phone", phone_os, {}};
  phone.browsers.push_back(MakeBrowser(rng, phone_os, "phone", true, mobile_ip, 0));
  phone.browsers.push_back(
      MakeBrowser(rng, phone_os, "phone", false, mobile_ip, pixel_blocked_browsers));
  u.devices.push_back(std::move(phone));
  if (rng.Bernoulli(0.45)) {
    const char* os = rng.Bernoulli(0.7) ? "windows" : "macos";
    Device desktop{"desktop", os, {}};
    desktop.browsers.push_back(
        MakeBrowser(rng, os, "desktop", false, home_ip, pixel_blocked_browsers));
    if (rng.Bernoulli(0.2))
      desktop.browsers.push_back(
          MakeBrowser(rng, os, "desktop", false, home_ip, pixel_blocked_browsers));
    u.devices.push_back(std::move(desktop));
  }
  if (rng.Bernoulli(0.1)) {
    const char* os = rng.Bernoulli(0.6) ? "ios" : "android";
    Device tablet{"tablet", os, {}};
    tablet.browsers.push_back(MakeBrowser(rng, os, "tablet", true, home_ip, 0));
    tablet.browsers.push_back(
        MakeBrowser(rng, os, "tablet", false, home_ip, pixel_blocked_browsers));
    u.devices.push_back(std::move(tablet));
  }

  u.user_key = "tk" + rng.Hex(16);
  // Mixed case and stray spaces, as people type them: ingest must normalize before hashing.
  std::string local = "user" + std::to_string(index);
  if (rng.Bernoulli(0.2)) local[0] = 'U';
  u.email = local + "@" + kEmailDomains[rng.Below(4)];
  u.email_sha256 = ingest::HashIdentifier(ingest::IdentifierKind::kEmail, u.email);
  if (rng.Bernoulli(0.3)) {
    char phone_buf[32];
    std::snprintf(phone_buf, sizeof phone_buf, "+1 555 %03d %04d",
                  static_cast<int>(rng.Below(1000)), static_cast<int>(rng.Below(10000)));
    u.phone = phone_buf;
    u.phone_sha256 = ingest::HashIdentifier(ingest::IdentifierKind::kPhone, u.phone);
  }
  u.external_id = "cust-" + std::to_string(100000 + index);
  u.external_id_sha256 = ingest::HashIdentifier(ingest::IdentifierKind::kExternalId, u.external_id);
  u.platform_knows_email = rng.Bernoulli(0.5);
  u.has_account = rng.Bernoulli(0.2);
  // Heavy and light users: exposure and site affinity vary around the scenario's means.
  u.impressions_per_day = impressions_per_day * rng.Exponential(1.0);
  u.organic_visits_per_day = organic_visits_per_day * rng.Exponential(1.0);
  return u;
}

}  // namespace touchpoint::sim
