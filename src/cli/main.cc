// touchpoint: the one binary. `touchpoint --help` lists the subcommands.
#include <CLI/CLI.hpp>

#include <cstdlib>

#include "cli/commands.h"

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
  s->add_option("--threads", serve.threads, "HTTP I/O threads")->capture_default_str()->check(CLI::Range(1, 64));
  s->add_option("--max-event-age-days", serve.max_event_age_days,
                "Reject events older than this many days")
      ->capture_default_str()
      ->check(CLI::Range(1, 3650));
  s->add_flag("!--no-fsync", serve.fsync,
              "Commit without fsync (survives a process crash, not a power loss)");
  s->add_flag("--trust-x-forwarded-for", serve.trust_x_forwarded_for,
              "Take client IPs from X-Forwarded-For (only behind your own proxy)");
  s->add_option("--log-format", serve.log_format, "text or json")
      ->capture_default_str()
      ->check(CLI::IsMember({"text", "json"}));
  s->callback([&] { std::exit(Serve(serve)); });

  auto* imp = app.add_subcommand("import", "Load the catalog or daily spend from a file");
  imp->require_subcommand(1);
  ImportFlags import;
  if (const char* env = std::getenv("TOUCHPOINT_ADMIN_TOKEN")) import.admin_token = env;
  for (const char* what : {"catalog", "spend"}) {
    auto* sub = imp->add_subcommand(
        what, std::string(what) == "catalog"
                  ? "Replace the catalog (campaign > ad group > ad) from a CSV or JSON file"
                  : "Add or replace daily spend per ad from a CSV or JSON file");
    sub->add_option("FILE", import.file, "The file (format: docs/formats.md)")->required()->check(CLI::ExistingFile);
    sub->add_option("--data", import.data_dir, "Data directory (when the server is not running)")
        ->capture_default_str();
    sub->add_option("--server", import.server,
                    "Send to a running server instead, e.g. http://127.0.0.1:8080");
    sub->add_option("--admin-token", import.admin_token, "Admin token for --server (env TOUCHPOINT_ADMIN_TOKEN)");
    sub->callback([&import, what] {
      import.what = what;
      std::exit(Import(import));
    });
  }

  CLI11_PARSE(app, argc, argv);
  return 0;
}
