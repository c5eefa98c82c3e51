// The report benchmark: 10 million ad and site events of 1 million people, loaded into a
// query::Dataset, then (a) a delivery + conversion report by campaign x ad x age x gender and
// (b) last-touch attribution of every conversion to ads (7-day click, 1-day view), each timed
// warm as the median of N runs; then (b) again under the data-driven models markov and shapley,
// printed with their ratio to last touch's (b) in the same run. It also writes the same events as
// CSV for the SQL peers (bench/report_bench.sh loads them into ClickHouse, DuckDB and SQLite) and
// our answers as canonical TSV so the script can check that every engine answered the same
// question.
//
// Output: one JSON object per line on stdout (docs/benchmarks.md, "Reports vs ClickHouse,
// DuckDB and SQLite", lists the fields); progress on stderr.
//
// Usage: report_bench [--users N] [--seed S] [--runs N] [--threads N] [--out DIR] [--no-csv]
//                     [--store DIR]
//   --threads: ReportQuery::threads (default: the engine's default)
//   --store:   only write the events into an EventStore at DIR (bench/storage_bench.sh)
//
// The data (all deterministic for a seed; see docs/benchmarks.md for the identity setup):
//   catalog  10 campaigns x 5 ad groups x 4 ads (3 video, 1 image), 7-day click / 1-day view
//   people   --users (default 1,000,000), each with a fixed age bucket, gender, country, OS
//   ad side  impressions (1 + geometric, mean 8 per person), video plays of video ads (1 in 7),
//            clicks (1 in 27 impressions) with a click id; placement per event
//   site     a landing PageView per click (ttclid = the click id), ViewContent / AddToCart,
//            CompletePayment after 22 % of clicks (lag: exponential, mean 2 days) and from 6 % of
//            the people who never clicked (an organic visit 0-2 days after an impression), with a
//            value in quarter dollars (so every engine's sums are exact)
//   spend    per ad and UTC day with impressions: impressions x the ad's CPM

#include <malloc.h>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "core/catalog.h"
#include "core/event.h"
#include "core/time.h"
#include "query/dataset.h"
#include "query/report.h"
#include "store/event_store.h"

namespace touchpoint::bench {
namespace {

// 2025-03-01T00:00:00Z; 30 days of traffic.
constexpr int64_t kStartMs = 1740787200000;
constexpr int kDays = 30;
constexpr int64_t kEndMs = kStartMs + kDays * kDayMs;
constexpr int kCampaigns = 10, kAdGroupsPerCampaign = 5, kAdsPerAdGroup = 4;
constexpr int kAdsPerCampaign = kAdGroupsPerCampaign * kAdsPerAdGroup;
constexpr int kAds = kCampaigns * kAdsPerCampaign;

constexpr std::string_view kAges[] = {"13-17", "18-24", "25-34", "35-44", "45-54", "55+"};
constexpr double kAgeShare[] = {0.05, 0.25, 0.30, 0.20, 0.12, 0.08};
constexpr std::string_view kGenders[] = {"female", "male", "unknown"};
constexpr std::string_view kCountries[] = {"US", "GB", "DE", "FR", "JP", "BR"};
constexpr std::string_view kRegions[] = {"north", "south", "east", "west", "central"};
constexpr std::string_view kPlacements[] = {"tiktok", "pangle", "global_app_bundle"};
constexpr std::string_view kOses[] = {"ios", "android"};
constexpr std::string_view kDevices[] = {"phone", "tablet"};
constexpr int64_t kVideoMs[] = {9000, 15000, 30000, 0};  // by ad position; the 4th is an image

// xoshiro256** seeded through splitmix64: fast, and the same stream on every platform.
class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& s : s_) s = SplitMix(seed);
  }
  static uint64_t SplitMix(uint64_t& x) {
    uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
  }
  uint64_t Next() {
    const uint64_t result = Rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = Rotl(s_[3], 45);
    return result;
  }
  double Uniform() { return static_cast<double>(Next() >> 11) * 0x1.0p-53; }  // [0, 1)
  uint64_t Below(uint64_t n) { return static_cast<uint64_t>(Uniform() * static_cast<double>(n)); }
  int64_t Between(int64_t lo, int64_t hi) { return lo + static_cast<int64_t>(Below(hi - lo + 1)); }
  bool Chance(double p) { return Uniform() < p; }
  double Exponential(double mean) { return -std::log(1.0 - Uniform()) * mean; }

 private:
  static uint64_t Rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

// One generated event, compact: 24 bytes, 10 M of them before they become StoredEvents.
enum Kind : uint8_t {
  kImpression = 0,
  kVideoPlay = 1,
  kClick = 2,  // = AdEventType and the SQL `type` column
  kPageView = 3,
  kViewContent = 4,
  kAddToCart = 5,
  kCompletePayment = 6,
};
constexpr std::string_view kSiteEventNames[] = {"PageView", "ViewContent", "AddToCart",
                                                "CompletePayment"};
enum Flags : uint8_t { kCarriesEmail = 1, kLanding = 2 };

struct Rec {
  int64_t time_ms;
  uint32_t user;
  uint32_t aux;  // click: click number; play: watch_ms; landing PageView: the click's number;
                 // CompletePayment: value in quarter dollars
  uint8_t kind;
  uint8_t ad;  // ad events: 0..199
  uint8_t flags;
  uint8_t placement;
};
static_assert(sizeof(Rec) == 24);

struct Person {
  uint8_t age, gender, country, region, os, device;
};

uint64_t PersonHash(uint64_t seed, uint32_t user) {
  uint64_t x = seed ^ (0xa5a5a5a5ULL + user * 0x100000001b3ULL);
  Rng::SplitMix(x);
  return Rng::SplitMix(x);
}

Person PersonOf(uint64_t seed, uint32_t user) {
  uint64_t h = PersonHash(seed, user);
  Person p{};
  double a = static_cast<double>(h & 0xffff) / 65536.0;
  p.age = 5;
  for (uint8_t i = 0; i < 6; ++i) {
    if (a < kAgeShare[i]) {
      p.age = i;
      break;
    }
    a -= kAgeShare[i];
  }
  uint32_t g = (h >> 16) & 0xff;  // 0..255: ~50 % female, ~46 % male, ~4 % unknown
  p.gender = g < 128 ? 0 : g < 246 ? 1 : 2;
  p.country = static_cast<uint8_t>(((h >> 24) & 0xff) % std::size(kCountries));
  p.region = static_cast<uint8_t>(((h >> 32) & 0xff) % std::size(kRegions));
  p.os = static_cast<uint8_t>((h >> 40) & 1);
  p.device = ((h >> 41) & 0xf) == 0 ? 1 : 0;
  return p;
}

// 64 lowercase hex digits standing in for SHA-256(email) of person `user`: the engine only
// compares them, so a deterministic 256-bit mix is as good as the real digest here.
std::string EmailHash(uint64_t seed, uint32_t user) {
  uint64_t x = PersonHash(seed ^ 0x5eed, user);
  std::string out(64, '0');
  static constexpr char kHex[] = "0123456789abcdef";
  for (int w = 0; w < 4; ++w) {
    uint64_t v = Rng::SplitMix(x);
    for (int i = 0; i < 16; ++i) out[w * 16 + i] = kHex[(v >> (60 - 4 * i)) & 0xf];
  }
  return out;
}

std::string CampaignId(int c) { return "cmp-" + std::to_string(100 + c).substr(1); }
std::string AdGroupId(int c, int g) { return CampaignId(c) + "-g" + std::to_string(g + 1); }
std::string AdIdOf(int ad) {
  const int c = ad / kAdsPerCampaign, g = (ad % kAdsPerCampaign) / kAdsPerAdGroup,
            a = ad % kAdsPerAdGroup;
  return AdGroupId(c, g) + "-a" + std::to_string(a + 1);
}

struct World {
  std::shared_ptr<Catalog> catalog = std::make_shared<Catalog>();
  std::vector<double> campaign_cum;         // cumulative campaign weights
  std::vector<std::vector<double>> ad_cum;  // per campaign: cumulative ad weights
  std::vector<int64_t> cpm_cents;           // per ad
  std::vector<SpendRow> spend;
  std::vector<std::string> ad_ids;  // by ad index
};

World MakeWorld(Rng& rng) {
  World w;
  double cum = 0;
  for (int c = 0; c < kCampaigns; ++c) {
    Campaign campaign;
    campaign.campaign_id = CampaignId(c);
    campaign.name = "Campaign " + std::to_string(c + 1);
    cum += 1.0 + 2.0 * rng.Uniform();
    w.campaign_cum.push_back(cum);
    std::vector<double> ads;
    double acum = 0;
    for (int g = 0; g < kAdGroupsPerCampaign; ++g) {
      AdGroup group;
      group.adgroup_id = AdGroupId(c, g);
      group.name = "Ad group " + std::to_string(g + 1);
      group.click_window_days = 7;
      group.view_window_days = 1;
      const double group_weight = 0.5 + rng.Uniform();
      for (int a = 0; a < kAdsPerAdGroup; ++a) {
        const int index = c * kAdsPerCampaign + g * kAdsPerAdGroup + a;
        Ad ad;
        ad.ad_id = AdIdOf(index);
        ad.name = "Ad " + ad.ad_id;
        ad.landing_url = "https://shop.example/p/" + std::to_string(index);
        ad.creative.format = kVideoMs[a] ? "video" : "image";
        ad.creative.video_ms = kVideoMs[a];
        ad.creative.call_to_action = a % 2 ? "learn_more" : "shop_now";
        ad.creative.tags = {a == 0 ? "ugc" : a == 1 ? "humor" : "straight-pitch"};
        group.ads.push_back(ad);
        acum += group_weight / (1.0 + a);
        ads.push_back(acum);
        w.cpm_cents.push_back(rng.Between(400, 1500));
        w.ad_ids.push_back(ad.ad_id);
      }
      campaign.adgroups.push_back(std::move(group));
    }
    w.ad_cum.push_back(std::move(ads));
    w.catalog->campaigns.push_back(std::move(campaign));
  }
  return w;
}

size_t PickCumulative(const std::vector<double>& cum, Rng& rng) {
  const double x = rng.Uniform() * cum.back();
  return static_cast<size_t>(std::upper_bound(cum.begin(), cum.end(), x) - cum.begin());
}

struct Generated {
  std::vector<Rec> recs;  // sorted by time (the order a store would have committed them)
  size_t counts[7] = {};
  uint32_t clicks = 0;
};

// Everything one person does. Times within a person are made distinct (ties would make "the
// last touch" depend on tie-breaking, which SQL engines need not agree on).
void GeneratePerson(uint32_t user, const World& w, Rng& rng, Generated& g, std::vector<Rec>& mine,
                    std::vector<int64_t>& imps_by_ad_day) {
  mine.clear();
  const size_t campaigns[2] = {PickCumulative(w.campaign_cum, rng),
                               PickCumulative(w.campaign_cum, rng)};
  const uint32_t n_imps =
      1 + std::min<uint32_t>(300, static_cast<uint32_t>(std::floor(std::log(1.0 - rng.Uniform()) /
                                                                   std::log(7.0 / 8.0))));
  bool clicked = false;
  auto site = [&](Kind kind, int64_t t, uint32_t aux, uint8_t flags) {
    if (t < kEndMs) mine.push_back(Rec{t, user, aux, kind, 0, flags, 0});
  };
  auto conversion = [&](int64_t t) {
    site(kCompletePayment, t, static_cast<uint32_t>(rng.Between(20, 800)), 0);  // $5.00-$200.00
  };
  for (uint32_t i = 0; i < n_imps; ++i) {
    const size_t c = campaigns[rng.Below(2)];
    const int ad =
        static_cast<int>(c) * kAdsPerCampaign + static_cast<int>(PickCumulative(w.ad_cum[c], rng));
    const int64_t t = kStartMs + static_cast<int64_t>(rng.Below(kDays * kDayMs));
    const uint8_t placement = static_cast<uint8_t>(rng.Below(std::size(kPlacements)));
    mine.push_back(Rec{t, user, 0, kImpression, static_cast<uint8_t>(ad), 0, placement});
    const int64_t video_ms = kVideoMs[ad % kAdsPerAdGroup];
    if (video_ms && rng.Chance(1.0 / 7.0)) {
      const int64_t watch = rng.Chance(0.3) ? video_ms : rng.Between(500, video_ms);
      const int64_t tp = t + rng.Between(300, 3000);
      if (tp < kEndMs)
        mine.push_back(Rec{tp, user, static_cast<uint32_t>(watch), kVideoPlay,
                           static_cast<uint8_t>(ad), 0, placement});
    }
    if (rng.Chance(0.0375)) {
      const int64_t tc = t + rng.Between(1000, 30000);
      if (tc >= kEndMs) continue;
      const uint32_t click = g.clicks++;
      clicked = true;
      mine.push_back(Rec{tc, user, click, kClick, static_cast<uint8_t>(ad), 0, placement});
      const int64_t landing = tc + rng.Between(1000, 5000);
      site(kPageView, landing, click, kLanding);
      if (rng.Chance(0.4)) site(kViewContent, landing + rng.Between(20000, 600000), 0, 0);
      if (rng.Chance(0.25)) site(kAddToCart, landing + rng.Between(60000, 1800000), 0, 0);
      if (rng.Chance(0.22))
        conversion(landing + 60000 + static_cast<int64_t>(rng.Exponential(2.0 * kDayMs)));
    }
  }
  if (!clicked && rng.Chance(0.06)) {
    // An organic visit some time after one of the impressions: view-through when within a day.
    const int64_t seen = mine[rng.Below(mine.size())].time_ms;
    const int64_t visit = seen + 60000 + static_cast<int64_t>(rng.Exponential(0.75 * kDayMs));
    site(kPageView, visit, 0, 0);
    if (rng.Chance(0.9)) conversion(visit + rng.Between(60000, 1800000));
  }
  std::sort(mine.begin(), mine.end(), [](const Rec& a, const Rec& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.kind < b.kind;
  });
  for (size_t i = 1; i < mine.size(); ++i)
    if (mine[i].time_ms <= mine[i - 1].time_ms) mine[i].time_ms = mine[i - 1].time_ms + 1;
  // Linking people who never clicked: the platform shares a hashed email on their first ad
  // event, and their first site event carries the same hash (as after a sign-up). Done for
  // everyone with site events; for clickers it only repeats what the ttclid already joined.
  bool any_site = false;
  for (auto& r : mine) any_site |= r.kind >= kPageView;
  if (any_site) {
    bool ad_done = false, site_done = false;
    for (auto& r : mine) {
      if (r.kind < kPageView && !ad_done) {
        r.flags |= kCarriesEmail;
        ad_done = true;
      }
      if (r.kind >= kPageView && !site_done) {
        r.flags |= kCarriesEmail;
        site_done = true;
      }
    }
  }
  for (auto& r : mine) {
    if (r.time_ms >= kEndMs) continue;  // a bump past the end: drop (rare)
    g.counts[r.kind]++;
    if (r.kind == kImpression) imps_by_ad_day[r.ad * kDays + (r.time_ms - kStartMs) / kDayMs]++;
    g.recs.push_back(r);
  }
}

Generated Generate(uint32_t users, uint64_t seed, World& w) {
  Generated g;
  g.recs.reserve(static_cast<size_t>(users) * 10 + 1024);
  Rng rng(seed);
  std::vector<Rec> mine;
  std::vector<int64_t> imps(kAds * kDays, 0);
  for (uint32_t u = 0; u < users; ++u) GeneratePerson(u, w, rng, g, mine, imps);
  std::sort(g.recs.begin(), g.recs.end(), [](const Rec& a, const Rec& b) {
    return a.time_ms != b.time_ms ? a.time_ms < b.time_ms : a.user < b.user;
  });
  // Spend only on (ad, day)s with impressions: the engine would put the spend of a day without
  // impressions under "unknown" audience, a corner the SQL versions don't reproduce.
  for (int ad = 0; ad < kAds; ++ad)
    for (int d = 0; d < kDays; ++d) {
      const int64_t n = imps[ad * kDays + d];
      if (!n) continue;
      const int64_t cents = std::max<int64_t>(1, n * w.cpm_cents[ad] / 1000 + rng.Between(0, 99));
      w.spend.push_back(SpendRow{kStartMs + d * kDayMs, w.ad_ids[ad], cents / 100.0, "USD"});
    }
  return g;
}

// --- CSV -----------------------------------------------------------------------------------

class CsvWriter {
 public:
  explicit CsvWriter(const std::string& path) : f_(std::fopen(path.c_str(), "wb")), path_(path) {
    if (!f_) {
      std::fprintf(stderr, "report_bench: cannot write %s: %s\n", path.c_str(),
                   std::strerror(errno));
      std::exit(2);
    }
    buf_.reserve(1 << 20);
  }
  ~CsvWriter() {
    Flush();
    if (std::fclose(f_) != 0) {
      std::fprintf(stderr, "report_bench: write error on %s\n", path_.c_str());
      std::exit(2);
    }
  }
  CsvWriter& Int(int64_t v) {
    char tmp[24];
    auto [p, ec] = std::to_chars(tmp, tmp + sizeof tmp, v);
    buf_.append(tmp, p);
    return Sep();
  }
  CsvWriter& Str(std::string_view s) {
    buf_.append(s);
    return Sep();
  }
  CsvWriter& Cents(int64_t cents) {  // "12.34"
    return Str(std::to_string(cents / 100) + "." + std::to_string(100 + cents % 100).substr(1));
  }
  void End() {
    buf_.back() = '\n';
    if (buf_.size() > (1 << 20) - 256) Flush();
  }

 private:
  CsvWriter& Sep() {
    buf_.push_back(',');
    return *this;
  }
  void Flush() {
    if (!buf_.empty() && std::fwrite(buf_.data(), 1, buf_.size(), f_) != buf_.size()) {
      std::fprintf(stderr, "report_bench: write error on %s\n", path_.c_str());
      std::exit(2);
    }
    buf_.clear();
  }
  std::FILE* f_;
  std::string path_;
  std::string buf_;
};

// The SQL engines' copy: the same events, with `user_id` = the person (the identity that the
// engine resolves from user keys, click ids, cookies and email hashes) and `ad` = the ad's index
// in ads.csv. Quarter-dollar values and whole-cent spend are written exactly.
void WriteCsv(const std::string& dir, const Generated& g, const World& w, uint64_t seed) {
  {
    CsvWriter ads(dir + "/ads.csv");
    ads.Str("ad").Str("ad_id").Str("adgroup_id").Str("campaign_id").End();
    for (int ad = 0; ad < kAds; ++ad)
      ads.Int(ad)
          .Str(w.ad_ids[ad])
          .Str(AdGroupId(ad / kAdsPerCampaign, (ad % kAdsPerCampaign) / kAdsPerAdGroup))
          .Str(CampaignId(ad / kAdsPerCampaign))
          .End();
  }
  {
    CsvWriter spend(dir + "/spend.csv");
    spend.Str("day_ms").Str("ad").Str("spend").End();
    for (const auto& s : w.spend) {
      const int ad =
          static_cast<int>(std::find(w.ad_ids.begin(), w.ad_ids.end(), s.ad_id) - w.ad_ids.begin());
      spend.Int(s.day_ms).Int(ad).Cents(std::llround(s.spend * 100)).End();
    }
  }
  CsvWriter ads(dir + "/ad_events.csv"), sites(dir + "/site_events.csv");
  ads.Str("time_ms")
      .Str("user_id")
      .Str("ad")
      .Str("type")
      .Str("watch_ms")
      .Str("video_ms")
      .Str("age")
      .Str("gender")
      .Str("country")
      .Str("region")
      .Str("placement")
      .Str("os")
      .Str("device")
      .End();
  sites.Str("time_ms").Str("user_id").Str("event").Str("value").End();
  for (const Rec& r : g.recs) {
    if (r.kind <= kClick) {
      const Person p = PersonOf(seed, r.user);
      const int64_t video_ms = r.kind == kVideoPlay ? kVideoMs[r.ad % kAdsPerAdGroup] : 0;
      ads.Int(r.time_ms)
          .Int(r.user)
          .Int(r.ad)
          .Int(r.kind)
          .Int(r.kind == kVideoPlay ? r.aux : 0)
          .Int(video_ms)
          .Str(kAges[p.age])
          .Str(kGenders[p.gender])
          .Str(kCountries[p.country])
          .Str(kRegions[p.region])
          .Str(kPlacements[r.placement])
          .Str(kOses[p.os])
          .Str(kDevices[p.device])
          .End();
    } else {
      sites.Int(r.time_ms)
          .Int(r.user)
          .Str(kSiteEventNames[r.kind - kPageView])
          .Cents(r.kind == kCompletePayment ? static_cast<int64_t>(r.aux) * 25 : 0)
          .End();
    }
  }
}

// --- Loading -------------------------------------------------------------------------------

// Calls visit(seq, event) for each generated event, as the stored events it stands for.
template <typename Visit>
void ForEachEvent(const Generated& g, const World& w, uint64_t seed, Visit&& visit) {
  store::StoredEvent ad_event{AdEvent{}};
  store::StoredEvent site_event{SiteEvent{}};
  auto& ad = std::get<AdEvent>(ad_event);
  auto& site = std::get<SiteEvent>(site_event);
  site.pixel_id = "BENCHPIXEL01";
  site.source = "web";
  site.currency = "USD";
  std::string user_key;
  uint64_t seq = 0;
  for (const Rec& r : g.recs) {
    ++seq;
    if (r.kind <= kClick) {
      const Person p = PersonOf(seed, r.user);
      ad.type = static_cast<AdEventType>(r.kind);
      ad.ad_id = w.ad_ids[r.ad];
      ad.event_time_ms = r.time_ms;
      ad.user_key = "u" + std::to_string(r.user);
      ad.click_id = r.kind == kClick ? "k" + std::to_string(r.aux) : std::string();
      ad.watch_ms = r.kind == kVideoPlay ? r.aux : 0;
      ad.video_ms = r.kind == kVideoPlay ? kVideoMs[r.ad % kAdsPerAdGroup] : 0;
      ad.email_sha256.clear();
      if (r.flags & kCarriesEmail) ad.email_sha256.push_back(EmailHash(seed, r.user));
      ad.age = kAges[p.age];
      ad.gender = kGenders[p.gender];
      ad.country = kCountries[p.country];
      ad.region = kRegions[p.region];
      ad.placement = kPlacements[r.placement];
      ad.os = kOses[p.os];
      ad.device = kDevices[p.device];
      visit(seq, ad_event);
    } else {
      site.event = kSiteEventNames[r.kind - kPageView];
      site.event_time_ms = r.time_ms;
      site.user.ttp = "c" + std::to_string(r.user);
      site.user.ttclid = (r.flags & kLanding) ? "k" + std::to_string(r.aux) : std::string();
      site.user.email_sha256.clear();
      if (r.flags & kCarriesEmail) site.user.email_sha256.push_back(EmailHash(seed, r.user));
      site.value.reset();
      if (r.kind == kCompletePayment) site.value = r.aux * 0.25;
      visit(seq, site_event);
    }
  }
}

void Load(const Generated& g, const World& w, uint64_t seed, query::Dataset& ds) {
  ds.SetCatalog(w.catalog);
  ds.SetSpend(w.spend);
  ForEachEvent(g, w, seed, [&](uint64_t seq, const store::StoredEvent& ev) { ds.Append(seq, ev); });
}

// Writes the events into an EventStore at `dir` (for bench/storage_bench.sh): as the server
// stores them, sealing as it goes.
int WriteStore(const Generated& g, const World& w, uint64_t seed, const std::string& dir) {
  SystemClock clock;
  store::StoreOptions options;
  options.data_dir = dir;
  options.synchronous_full = false;
  auto store = store::EventStore::Open(options, &clock);
  if (!store.ok()) {
    std::fprintf(stderr, "report_bench: %s\n", store.status().message().c_str());
    return 1;
  }
  std::vector<store::StoredEvent> batch;
  Status failed;
  ForEachEvent(g, w, seed, [&](uint64_t, const store::StoredEvent& ev) {
    batch.push_back(ev);
    if (batch.size() < 20000) return;
    store::WriteResult r = (*store)->Write(std::move(batch));
    if (!r.status.ok()) failed = r.status;
    batch.clear();
  });
  if (!batch.empty()) {
    store::WriteResult r = (*store)->Write(std::move(batch));
    if (!r.status.ok()) failed = r.status;
  }
  if (!failed.ok()) {
    std::fprintf(stderr, "report_bench: writing the store: %s\n", failed.message().c_str());
    return 1;
  }
  return 0;
}

// --- Measuring -----------------------------------------------------------------------------

double Now() {
  return std::chrono::duration<double>(std::chrono::steady_clock::now().time_since_epoch()).count();
}

double CpuNow() {
  timespec ts{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}

// Resident set size in bytes, after returning freed heap pages to the kernel.
size_t RssBytes() {
  malloc_trim(0);
  std::ifstream status("/proc/self/status");
  std::string line;
  while (std::getline(status, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::strtoull(line.c_str() + 6, nullptr, 10) * 1024;
  return 0;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  const size_t n = v.size();
  return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

std::string JsonList(const std::vector<double>& v) {
  std::string s = "[";
  for (size_t i = 0; i < v.size(); ++i) {
    char tmp[32];
    std::snprintf(tmp, sizeof tmp, "%s%.6f", i ? "," : "", v[i]);
    s += tmp;
  }
  return s + "]";
}

// One warm-up run, then `runs` timed ones: wall seconds and CPU seconds (all threads) of each.
query::ReportResult TimeReport(const query::Dataset& ds, const query::ReportQuery& q, int runs,
                               std::vector<double>& seconds, std::vector<double>& cpu_seconds) {
  auto warm = query::RunReport(ds, q);
  if (!warm.ok()) {
    std::fprintf(stderr, "report_bench: report failed: %s\n", warm.status().ToString().c_str());
    std::exit(1);
  }
  query::ReportResult last = std::move(*warm);
  for (int i = 0; i < runs; ++i) {
    const double t0 = Now(), c0 = CpuNow();
    auto r = query::RunReport(ds, q);
    seconds.push_back(Now() - t0);
    cpu_seconds.push_back(CpuNow() - c0);
    last = std::move(*r);
  }
  return last;
}

int64_t Cents(double x) { return std::llround(x * 100); }

void PrintQuery(const char* name, const query::ReportQuery& q, const std::vector<double>& s,
                const std::vector<double>& cpu, const query::ReportResult& r) {
  const auto& m = r.totals;
  std::printf(
      "{\"bench\":\"report\",\"engine\":\"touchpoint\",\"query\":\"%s\",\"threads\":%d,"
      "\"delivery\":%s,\"median_s\":%.6f,\"min_s\":%.6f,\"cpu_median_s\":%.6f,\"runs_s\":%s,"
      "\"cpu_runs_s\":%s,\"rows\":%zu,\"totals\":{\"impressions\":%" PRId64 ",\"reach\":%" PRId64
      ",\"clicks\":%" PRId64 ",\"video_plays\":%" PRId64 ",\"watch_ms\":%" PRId64
      ",\"spend_cents\":%" PRId64
      ",\"conversions_click\":%.0f"
      ",\"conversions_view\":%.0f,\"value_cents\":%" PRId64 ",\"unattributed\":%.0f}}\n",
      name, q.threads, q.delivery ? "true" : "false", Median(s),
      *std::min_element(s.begin(), s.end()), Median(cpu), JsonList(s).c_str(),
      JsonList(cpu).c_str(), r.rows.size(), m.impressions, m.reach, m.clicks, m.video_plays,
      m.watch_ms, Cents(m.spend), m.conversions_click, m.conversions_view, Cents(m.value),
      r.unattributed_conversions);
  std::fflush(stdout);
}

// Canonical answers (tab-separated, one row per group, integers only) for the script to compare.
void WriteAnswerA(const std::string& path, const query::ReportResult& r) {
  std::ofstream out(path);
  for (const auto& row : r.rows) {
    const auto& m = row.metrics;
    out << row.dims[0] << '\t' << row.dims[1] << '\t' << row.dims[2] << '\t' << row.dims[3] << '\t'
        << m.impressions << '\t' << m.reach << '\t' << m.clicks << '\t' << m.video_plays << '\t'
        << m.watch_ms << '\t' << std::llround(m.conversions_click) << '\t'
        << std::llround(m.conversions_view) << '\t' << Cents(m.value) << '\t' << Cents(m.spend)
        << '\n';
  }
}

void WriteAnswerB(const std::string& path, const query::ReportResult& r) {
  std::ofstream out(path);
  for (const auto& row : r.rows) {
    const auto& m = row.metrics;
    if (m.conversions() == 0) continue;  // the SQL answer lists ads with attributed conversions
    out << row.dims[0] << '\t' << std::llround(m.conversions_click) << '\t'
        << std::llround(m.conversions_view) << '\t' << Cents(m.value) << '\n';
  }
}

struct Options {
  uint32_t users = 1000000;
  uint64_t seed = 42;
  int runs = 7;
  int threads = query::ReportQuery{}.threads;
  std::string out_dir = ".";
  bool csv = true;
  std::string store_dir;  // --store: write the events into an EventStore there, and stop
};

int Main(int argc, char** argv) {
  Options o;
  for (int i = 1; i < argc; ++i) {
    std::string_view a = argv[i];
    auto value = [&]() -> const char* {
      if (i + 1 >= argc) {
        std::fprintf(stderr, "report_bench: %s needs a value\n", argv[i]);
        std::exit(2);
      }
      return argv[++i];
    };
    if (a == "--users")
      o.users = static_cast<uint32_t>(std::strtoul(value(), nullptr, 10));
    else if (a == "--seed")
      o.seed = std::strtoull(value(), nullptr, 10);
    else if (a == "--runs")
      o.runs = std::max(1, std::atoi(value()));
    else if (a == "--threads")
      o.threads = std::max(1, std::atoi(value()));
    else if (a == "--out")
      o.out_dir = value();
    else if (a == "--no-csv")
      o.csv = false;
    else if (a == "--store")
      o.store_dir = value();
    else {
      std::fprintf(
          stderr,
          "usage: report_bench [--users N] [--seed S] [--runs N] [--threads N] [--out DIR] "
          "[--no-csv] [--store DIR]\n");
      return 2;
    }
  }
  if (o.users == 0) {
    std::fprintf(stderr, "report_bench: --users must be positive\n");
    return 2;
  }
  std::filesystem::create_directories(o.out_dir);

  Rng world_rng(o.seed ^ 0xc0ffee);
  World world = MakeWorld(world_rng);
  double t0 = Now();
  Generated g = Generate(o.users, o.seed, world);
  const double generate_s = Now() - t0;
  const size_t n_events = g.recs.size();
  const size_t n_ad = g.counts[kImpression] + g.counts[kVideoPlay] + g.counts[kClick];
  std::printf(
      "{\"bench\":\"report\",\"phase\":\"generate\",\"seconds\":%.3f,\"users\":%u,\"seed\":%" PRIu64
      ",\"events\":%zu,\"ad_events\":%zu,\"site_events\":%zu,\"impressions\":%zu,"
      "\"video_plays\":%zu,\"clicks\":%zu,\"page_views\":%zu,\"view_content\":%zu,"
      "\"add_to_cart\":%zu,\"conversions\":%zu,\"spend_rows\":%zu}\n",
      generate_s, o.users, o.seed, n_events, n_ad, n_events - n_ad, g.counts[kImpression],
      g.counts[kVideoPlay], g.counts[kClick], g.counts[kPageView], g.counts[kViewContent],
      g.counts[kAddToCart], g.counts[kCompletePayment], world.spend.size());
  std::fflush(stdout);

  if (!o.store_dir.empty()) {
    std::fprintf(stderr, "report_bench: writing %zu events into a store at %s\n", n_events,
                 o.store_dir.c_str());
    t0 = Now();
    const int rc = WriteStore(g, world, o.seed, o.store_dir);
    std::printf("{\"bench\":\"report\",\"phase\":\"store\",\"seconds\":%.3f}\n", Now() - t0);
    return rc;
  }
  if (o.csv) {
    std::fprintf(stderr, "report_bench: writing CSV to %s\n", o.out_dir.c_str());
    t0 = Now();
    WriteCsv(o.out_dir, g, world, o.seed);
    std::printf("{\"bench\":\"report\",\"phase\":\"csv\",\"seconds\":%.3f}\n", Now() - t0);
    std::fflush(stdout);
  }

  std::fprintf(stderr, "report_bench: loading %zu events into the Dataset\n", n_events);
  const size_t rss_before = RssBytes();
  query::Dataset ds;
  t0 = Now();
  Load(g, world, o.seed, ds);
  const double load_s = Now() - t0;
  t0 = Now();
  ds.Cluster();
  const double index_s = Now() - t0;
  ds.ShrinkToFit();
  const size_t rss_after = RssBytes();
  const auto stats = ds.Stats();
  std::printf(
      "{\"bench\":\"report\",\"phase\":\"load\",\"load_s\":%.3f,\"index_build_s\":%.3f,"
      "\"events\":%zu,\"ad_events\":%zu,\"site_events\":%zu,\"identifiers\":%zu,\"clusters\":%zu,"
      "\"identity_merges\":%" PRIu64 ",\"refused_merges\":%" PRIu64
      ",\"memory_bytes\":%zu,"
      "\"bytes_per_event\":%.1f,\"rss_before\":%zu,\"rss_after\":%zu,\"rss_bytes_per_event\":%.1f}"
      "\n",
      load_s, index_s, n_events, stats.ad_events, stats.site_events, stats.identifiers,
      stats.clusters, stats.identity_merges, stats.refused_merges, stats.memory_bytes,
      static_cast<double>(stats.memory_bytes) / n_events, rss_before, rss_after,
      (static_cast<double>(rss_after) - static_cast<double>(rss_before)) / n_events);
  std::fflush(stdout);
  // Every person must be exactly one cluster, or the SQL engines' user_id would not be the
  // same question (the last cluster is the anonymous one).
  if (stats.clusters != static_cast<size_t>(o.users) + 1) {
    std::fprintf(stderr,
                 "report_bench: %zu identity clusters for %u people: the data's identity "
                 "links are broken\n",
                 stats.clusters, o.users);
    return 1;
  }
  std::vector<Rec>().swap(g.recs);

  query::ReportQuery qa;
  qa.from_ms = kStartMs;
  qa.to_ms = kEndMs;
  qa.dims = {query::Dim::kCampaign, query::Dim::kAd, query::Dim::kAge, query::Dim::kGender};
  qa.model = "last_touch";
  qa.click_window_days = 7;
  qa.view_window_days = 1;
  qa.threads = o.threads;
  // (b) asks for conversions only, as its SQL does: no delivery pass.
  query::ReportQuery qb = qa;
  qb.dims = {query::Dim::kAd};
  qb.delivery = false;

  std::fprintf(stderr, "report_bench: timing (a) and (b), %d warm runs each\n", o.runs);
  std::vector<double> sa, sb, ca, cb;
  const auto ra = TimeReport(ds, qa, o.runs, sa, ca);
  PrintQuery("a", qa, sa, ca, ra);
  const auto rb = TimeReport(ds, qb, o.runs, sb, cb);
  PrintQuery("b", qb, sb, cb, rb);
  WriteAnswerA(o.out_dir + "/touchpoint_a.tsv", ra);
  WriteAnswerB(o.out_dir + "/touchpoint_b.tsv", rb);

  // The data-driven models by ad (issue 22): query (b) under markov and shapley, each fitted on
  // every journey (converting and not) before crediting, timed beside last touch's (b) above.
  for (const char* model : {"markov", "shapley"}) {
    std::fprintf(stderr, "report_bench: timing (b) under %s, %d warm runs\n", model, o.runs);
    query::ReportQuery qm = qb;
    qm.model = model;
    std::vector<double> sm, cm;
    const auto rm = TimeReport(ds, qm, o.runs, sm, cm);
    PrintQuery(model, qm, sm, cm, rm);
    std::printf(
        "{\"bench\":\"report\",\"phase\":\"data_driven\",\"model\":\"%s\",\"by\":\"ad\","
        "\"median_s\":%.6f,\"last_touch_median_s\":%.6f,\"ratio\":%.2f,\"bound\":3,"
        "\"journeys_converting\":%zu,\"journeys_not_converting\":%zu}\n",
        model, Median(sm), Median(sb), Median(sm) / Median(sb), rm.journeys_converting,
        rm.journeys_not_converting);
    std::fflush(stdout);
  }
  return 0;
}

}  // namespace
}  // namespace touchpoint::bench

int main(int argc, char** argv) { return touchpoint::bench::Main(argc, argv); }
