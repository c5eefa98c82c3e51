// touchpoint: the one binary. `touchpoint --help` lists the subcommands.
#include <CLI/CLI.hpp>
#include <cstdlib>

#include "cli/commands.h"

std::string touchpoint::cli::CaFile(const std::string& flag) {
  if (!flag.empty()) return flag;
  const char* env = std::getenv("TOUCHPOINT_CA_FILE");
  return env ? env : "";
}

int main(int argc, char** argv) {
  using namespace touchpoint::cli;
  CLI::App app{
      "Touchpoint: self-hosted conversion tracking and attribution.\n"
      "Collects pixel, Events API and ad events, de-duplicates them, stores them durably,\n"
      "and attributes conversions to ads, creatives and audiences.\n\n"
      "Start with:  touchpoint serve   (then open the printed URL)",
      "touchpoint"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "touchpoint 0.1.0");

  ServeFlags serve;
  if (const char* env = std::getenv("TOUCHPOINT_ADMIN_TOKEN")) serve.admin_token = env;
  auto* s = app.add_subcommand("serve", "Run the HTTP server: collection APIs, reports, dashboard");
  s->add_option("--data", serve.data_dir, "Data directory (SQLite log, catalog, admin token)")
      ->capture_default_str();
  s->add_option("--listen", serve.listen, "Address to listen on, HOST:PORT (port 0: any free port)")
      ->capture_default_str();
  s->add_option("--admin-token", serve.admin_token,
                "Admin token for management and reports (env TOUCHPOINT_ADMIN_TOKEN; generated "
                "and kept in the data dir when neither is given)");
  s->add_option("--port-file", serve.port_file, "Write the bound port to this file once listening");
  s->add_option("--threads", serve.threads, "HTTP I/O threads")
      ->capture_default_str()
      ->check(CLI::Range(1, 64));
  s->add_option("--max-event-age-days", serve.max_event_age_days,
                "Reject events older than this many days")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  s->add_flag("!--no-fsync", serve.fsync,
              "Commit without fsync (survives a process crash, not a power loss)");
  s->add_flag("--recover", serve.recover,
              "Start even though the WAL or database is damaged or missing and acknowledged "
              "events are lost; logs the lost seq range (docs/operations.md#damaged-storage)");
  s->add_option("--trusted-proxy", serve.trusted_proxies,
                "A proxy (CIDR range, repeatable) whose X-Forwarded-For gives the client IP")
      ->expected(1)
      ->multi_option_policy(CLI::MultiOptionPolicy::TakeAll);
  s->add_flag("--trust-x-forwarded-for", serve.trust_x_forwarded_for,
              "Deprecated: same as --trusted-proxy 127.0.0.0/8 --trusted-proxy ::1/128");
  s->add_option("--max-cluster-size", serve.max_cluster_size,
                "Identity: a cluster stops merging past this many identifiers (logged)")
      ->capture_default_str()
      ->check(CLI::Range(2, 100000000));
  s->add_option("--rate-limit-client", serve.rate_limit_client,
                "Anonymous events (pixel, GIF, clicks) per second per client address, as PER_S or "
                "PER_S:BURST; 0: no limit (default 50:500; docs/operations.md#rate-limits)");
  s->add_option("--rate-limit-pixel", serve.rate_limit_pixel,
                "Anonymous events per second per pixel, PER_S[:BURST]; 0: no limit (default "
                "2000:20000; a pixel's own limits via PUT /api/v1/pixels/{id}/limits win)");
  s->add_option("--rate-limit-server", serve.rate_limit_server,
                "Events API events per second per pixel, PER_S[:BURST]; 0: no limit (default "
                "50000:200000)");
  s->add_option("--max-request-memory-mb", serve.max_request_memory_mb,
                "Request bodies being received, over all connections; past it new ones get 503 "
                "+ Retry-After")
      ->capture_default_str()
      ->check(CLI::Range(1, 1 << 20));
  s->add_option("--min-request-rate", serve.min_request_rate,
                "Bytes a second a request must arrive at (over 5 s windows), else its "
                "connection is closed; 0: no minimum")
      ->capture_default_str();
  s->add_option("--tls-cert", serve.tls_cert,
                "HTTPS: the certificate chain (PEM); with --tls-key the listener speaks TLS "
                "only. SIGHUP reads both files again")
      ->check(CLI::ExistingFile);
  s->add_option("--tls-key", serve.tls_key, "HTTPS: the private key (PEM) of --tls-cert")
      ->check(CLI::ExistingFile);
  s->add_option("--log-format", serve.log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  // For the browser tests only: no group, so --help does not list it.
  s->add_option("--testing-hold-load-until", serve.testing_hold_load_until,
                "Tests only: hold the start-up load halfway until this file exists")
      ->group("");
  s->callback([&] { std::exit(Serve(serve)); });

  auto* imp = app.add_subcommand("import", "Load the catalog or daily spend from a file");
  imp->require_subcommand(1);
  ImportFlags import;
  if (const char* env = std::getenv("TOUCHPOINT_ADMIN_TOKEN")) import.admin_token = env;
  for (const char* what : {"catalog", "spend"}) {
    auto* sub = imp->add_subcommand(
        what, std::string(what) == "catalog"
                  ? "Replace the catalog (campaign > ad group > ad) from a CSV or JSON file"
                  : "Add or replace daily spend per ad: Touchpoint's CSV or JSON, TikTok's "
                    "report/integrated/get JSON or Ads Manager CSV, Meta's insights JSON or CSV");
    sub->add_option("FILE", import.file, "The file (format: docs/formats.md)")
        ->required()
        ->check(CLI::ExistingFile);
    sub->add_option("--data", import.data_dir, "Data directory (when the server is not running)")
        ->capture_default_str();
    sub->add_option("--server", import.server,
                    "Send to a running server instead, e.g. http://127.0.0.1:8080");
    sub->add_option("--admin-token", import.admin_token,
                    "Admin token for --server (env TOUCHPOINT_ADMIN_TOKEN)");
    sub->add_option("--ca-file", import.ca_file, kCaFileHelp);
    sub->callback([&import, what] {
      import.what = what;
      std::exit(Import(import));
    });
  }

  SimulateFlags simulate;
  if (const char* env = std::getenv("TOUCHPOINT_ADMIN_TOKEN")) simulate.admin_token = env;
  auto* sim = app.add_subcommand(
      "simulate",
      "Generate a world of campaigns with known ground truth (docs/simulator.md) and write it to\n"
      "files (--out), bulk-load it into a data directory (--to-data), or send it to a running\n"
      "server (--to-server). Same seed, scenario and --end: byte-identical output.");
  sim->add_option("--scenario", simulate.scenario, "demo, null, or a scenario JSON file")
      ->capture_default_str();
  sim->add_option("--seed", simulate.seed, "Random seed")->capture_default_str();
  sim->add_option("--users", simulate.users, "Simulated people (default: the scenario's)")
      ->check(CLI::Range(1, 100000000));
  sim->add_option("--days", simulate.days,
                  "Days of traffic, ending at --end (default: the scenario's)")
      ->check(CLI::Range(1, 3650));
  sim->add_option("--campaigns", simulate.campaigns,
                  "Campaigns, 3 ad groups x 3 ads each (default: the scenario's)")
      ->check(CLI::Range(1, 99));
  sim->add_option("--end", simulate.end,
                  "End of the simulated period: today (00:00 UTC), now, YYYY-MM-DD or ISO 8601")
      ->capture_default_str();
  sim->add_option(
      "--out", simulate.out_dir,
      "Write catalog.json, spend.csv, site_events.ndjson, ad_events.ndjson, truth.json here");
  sim->add_option("--to-data", simulate.data_dir,
                  "Bulk-load into this data directory (the server must not be running on it)");
  sim->add_option("--to-server", simulate.server,
                  "Send through a running server's endpoints, e.g. http://127.0.0.1:8080");
  sim->add_option("--admin-token", simulate.admin_token,
                  "Admin token for --to-server (env TOUCHPOINT_ADMIN_TOKEN)");
  sim->add_option("--ca-file", simulate.ca_file, kCaFileHelp);
  sim->add_option("--pixel-name", simulate.pixel_name, "Pixel to use or create (by name)")
      ->capture_default_str();
  sim->add_option("--pixel-id", simulate.pixel_id,
                  "With --out alone: the pixel id written into the events; with --to-server: an "
                  "existing pixel to use");
  sim->add_option("--pixel-via", simulate.pixel_via,
                  "--to-server: route pixel events via auto (beacon for the last 10 minutes), "
                  "events-api or beacon")
      ->capture_default_str()
      ->check(CLI::IsMember({"auto", "events-api", "beacon"}));
  sim->add_flag("--quiet", simulate.quiet, "No progress line");
  sim->callback([&] { std::exit(Simulate(simulate)); });

  ReportFlags report;
  if (const char* env = std::getenv("TOUCHPOINT_ADMIN_TOKEN")) report.admin_token = env;
  struct ReportOpts {
    std::string from, to, tz, dimensions, metrics, events, model, basis, count, sort, pixel_id;
    std::string click_window, view_window, half_life, limit, channel, markov_order;
    std::vector<std::string> filters;
  };
  static ReportOpts ro;
  auto* rep = app.add_subcommand(
      "report",
      "Conversions, value and delivery by campaign, ad, creative and audience, attributed at\n"
      "query time (docs/metrics.md). Reads the data directory, or asks a running server.\n"
      "Example: touchpoint report --from 2026-11-01 --to 2026-11-30 --dimensions campaign,ad "
      "--model linear");
  rep->add_option("--data", report.data_dir, "Data directory to read")->capture_default_str();
  rep->add_option("--server", report.server,
                  "Ask a running server instead, e.g. http://127.0.0.1:8080");
  rep->add_option("--admin-token", report.admin_token,
                  "Admin token for --server (env TOUCHPOINT_ADMIN_TOKEN)");
  rep->add_option("--ca-file", report.ca_file, kCaFileHelp);
  rep->add_option("--from", ro.from,
                  "First day (YYYY-MM-DD), ISO 8601 time or Unix seconds (default: 30 days ago)");
  rep->add_option("--to", ro.to,
                  "Last day, inclusive (YYYY-MM-DD), or an exclusive time (default: now)");
  rep->add_option("--tz", ro.tz, "Time zone offset for days and hours, e.g. +02:00 (default UTC)");
  rep->add_option("--dimensions,-d", ro.dimensions,
                  "Comma-separated: campaign, adgroup, ad, format, length, cta, tag, age, gender, "
                  "country, region, placement, os, device, day, hour");
  rep->add_option("--metrics,-m", ro.metrics,
                  "Comma-separated metric names (default: a standard set)");
  rep->add_option("--events", ro.events,
                  "Conversion events (default CompletePayment,Purchase,PlaceAnOrder)");
  rep->add_option("--model", ro.model,
                  "last_touch (default), first_touch, linear, time_decay, position_based, "
                  "markov, shapley");
  rep->add_option("--half-life-days", ro.half_life, "time_decay half-life (default 7)");
  rep->add_option("--channel", ro.channel,
                  "markov/shapley channel: campaign, adgroup, ad, format, length, cta, tag or "
                  "placement (default: the first such dimension, else ad)");
  rep->add_option("--markov-order", ro.markov_order, "markov: 1 (default) to 4");
  rep->add_option("--click-window", ro.click_window,
                  "Click window in days (default: each ad group's; TikTok: 1, 7, 14, 28)");
  rep->add_option("--view-window", ro.view_window,
                  "View window in days, 0 = off (default: each ad group's)");
  rep->add_option("--basis", ro.basis,
                  "touch (credit on the day of the ad interaction, default) or real_time");
  rep->add_option("--count", ro.count, "every or once (default: each ad group's)");
  rep->add_option("--filter", ro.filters, "dimension:value[|value...], repeatable");
  rep->add_option("--sort", ro.sort,
                  "Metric or dimension, '-' prefix for descending (default -spend)");
  rep->add_option("--limit", ro.limit, "At most this many rows");
  rep->add_option("--pixel-id", ro.pixel_id, "Only conversions of this pixel");
  rep->add_option("--format", report.format, "table, csv or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"table", "csv", "json"}));
  rep->callback([&report] {
    auto add = [&report](const char* k, const std::string& v) {
      if (!v.empty()) report.params.emplace_back(k, v);
    };
    add("from", ro.from);
    add("to", ro.to);
    add("tz", ro.tz);
    add("dimensions", ro.dimensions);
    add("metrics", ro.metrics);
    add("events", ro.events);
    add("model", ro.model);
    add("half_life_days", ro.half_life);
    add("channel", ro.channel);
    add("markov_order", ro.markov_order);
    add("click_window", ro.click_window);
    add("view_window", ro.view_window);
    add("basis", ro.basis);
    add("count", ro.count);
    add("sort", ro.sort);
    add("limit", ro.limit);
    add("pixel_id", ro.pixel_id);
    for (const auto& f : ro.filters) add("filter", f);
    std::exit(Report(report));
  });

  AddAnalyticsCommands(app);
  AddLiftCommands(app);

  CLI11_PARSE(app, argc, argv);
  return 0;
}
