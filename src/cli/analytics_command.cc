// `touchpoint funnel` and `touchpoint insights`: the funnel and insights reports of
// docs/funnels.md and docs/insights.md, read from a data directory or asked of a running server.
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <iostream>
#include <memory>

#include "cli/analytics_source.h"
#include "cli/commands.h"
#include "format/url.h"
#include "query/dataset.h"
#include "query/funnel.h"
#include "query/insights.h"
#include "server/http_client.h"
#include "store/event_store.h"

namespace touchpoint::cli {

namespace {

struct FunnelOpts {
  Source src;
  std::string steps, window, breakdown, from, to, tz, pixel_id, lookback;
  bool any_ad = false;
};

int RunFunnelCommand(const FunnelOpts& o) {
  Params params;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) params.emplace_back(k, v);
  };
  add("steps", o.steps);
  add("window", o.window);
  add("breakdown", o.breakdown);
  add("from", o.from);
  add("to", o.to);
  add("tz", o.tz);
  add("pixel_id", o.pixel_id);
  add("lookback", o.lookback);
  if (o.any_ad) add("same_ad", "false");
  if (!o.src.server.empty()) return AskServer(o.src, "/api/v1/funnel", params, "table");
  SystemClock clock;
  auto req = query::ParseFunnelParams(params, clock.NowMs());
  if (!req.ok()) {
    std::cerr << "error: " << req.status().message() << "\n";
    return 2;
  }
  return ReadData(o.src, [&](const query::Dataset& d) {
    auto r = query::RunFunnel(d, req->query);
    if (!r.ok()) {
      std::cerr << "error: " << r.status().message() << "\n";
      return 2;
    }
    std::cout << (o.src.json ? query::FunnelToJson(req->query, *r) + "\n"
                             : query::FunnelToTable(req->query, *r));
    return 0;
  });
}

struct InsightsOpts {
  Source src;
  std::string from, to, tz, model, half_life, events, click_window, view_window, count, basis;
  std::string channel, markov_order;
  std::string pixel_id, fdr, min_ratio, min_impressions, min_clicks, min_plays, min_conversions,
      limit;
  std::vector<std::string> filters;
};

int RunInsightsCommand(const InsightsOpts& o) {
  Params params;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) params.emplace_back(k, v);
  };
  add("from", o.from);
  add("to", o.to);
  add("tz", o.tz);
  add("model", o.model);
  add("half_life_days", o.half_life);
  add("channel", o.channel);
  add("markov_order", o.markov_order);
  add("events", o.events);
  add("click_window", o.click_window);
  add("view_window", o.view_window);
  add("count", o.count);
  add("basis", o.basis);
  add("pixel_id", o.pixel_id);
  add("fdr", o.fdr);
  add("min_ratio", o.min_ratio);
  add("min_impressions", o.min_impressions);
  add("min_clicks", o.min_clicks);
  add("min_plays", o.min_plays);
  add("min_conversions", o.min_conversions);
  add("limit", o.limit);
  for (const auto& f : o.filters) add("filter", f);
  if (!o.src.server.empty()) return AskServer(o.src, "/api/v1/insights", params, "text");
  SystemClock clock;
  auto req = query::ParseInsightsParams(params, clock.NowMs());
  if (!req.ok()) {
    std::cerr << "error: " << req.status().message() << "\n";
    return 2;
  }
  return ReadData(o.src, [&](const query::Dataset& d) {
    auto r = query::RunInsights(d, req->query);
    if (!r.ok()) {
      std::cerr << "error: " << r.status().message() << "\n";
      return 2;
    }
    std::cout << (o.src.json ? query::InsightsToJson(req->query, *r) + "\n"
                             : query::InsightsToText(req->query, *r));
    return 0;
  });
}

}  // namespace

void AddAnalyticsCommands(CLI::App& app) {
  auto funnel = std::make_shared<FunnelOpts>();
  auto* f = app.add_subcommand(
      "funnel",
      "People through ordered steps, ad-side and on the site, within a window (docs/funnels.md).\n"
      "Example: touchpoint funnel --steps impression,video_view_6s,click,PageView,AddToCart,"
      "InitiateCheckout,CompletePayment --breakdown ad");
  AddSourceOptions(f, funnel->src);
  f->add_option("--steps", funnel->steps,
                "Comma-separated: impression, video_play, video_view_2s, video_view_6s, click, or "
                "site event names (A|B: either)")
      ->required();
  f->add_option("--window", funnel->window,
                "Every step within this of step 1: 7 (days), 7d, 36h, 90m (default 7d)");
  f->add_option("--breakdown", funnel->breakdown,
                "campaign, adgroup, ad, format, length, cta, tag, age, gender, country, region, "
                "placement, os or device");
  f->add_option(
      "--from", funnel->from,
      "First day of step 1 (YYYY-MM-DD), ISO 8601 or Unix seconds (default: 30 days ago)");
  f->add_option("--to", funnel->to,
                "Last day of step 1, inclusive, or an exclusive time (default: now)");
  f->add_option("--tz", funnel->tz, "Time zone offset for days, e.g. +02:00 (default UTC)");
  f->add_option("--pixel-id", funnel->pixel_id, "Site steps: only this pixel's events");
  f->add_option(
      "--lookback", funnel->lookback,
      "Site-first funnels: breakdown by the last click this long before step 1 (default 7d)");
  f->add_flag("--any-ad", funnel->any_ad,
              "Ad steps after step 1 may be on any ad (default: the entry ad)");
  f->callback([funnel] { std::exit(RunFunnelCommand(*funnel)); });

  auto insights = std::make_shared<InsightsOpts>();
  auto* i = app.add_subcommand(
      "insights",
      "Findings in plain language, ranked by money at stake, each with its effect size, interval\n"
      "and p-value under a false discovery rate (docs/insights.md).\n"
      "Example: touchpoint insights --from 2026-11-01 --to 2026-11-30 --model linear");
  AddSourceOptions(i, insights->src);
  i->add_option("--from", insights->from,
                "First day (YYYY-MM-DD), ISO 8601 or Unix seconds (default: 30 days ago)");
  i->add_option("--to", insights->to, "Last day, inclusive, or an exclusive time (default: now)");
  i->add_option("--tz", insights->tz, "Time zone offset for days, e.g. +02:00 (default UTC)");
  i->add_option("--model", insights->model,
                "last_touch (default), first_touch, linear, time_decay, position_based, markov, "
                "shapley");
  i->add_option("--half-life-days", insights->half_life, "time_decay half-life (default 7)");
  i->add_option("--channel", insights->channel,
                "markov/shapley channel: an ad-side dimension (default ad)");
  i->add_option("--markov-order", insights->markov_order, "markov: 1 (default) to 4");
  i->add_option("--events", insights->events,
                "Conversion events (default CompletePayment,Purchase,PlaceAnOrder)");
  i->add_option("--click-window", insights->click_window,
                "Click window in days (default: each ad group's)");
  i->add_option("--view-window", insights->view_window,
                "View window in days, 0 = off (default: each ad group's)");
  i->add_option("--count", insights->count, "every or once (default: each ad group's)");
  i->add_option("--basis", insights->basis, "touch (default) or real_time");
  i->add_option("--filter", insights->filters,
                "dimension:value[|value...], repeatable: analyse only these");
  i->add_option("--pixel-id", insights->pixel_id, "Only conversions of this pixel");
  i->add_option("--fdr", insights->fdr, "False discovery rate over all comparisons (default 0.05)");
  i->add_option("--min-ratio", insights->min_ratio,
                "Smallest effect worth a finding, as a ratio (default 1.25)");
  i->add_option("--min-impressions", insights->min_impressions,
                "Minimum impressions per arm (default 200)");
  i->add_option("--min-clicks", insights->min_clicks, "Minimum clicks per arm (default 30)");
  i->add_option("--min-plays", insights->min_plays, "Minimum video plays per arm (default 200)");
  i->add_option("--min-conversions", insights->min_conversions,
                "Minimum conversions in a comparison (default 10)");
  i->add_option("--limit", insights->limit, "At most this many findings");
  i->callback([insights] { std::exit(RunInsightsCommand(*insights)); });
}

}  // namespace touchpoint::cli
