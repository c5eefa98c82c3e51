#pragma once
// Where `touchpoint funnel`, `insights` and `lift` read from: a data directory (loaded
// read-only), or a running server asked over HTTP(S).
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

#include <CLI/CLI.hpp>
#include <cstdlib>
#include <iostream>
#include <string>
#include <utility>
#include <vector>

#include "cli/commands.h"
#include "core/time.h"
#include "format/url.h"
#include "query/dataset.h"
#include "server/http_client.h"
#include "store/event_store.h"

namespace touchpoint::cli {

using Params = std::vector<std::pair<std::string, std::string>>;

struct Source {
  std::string data_dir = "./touchpoint-data";
  std::string server;       // http://host:port: ask a running server instead
  std::string admin_token;  // for --server
  std::string ca_file;      // for an https:// --server
  bool json = false;
};

inline void AddSourceOptions(CLI::App* cmd, Source& src) {
  if (const char* env = std::getenv("TOUCHPOINT_ADMIN_TOKEN")) src.admin_token = env;
  cmd->add_option("--data", src.data_dir, "Data directory to read")->capture_default_str();
  cmd->add_option("--server", src.server,
                  "Ask a running server instead, e.g. http://127.0.0.1:8080");
  cmd->add_option("--admin-token", src.admin_token,
                  "Admin token for --server (env TOUCHPOINT_ADMIN_TOKEN)");
  cmd->add_option("--ca-file", src.ca_file, kCaFileHelp);
  cmd->add_flag("--json", src.json, "JSON (the API's answer) instead of readable text");
}

// Asks the server for `path` with `params`; prints its answer.
inline int AskServer(const Source& src, const std::string& path, const Params& params,
                     const char* text_format) {
  std::string target = path + "?format=" + (src.json ? "json" : text_format);
  for (const auto& [k, v] : params) target += "&" + k + "=" + format::PercentEncode(v);
  server::HttpClient client(src.server, {.ca_file = CaFile(src.ca_file)});
  auto res = client.Request("GET", target, "", {{"Authorization", "Bearer " + src.admin_token}});
  if (!res.ok()) {
    std::cerr << "error: " << res.status().message() << "\n";
    return 1;
  }
  if (res->status != 200) {
    std::cerr << "error: " << res->body << "\n";
    return 1;
  }
  std::cout << res->body << (src.json ? "\n" : "");
  return 0;
}

// Loads the data directory (read-only use: nothing is written) and runs f on the dataset.
template <typename F>
int ReadData(const Source& src, F&& f) {
  // Progress lines go to stderr: stdout carries the answer (JSON that scripts parse).
  spdlog::set_default_logger(spdlog::stderr_logger_st("touchpoint"));
  SystemClock clock;
  store::StoreOptions opts;
  opts.data_dir = src.data_dir;
  auto store = store::EventStore::Open(opts, &clock);
  if (!store.ok()) {
    std::cerr << "error: " << store.status().message() << "\n";
    return 1;
  }
  query::LiveDataset live;
  if (Status st = live.LoadFrom(**store); !st.ok()) {
    std::cerr << "error: " << st.message() << "\n";
    return 1;
  }
  return live.Read([&](const query::Dataset& d) { return f(d); });
}

}  // namespace touchpoint::cli
