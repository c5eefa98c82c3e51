// `touchpoint lift`: lift studies (docs/metrics.md#lift-studies) read from a data directory or
// asked of a running server; `lift plan` sizes a study; `lift geo FILE` estimates a geo study.
#include <fstream>
#include <memory>
#include <sstream>

#include "cli/analytics_source.h"
#include "query/lift_query.h"

namespace touchpoint::cli {

namespace {

struct LiftOpts {
  Source src;
  std::string study, from, to, tz, event, pixel_id;
};

int RunLiftCommand(const LiftOpts& o) {
  Params params;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) params.emplace_back(k, v);
  };
  add("study", o.study);
  add("from", o.from);
  add("to", o.to);
  add("tz", o.tz);
  add("event", o.event);
  add("pixel_id", o.pixel_id);
  if (!o.src.server.empty()) return AskServer(o.src, "/api/v1/lift", params, "text");
  SystemClock clock;
  auto req = query::ParseLiftParams(params, clock.NowMs());
  if (!req.ok()) {
    std::cerr << "error: " << req.status().message() << "\n";
    return 2;
  }
  // Read from the data directory: the pixel's conversion events are the server's to know; the
  // command line counts purchases unless --event says otherwise.
  if (req->query.events.empty()) req->query.events = {"CompletePayment"};
  return ReadData(o.src, [&](const query::Dataset& d) {
    if (req->list) {
      auto studies = query::ListStudies(d);
      std::cout << (o.src.json ? query::StudiesToJson(studies) + "\n"
                               : query::StudiesToText(studies));
      return 0;
    }
    auto a = query::RunLift(d, req->query);
    if (!a.ok()) {
      std::cerr << "error: " << a.status().message() << "\n";
      return 2;
    }
    std::cout << (o.src.json ? query::LiftToJson(req->query, *a) + "\n"
                             : query::LiftToText(req->query, *a));
    return 0;
  });
}

struct PlanOpts {
  std::string baseline, min_lift, alpha, power, control_share, per_day;
};

int RunPlanCommand(const PlanOpts& o) {
  Params params;
  auto add = [&](const char* k, const std::string& v) {
    if (!v.empty()) params.emplace_back(k, v);
  };
  add("baseline_rate", o.baseline);
  add("min_lift", o.min_lift);
  add("alpha", o.alpha);
  add("power", o.power);
  add("control_share", o.control_share);
  add("people_per_day", o.per_day);
  auto json = query::PlanLiftJson(params);
  if (!json.ok()) {
    std::cerr << "error: " << json.status().message() << "\n";
    return 2;
  }
  std::cout << *json << "\n";
  return 0;
}

int RunGeoCommand(const std::string& file) {
  std::ifstream in(file, std::ios::binary);
  if (!in) {
    std::cerr << "error: FILE: cannot read " << file << "\n";
    return 2;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  auto json = query::GeoLiftJson(ss.str());
  if (!json.ok()) {
    std::cerr << "error: " << file << ": " << json.status().message() << "\n";
    return 2;
  }
  std::cout << *json << "\n";
  return 0;
}

}  // namespace

void AddLiftCommands(CLI::App& app) {
  auto lift = std::make_shared<LiftOpts>();
  auto* l = app.add_subcommand(
      "lift",
      "Lift studies: conversion rate per cell (test: shown the ads; control: held out), lift\n"
      "with its 95% interval, incremental conversions, value and iROAS (docs/metrics.md).\n"
      "Without --study: the studies there are. Example: touchpoint lift --study spring-test");
  AddSourceOptions(l, lift->src);
  l->add_option("--study", lift->study, "The study_id the ad events carry");
  l->add_option("--from", lift->from, "First day (YYYY-MM-DD), ISO 8601 or Unix seconds");
  l->add_option("--to", lift->to, "Last day, inclusive, or an exclusive time");
  l->add_option("--tz", lift->tz, "Time zone offset for days, e.g. +02:00 (default UTC)");
  l->add_option("--event", lift->event,
                "Conversion events, comma-separated (default: the pixel's conversion events on a "
                "server, CompletePayment from a data directory)");
  l->add_option("--pixel-id", lift->pixel_id, "Only conversions of this pixel");
  l->callback([lift, l] {
    if (l->get_subcommands().empty()) std::exit(RunLiftCommand(*lift));
  });

  auto plan = std::make_shared<PlanOpts>();
  auto* p = l->add_subcommand(
      "plan",
      "Before a study: the people per cell (and days) needed to detect a minimum lift.\n"
      "Example: touchpoint lift plan --baseline-rate 0.02 --min-lift 0.1 --people-per-day 5000");
  p->add_option("--baseline-rate", plan->baseline, "Control conversion rate, e.g. 0.02")
      ->required();
  p->add_option("--min-lift", plan->min_lift, "Smallest relative lift to detect, e.g. 0.1")
      ->required();
  p->add_option("--alpha", plan->alpha, "Two-sided significance level (default 0.05)");
  p->add_option("--power", plan->power, "Chance of detecting min-lift (default 0.8)");
  p->add_option("--control-share", plan->control_share, "Share held out (default 0.5)");
  p->add_option("--people-per-day", plan->per_day, "People entering the study a day: gives days");
  p->callback([plan] { std::exit(RunPlanCommand(*plan)); });

  auto geo_file = std::make_shared<std::string>();
  auto* g = l->add_subcommand(
      "geo",
      "A geo study: regions assigned to cells, outcome totals before and during it; difference\n"
      "in differences with a permutation interval. FILE: {\"regions\":[{\"name\",\"cell\",\"pre\","
      "\"post\"}]}");
  g->add_option("FILE", *geo_file, "The regions (JSON)")->required();
  g->callback([geo_file] { std::exit(RunGeoCommand(*geo_file)); });
}

}  // namespace touchpoint::cli
