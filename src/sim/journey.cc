#include "sim/journey.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <queue>

#include "core/json_writer.h"
#include "core/time.h"
#include "format/url.h"

namespace touchpoint::sim {

JourneyContext MakeJourneyContext(const Scenario& scenario, const Advertiser& advertiser,
                                  uint64_t seed, int64_t start_ms, int64_t end_ms) {
  JourneyContext ctx;
  ctx.scenario = &scenario;
  ctx.advertiser = &advertiser;
  ctx.seed = seed;
  ctx.start_ms = start_ms;
  ctx.end_ms = end_ms;
  ctx.ad_age_ratio.assign(advertiser.ads.size(), std::vector<double>(kAgeBuckets.size(), 1.0));
  ctx.region_ratio.assign(Regions().size(), 1.0);
  for (const Effect& effect : scenario.effects) {
    if (auto* e = std::get_if<StyleByAge>(&effect)) {
      for (size_t i = 0; i < advertiser.ads.size(); ++i) {
        if (advertiser.ads[i].style != e->tag) continue;
        for (size_t age = 0; age < kAgeBuckets.size(); ++age) {
          auto it = e->cvr_ratio_by_age.find(kAgeBuckets[age]);
          if (it != e->cvr_ratio_by_age.end()) ctx.ad_age_ratio[i][age] *= it->second;
        }
      }
    } else if (auto* e = std::get_if<RegionCvr>(&effect)) {
      int r = FindRegion(e->region);
      if (r >= 0) ctx.region_ratio[static_cast<size_t>(r)] *= e->cvr_ratio;
    }
  }
  ctx.first_day = start_ms / kDayMs;
  return ctx;
}

namespace {

// Ad impressions by hour of day (UTC): quiet nights, busy evenings.
constexpr double kDiurnal[24] = {2, 1, 1, 1, 1, 2, 3, 4,  5,  5, 5, 6,
                                 6, 6, 6, 6, 7, 8, 9, 10, 10, 9, 6, 4};
constexpr double kDiurnalMax = 10;
constexpr size_t kNone = SIZE_MAX;

// Shares that shape journeys but are not scenario knobs (they are the same in every world).
constexpr double kSameSessionConversion = 0.6;  // converting clicks that buy at once
constexpr double kReturnOnSameBrowser = 0.35;   // of the rest: back on the landing browser
constexpr double kLoginAtVisit = 0.3;           // account holders who log in on a visit
constexpr double kSignUpAtCheckout = 0.5;       // guests who create an account at checkout
constexpr double kServerSendsCookie = 0.7;      // server events that pass ttp/ttclid along
constexpr double kServerSendsClearEmail = 0.2;  // server events with clear (unhashed) email

std::string Base36(uint64_t v) {
  static const char kDigits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  std::string out;
  do {
    out += kDigits[v % 36];
    v /= 36;
  } while (v);
  std::reverse(out.begin(), out.end());
  return out;
}

double Cents(double v) { return std::round(v * 100) / 100; }

struct Props {
  std::optional<double> value;
  std::string currency;
  std::string order_id;
  std::vector<std::pair<size_t, int>> contents;  // (product, quantity)
};

struct Cause {
  size_t ad = kNone;
  const char* touch = "none";
  std::string click_id;
};

class Journey {
 public:
  Journey(const JourneyContext& ctx, User& user, BlockOutput& out)
      : ctx_(ctx),
        scenario_(*ctx.scenario),
        ads_(ctx.advertiser->ads),
        user_(user),
        out_(out),
        rng_(DeriveSeed(ctx.seed, "journey", user.index)),
        last_site_ms_((ctx.end_ms - 1) / 1000 * 1000),
        region_(Regions()[user.region]) {}

  void Run() {
    SeeAds();
    PlanOrganicVisits();
    while (!tasks_.empty()) {
      Task t = tasks_.top();
      tasks_.pop();
      switch (t.kind) {
        case TaskKind::kLanding:
          Landing(t);
          break;
        case TaskKind::kViewVisit:
          ViewVisit(t);
          break;
        case TaskKind::kOrganicVisit:
          OrganicVisit(t);
          break;
        case TaskKind::kReturn:
          ReturnVisit(t);
          break;
      }
    }
  }

 private:
  enum class TaskKind { kLanding, kViewVisit, kOrganicVisit, kReturn };
  struct Task {
    int64_t time_ms = 0;
    uint64_t seq = 0;
    TaskKind kind = TaskKind::kOrganicVisit;
    size_t ad = kNone;
    std::string click_id;
    size_t device = 0;
    size_t browser = 0;
    std::string path;
  };
  struct Later {
    bool operator()(const Task& a, const Task& b) const {
      return a.time_ms != b.time_ms ? a.time_ms > b.time_ms : a.seq > b.seq;
    }
  };

  void Schedule(Task t) {
    t.seq = task_seq_++;
    tasks_.push(std::move(t));
  }

  // A time in [from, to) following the diurnal curve.
  int64_t DiurnalTime(int64_t from, int64_t to) {
    for (;;) {
      int64_t t = from + static_cast<int64_t>(rng_.Below(static_cast<uint64_t>(to - from)));
      if (rng_.Uniform() * kDiurnalMax < kDiurnal[(t / kHourMs) % 24]) return t;
    }
  }

  int64_t SiteTime(int64_t t) const { return std::min((t + 999) / 1000 * 1000, last_site_ms_); }
  int64_t Next(int64_t t) { return SiteTime(t + rng_.Between(8, 90) * 1000); }

  double ConversionProbability(size_t ad) const {
    double p =
        ads_[ad].cvr_per_click * ctx_.ad_age_ratio[ad][user_.age] * ctx_.region_ratio[user_.region];
    return std::min(1.0, p);
  }

  // --- The ad side ------------------------------------------------------------------------------

  void SeeAds() {
    const auto& eligible = ctx_.advertiser->ads_by_age[user_.age];
    const auto& weights = ctx_.advertiser->weights_by_age[user_.age];
    if (eligible.empty() || user_.impressions_per_day <= 0) return;
    for (int64_t from = ctx_.start_ms; from < ctx_.end_ms; from += kDayMs) {
      int64_t to = std::min(from + kDayMs, ctx_.end_ms);
      int64_t date = (from + (to - from) / 2) / kDayMs;
      int64_t weekday = (date + 4) % 7;  // 1970-01-01 was a Thursday; 0 is Sunday
      double factor = (weekday == 0 || weekday == 6) ? 1.2 : 1.0;
      double mean = user_.impressions_per_day * factor * static_cast<double>(to - from) / kDayMs;
      int64_t n = rng_.Poisson(mean);
      for (int64_t i = 0; i < n; ++i) {
        int64_t t = DiurnalTime(from, to);
        Impression(t, eligible[rng_.Weighted(weights)]);
      }
    }
  }

  void Impression(int64_t t, size_t ad_idx) {
    const SimAd& ad = ads_[ad_idx];
    size_t device = 0;
    for (size_t d = 1; d < user_.devices.size(); ++d)
      if (std::string_view(user_.devices[d].kind) == "tablet" && rng_.Bernoulli(0.2)) device = d;
    double u = rng_.Uniform();
    const char* placement = u < 0.75 ? "tiktok" : u < 0.95 ? "pangle" : "global_app_bundle";
    (*ctx_.impressions)[static_cast<size_t>(t / kDayMs - ctx_.first_day) * ads_.size() + ad_idx]++;
    AdEventOut("impression", t, ad, device, placement, "", -1);
    if (ad.video && rng_.Bernoulli(scenario_.rates.video_play_rate)) {
      bool complete = rng_.Bernoulli(ad.completion);
      int64_t watch = complete
                          ? ad.video_ms
                          : static_cast<int64_t>(rng_.Uniform() * static_cast<double>(ad.video_ms));
      AdEventOut("video_play", std::min(t + rng_.Between(100, 600), ctx_.end_ms - 1), ad, device,
                 placement, "", watch);
    }
    if (rng_.Bernoulli(ad.ctr)) {
      int64_t click_t = std::min(t + rng_.Between(1500, 15000), ctx_.end_ms - 1);
      std::string click_id = "E.C.P." + rng_.Alnum(32);
      AdEventOut("click", click_t, ad, device, placement, click_id, -1);
      Task task;
      task.time_ms = SiteTime(click_t + rng_.Between(1000, 4000));
      task.kind = TaskKind::kLanding;
      task.ad = ad_idx;
      task.click_id = std::move(click_id);
      task.device = device;
      task.browser = 0;  // the in-app browser
      Schedule(std::move(task));
    } else if (rng_.Bernoulli(scenario_.rates.view_through_visit_rate)) {
      int64_t visit = t + rng_.Between(10 * kMinuteMs, kDayMs);
      if (visit < ctx_.end_ms) {
        Task task;
        task.time_ms = SiteTime(visit);
        task.kind = TaskKind::kViewVisit;
        task.ad = ad_idx;
        Schedule(std::move(task));
      }
    }
  }

  void AdEventOut(const char* type, int64_t t, const SimAd& ad, size_t device,
                  const char* placement, std::string_view click_id, int64_t watch_ms) {
    const Device& dev = user_.devices[device];
    std::string json;
    json.reserve(400);
    JsonWriter w(json);
    w.BeginObject().Key("type").String(type).Key("ad_id").String(ad.ad_id);
    w.Key("event_time").Raw(FormatSecondsMs(t)).Key("user_key").String(user_.user_key);
    w.StringIf("click_id", click_id);
    if (watch_ms >= 0) w.Key("watch_ms").Int(watch_ms).Key("video_ms").Int(ad.video_ms);
    if (user_.platform_knows_email) {
      w.Key("email").String(user_.email_sha256);
      w.StringIf("phone", user_.phone_sha256);
    }
    w.Key("age").String(kAgeBuckets[user_.age]).Key("gender").String(user_.gender);
    w.Key("country").String(region_.country).Key("region").String(region_.name);
    w.Key("placement").String(placement).Key("os").String(dev.os).Key("device").String(dev.kind);
    w.EndObject();
    // Ad logs come in hourly exports; some hours' exports are a day late (the same hours for
    // every user, as a real export would be).
    int64_t hour = t / kHourMs;
    int64_t arrival = (hour + 1) * kHourMs + 15 * kMinuteMs;
    if (Rng(DeriveSeed(ctx_.seed, "adlog", static_cast<uint64_t>(hour)))
            .Bernoulli(scenario_.mess.late_ad_logs))
      arrival += kDayMs;
    Emit(Channel::kAdEvents, t, arrival, std::move(json));
  }

  // --- Visits -----------------------------------------------------------------------------------

  void PlanOrganicVisits() {
    double span_days = static_cast<double>(ctx_.end_ms - ctx_.start_ms) / kDayMs;
    int64_t n = rng_.Poisson(user_.organic_visits_per_day * span_days);
    for (int64_t i = 0; i < n; ++i) {
      Task task;
      task.time_ms = SiteTime(DiurnalTime(ctx_.start_ms, ctx_.end_ms));
      task.kind = TaskKind::kOrganicVisit;
      Schedule(std::move(task));
    }
  }

  // A regular (not in-app) browser, any device: where people go to the shop by themselves.
  std::pair<size_t, size_t> PickRegularBrowser() {
    std::vector<std::pair<size_t, size_t>> all;
    for (size_t d = 0; d < user_.devices.size(); ++d)
      for (size_t b = 0; b < user_.devices[d].browsers.size(); ++b)
        if (!user_.devices[d].browsers[b].in_app) all.emplace_back(d, b);
    return all[rng_.Below(all.size())];
  }

  void Landing(const Task& task) {
    const SimAd& ad = ads_[task.ad];
    Browser& b = user_.devices[task.device].browsers[task.browser];
    b.click_id = task.click_id;
    b.click_id_expiry_ms = task.time_ms + 7 * kDayMs;
    std::string url = format::AddQueryParam(ad.landing_url, "ttclid", task.click_id);
    Cause cause{task.ad, "click", task.click_id};
    bool converts = rng_.Bernoulli(ConversionProbability(task.ad));
    if (!converts) {
      if (rng_.Bernoulli(scenario_.rates.landing_pageview_rate))
        Visit(b, task.time_ms, url, "https://www.tiktok.com/", ad.objective, ad.product, false,
              cause, "");
      return;
    }
    if (!rng_.Bernoulli(kSameSessionConversion)) {
      int64_t delay = static_cast<int64_t>(rng_.Exponential(1.5 * kDayMs));
      delay = std::clamp<int64_t>(delay, 10 * kMinuteMs, 14 * kDayMs);
      int64_t back = task.time_ms + delay;
      // Too close to the end to come back: buy now instead, so the planted per-click rate
      // holds to the last day.
      if (back < ctx_.end_ms - kHourMs) {
        Task ret;
        ret.time_ms = SiteTime(back);
        ret.kind = TaskKind::kReturn;
        ret.ad = task.ad;
        ret.click_id = task.click_id;
        if (rng_.Bernoulli(kReturnOnSameBrowser)) {
          ret.device = task.device;
          ret.browser = task.browser;
          ret.path = "same_browser";
        } else {
          auto [d, br] = PickRegularBrowser();
          ret.device = d;
          ret.browser = br;
          ret.path = d == task.device ? "other_browser" : "other_device";
        }
        Visit(b, task.time_ms, url, "https://www.tiktok.com/", ad.objective, ad.product, false,
              cause, "");
        Schedule(std::move(ret));
        return;
      }
    }
    Visit(b, task.time_ms, url, "https://www.tiktok.com/", ad.objective, ad.product, true, cause,
          "same_session");
  }

  void ReturnVisit(const Task& task) {
    const SimAd& ad = ads_[task.ad];
    Browser& b = user_.devices[task.device].browsers[task.browser];
    // On another browser, people with an account log in to check out.
    if (task.path != "same_browser" && user_.has_account && rng_.Bernoulli(0.7)) b.logged_in = true;
    std::string url = ad.objective == Objective::kLead ? "https://shop.example/newsletter"
                                                       : ProductUrl(ad.product);
    Visit(b, task.time_ms, url, "", ad.objective, ad.product, true,
          Cause{task.ad, "click", task.click_id}, task.path);
  }

  void ViewVisit(const Task& task) {
    const SimAd& ad = ads_[task.ad];
    auto [d, br] = PickRegularBrowser();
    Browser& b = user_.devices[d].browsers[br];
    bool converts = rng_.Bernoulli(ConversionProbability(task.ad));
    std::string url = ad.objective == Objective::kLead ? "https://shop.example/newsletter"
                                                       : "https://shop.example/";
    Visit(b, task.time_ms, url, "", ad.objective, ad.product, converts, Cause{task.ad, "view", ""},
          "same_session");
  }

  void OrganicVisit(const Task& task) {
    auto [d, br] = PickRegularBrowser();
    Browser& b = user_.devices[d].browsers[br];
    double ratio = ctx_.region_ratio[user_.region];
    double p_buy = std::min(1.0, scenario_.rates.organic_purchase_per_visit * ratio);
    double p_lead = std::min(1.0 - p_buy, scenario_.rates.organic_lead_per_visit * ratio);
    double u = rng_.Uniform();
    size_t product = static_cast<size_t>(rng_.Below(Products().size()));
    const char* referrer = rng_.Bernoulli(0.5) ? "https://www.google.com/" : "";
    if (u < p_buy)
      Visit(b, task.time_ms, "https://shop.example/", referrer, Objective::kPurchase, product, true,
            Cause{}, "same_session");
    else if (u < p_buy + p_lead)
      Visit(b, task.time_ms, "https://shop.example/newsletter", referrer, Objective::kLead, product,
            true, Cause{}, "same_session");
    else
      Visit(b, task.time_ms, "https://shop.example/", referrer, Objective::kPurchase, product,
            false, Cause{}, "");
  }

  void Visit(Browser& b, int64_t t, const std::string& url, std::string_view referrer,
             Objective objective, size_t product, bool converts, const Cause& cause,
             const std::string& path) {
    t = SiteTime(t);
    PixelEvent(b, "PageView", t, TpJsEventId(t), nullptr, url, referrer, false);
    if (user_.has_account && !b.logged_in && rng_.Bernoulli(kLoginAtVisit)) b.logged_in = true;
    if (objective == Objective::kLead) {
      if (converts) {
        t = Next(t);
        std::string id = "lead-" + std::to_string(user_.index) + "-" + std::to_string(++leads_);
        Conversion(b, "SubmitForm", t, id, Props{}, "https://shop.example/newsletter", cause, path,
                   true);
      } else if (rng_.Bernoulli(0.3)) {
        t = Next(t);
        PixelEvent(b, "ViewContent", t, TpJsEventId(t), nullptr, "https://shop.example/newsletter",
                   url, false);
      }
      return;
    }
    const auto& products = Products();
    std::string page = ProductUrl(product);
    Props viewed;
    viewed.currency = region_.currency;
    viewed.value = products[product].price;
    viewed.contents = {{product, 1}};
    if (!converts) {
      if (!rng_.Bernoulli(0.55)) return;
      t = Next(t);
      PixelEvent(b, "ViewContent", t, TpJsEventId(t), &viewed, page, url, false);
      if (!rng_.Bernoulli(0.3)) return;
      t = Next(t);
      PixelEvent(b, "AddToCart", t, TpJsEventId(t), &viewed, page, url, false);
      if (!rng_.Bernoulli(0.35)) return;
      t = Next(t);
      PixelEvent(b, "InitiateCheckout", t, TpJsEventId(t), &viewed, "https://shop.example/checkout",
                 "https://shop.example/cart", false);
      return;
    }
    Props cart;
    cart.currency = region_.currency;
    cart.contents = {{product, rng_.Bernoulli(0.85) ? 1 : 2}};
    if (rng_.Bernoulli(0.25)) {
      size_t other = static_cast<size_t>(rng_.Below(products.size()));
      if (other != product) cart.contents.emplace_back(other, 1);
    }
    double sum = 0;
    for (auto [p, q] : cart.contents) sum += products[p].price * q;
    cart.value = Cents(sum);
    t = Next(t);
    PixelEvent(b, "ViewContent", t, TpJsEventId(t), &viewed, page, url, false);
    t = Next(t);
    PixelEvent(b, "AddToCart", t, TpJsEventId(t), &cart, page, url, false);
    t = Next(t);
    PixelEvent(b, "InitiateCheckout", t, TpJsEventId(t), &cart, "https://shop.example/checkout",
               "https://shop.example/cart", false);
    if (!user_.has_account && rng_.Bernoulli(kSignUpAtCheckout)) {
      t = Next(t);
      Conversion(b, "CompleteRegistration", t, "reg-" + std::to_string(user_.index), Props{},
                 "https://shop.example/account/welcome", cause, path, false);
      user_.has_account = true;
      b.logged_in = true;
    }
    t = Next(t);
    std::string order = "ord-" + std::to_string(user_.index) + "-" + std::to_string(++orders_);
    cart.order_id = order;
    Conversion(b, "CompletePayment", t, order, cart, "https://shop.example/checkout/thank-you",
               cause, path, true);
  }

  // --- Site events ------------------------------------------------------------------------------

  // tp.js's own event ids: Date.now() in base 36, a dot, 10 random characters.
  std::string TpJsEventId(int64_t t) {
    return Base36(static_cast<uint64_t>(t)) + "." + rng_.Alnum(10);
  }

  void WriteProps(JsonWriter& w, const Props& p) {
    w.Key("properties").BeginObject();
    if (p.value) w.Key("value").Double(*p.value);
    w.StringIf("currency", p.currency);
    w.StringIf("order_id", p.order_id);
    if (!p.contents.empty()) {
      w.Key("content_type").String("product").Key("contents").BeginArray();
      for (auto [idx, qty] : p.contents) {
        const Product& pr = Products()[idx];
        w.BeginObject().Key("content_id").String(pr.content_id);
        w.Key("content_name").String(pr.name).Key("content_category").String(pr.category);
        w.Key("price").Double(pr.price).Key("quantity").Int(qty).EndObject();
      }
      w.EndArray();
    }
    w.EndObject();
  }

  // A tp.js event (dropped when the browser blocks the pixel). identified: identify() ran on
  // this page (a logged-in browser, or the checkout/form page where the email was typed).
  void PixelEvent(Browser& b, const char* event, int64_t t, std::string_view event_id,
                  const Props* props, std::string_view url, std::string_view referrer,
                  bool identified) {
    if (b.blocks_pixel) return;
    std::string json;
    json.reserve(640);
    JsonWriter w(json);
    w.BeginObject().Key("event").String(event).Key("event_id").String(event_id);
    w.Key("event_time").Int(t / 1000);
    w.Key("user").BeginObject();
    if (!b.click_id.empty() && t < b.click_id_expiry_ms) w.Key("ttclid").String(b.click_id);
    w.Key("ttp").String(b.cookie);
    if (identified || b.logged_in) {
      w.Key("email").String(user_.email_sha256);
      w.StringIf("phone", user_.phone_sha256);
      if (user_.has_account) w.Key("external_id").String(user_.external_id_sha256);
    }
    w.Key("ip").String(b.ip).Key("user_agent").String(b.user_agent);
    w.EndObject();
    if (props) WriteProps(w, *props);
    w.Key("page").BeginObject().Key("url").String(url);
    w.StringIf("referrer", referrer);
    w.EndObject().EndObject();
    Emit(Channel::kPixel, t, t, std::move(json));
  }

  // The advertiser's server reporting a conversion through the Events API.
  void ServerEvent(const Browser& b, const char* event, int64_t t, std::string_view event_id,
                   const Props& props, std::string_view url) {
    std::string json;
    json.reserve(640);
    JsonWriter w(json);
    w.BeginObject().Key("event").String(event).Key("event_id").String(event_id);
    w.Key("event_time").Int(t / 1000);
    w.Key("user").BeginObject();
    w.Key("email").String(rng_.Bernoulli(kServerSendsClearEmail) ? user_.email
                                                                 : user_.email_sha256);
    if (!user_.phone.empty() && rng_.Bernoulli(0.6))
      w.Key("phone").String(rng_.Bernoulli(kServerSendsClearEmail) ? user_.phone
                                                                   : user_.phone_sha256);
    if (user_.has_account)
      w.Key("external_id")
          .String(rng_.Bernoulli(0.5) ? user_.external_id : user_.external_id_sha256);
    if (rng_.Bernoulli(kServerSendsCookie)) {
      w.Key("ttp").String(b.cookie);
      if (!b.click_id.empty() && t < b.click_id_expiry_ms) w.Key("ttclid").String(b.click_id);
    }
    w.Key("ip").String(b.ip).Key("user_agent").String(b.user_agent);
    w.EndObject();
    WriteProps(w, props);
    w.Key("page").BeginObject().Key("url").String(url).EndObject();
    w.EndObject();
    int64_t arrival = t + rng_.Between(1000, 60000);
    if (rng_.Bernoulli(scenario_.mess.late_server_events))
      arrival += rng_.Between(kHourMs, 12 * kHourMs);
    Emit(Channel::kEventsApi, t, arrival, std::move(json));
  }

  // A conversion: its pixel and server copies (as the mess decides) and its ground truth.
  void Conversion(Browser& b, const char* event, int64_t t, const std::string& event_id,
                  const Props& props, std::string_view url, const Cause& cause,
                  const std::string& path, bool primary) {
    const Mess& mess = scenario_.mess;
    bool pixel = !b.blocks_pixel;
    bool server = !pixel || !rng_.Bernoulli(mess.server_copy_missing);
    bool shared = !rng_.Bernoulli(mess.unshared_event_id);
    std::string pixel_event_id = shared ? event_id : TpJsEventId(t);
    if (pixel) PixelEvent(b, event, t, pixel_event_id, &props, url, "", true);
    if (server) ServerEvent(b, event, t, event_id, props, url);

    TruthRecord tr;
    tr.time_ms = t;
    tr.order = out_.next_order++;
    tr.touch = cause.touch;
    tr.event = event;
    tr.primary = primary;
    JsonWriter w(tr.json);
    w.BeginObject().Key("event").String(event).Key("event_id").String(event_id);
    w.Key("pixel_event_id");
    if (pixel)
      w.String(pixel_event_id);
    else
      w.Null();
    w.StringIf("order_id", props.order_id);
    w.Key("time").Int(t / 1000);
    if (props.value) w.Key("value").Double(*props.value).Key("currency").String(props.currency);
    w.Key("user").String(user_.id);
    w.Key("ad_id");
    if (cause.ad == kNone)
      w.Null();
    else
      w.String(ads_[cause.ad].ad_id);
    w.Key("touch").String(cause.touch);
    w.StringIf("click_id", cause.click_id);
    w.Key("path").String(path);
    w.Key("copies").String(pixel && server ? "pixel+server" : pixel ? "pixel" : "server");
    w.Key("shared_event_id").Bool(pixel && server && shared);
    w.Key("role").String(primary ? "primary" : "signup");
    w.EndObject();
    out_.truth.push_back(std::move(tr));
  }

  void Emit(Channel channel, int64_t event_time, int64_t arrival, std::string json) {
    Record r;
    r.arrival_ms = arrival;
    r.order = out_.next_order++;
    r.channel = channel;
    r.event_time_ms = event_time;
    r.json = std::move(json);
    out_.records.push_back(std::move(r));
  }

  const JourneyContext& ctx_;
  const Scenario& scenario_;
  const std::vector<SimAd>& ads_;
  User& user_;
  BlockOutput& out_;
  Rng rng_;
  const int64_t last_site_ms_;
  const Region& region_;
  std::priority_queue<Task, std::vector<Task>, Later> tasks_;
  uint64_t task_seq_ = 0;
  int orders_ = 0;
  int leads_ = 0;
};

}  // namespace

void SimulateUser(const JourneyContext& ctx, User& user, BlockOutput& out) {
  Journey(ctx, user, out).Run();
}

}  // namespace touchpoint::sim
