#pragma once
// The `touchpoint` subcommands. Each returns the process exit code.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace CLI {
class App;
}  // namespace CLI

namespace touchpoint::cli {

// --ca-file, on the commands that talk to a server.
inline constexpr const char* kCaFileHelp =
    "For an https:// server: a PEM certificate to trust besides the system's authorities (a "
    "self-signed or private-CA certificate; env TOUCHPOINT_CA_FILE)";
// The --ca-file given, else $TOUCHPOINT_CA_FILE, else "".
std::string CaFile(const std::string& flag);

struct ServeFlags {
  std::string data_dir = "./touchpoint-data";
  std::string listen = "127.0.0.1:8080";
  std::string admin_token;
  std::string port_file;  // write the bound port here (for scripts and tests)
  int threads = 2;
  bool fsync = true;
  bool recover = false;  // start although acknowledged events are missing (logs what was lost)
  std::vector<std::string> trusted_proxies;  // --trusted-proxy CIDR, repeatable
  bool trust_x_forwarded_for = false;        // deprecated: trusts loopback proxies
  int max_event_age_days = 28;
  std::string log_format = "text";
  uint32_t max_cluster_size = 10000;  // identity: stop merging clusters past this size
  // Rate limits, "PER_S" or "PER_S:BURST" events (0: none); empty: the defaults.
  std::string rate_limit_client, rate_limit_pixel, rate_limit_server;
  size_t max_request_memory_mb = 256;  // request bodies in flight, over all connections
  size_t min_request_rate = 4096;      // bytes/s a request must arrive at (0: no minimum)
  std::string tls_cert, tls_key;       // HTTPS (both): PEM files, read again on SIGHUP
  // Tests only (hidden from --help): the start-up load of stored events stops halfway (in
  // chunks of a few events) until this file exists, so a test can see the "loading" state.
  std::string testing_hold_load_until;
};
int Serve(const ServeFlags& flags);

struct ImportFlags {
  std::string what;  // "catalog" or "spend"
  std::string file;
  std::string data_dir = "./touchpoint-data";
  std::string server;       // http://host:port: send through a running server instead
  std::string admin_token;  // for --server
  std::string ca_file;      // for an https:// --server (env TOUCHPOINT_CA_FILE)
};
int Import(const ImportFlags& flags);

struct SimulateFlags {
  std::string scenario = "demo";  // built-in name or a scenario JSON file
  uint64_t seed = 1;
  int users = 0;              // 0: the scenario's default
  int days = 0;               // 0: the scenario's default
  int campaigns = 0;          // 0: the scenario's default
  std::string end = "today";  // today (00:00 UTC), now, YYYY-MM-DD or ISO 8601
  std::string out_dir;        // --out: write the files here
  std::string data_dir;       // --to-data: bulk-load into this data directory
  std::string server;         // --to-server: http://host:port
  std::string admin_token;    // for --to-server
  std::string ca_file;        // for an https:// --to-server (env TOUCHPOINT_CA_FILE)
  std::string pixel_name = "demo";
  std::string pixel_id;            // --out alone: the event_source_id to write; --to-server: use it
  std::string pixel_via = "auto";  // --to-server: auto, events-api or beacon
  bool quiet = false;
};
int Simulate(const SimulateFlags& flags);

struct ReportFlags {
  std::string data_dir = "./touchpoint-data";
  std::string server;       // http://host:port: ask a running server instead of reading DATA
  std::string admin_token;  // for --server
  std::string ca_file;      // for an https:// --server (env TOUCHPOINT_CA_FILE)
  std::vector<std::pair<std::string, std::string>> params;  // report query parameters
  std::string format = "table";                             // table | csv | json
};
int Report(const ReportFlags& flags);

// `funnel` and `insights` (analytics_command.cc): adds both subcommands to the app.
void AddAnalyticsCommands(CLI::App& app);
void AddLiftCommands(CLI::App& app);  // lift, lift plan, lift geo

}  // namespace touchpoint::cli
