#include <fstream>
#include <iostream>
#include <sstream>

#include "cli/commands.h"
#include "format/catalog_file.h"
#include "ingest/platform_reports.h"
#include "server/http_client.h"
#include "store/event_store.h"

namespace touchpoint::cli {

int Import(const ImportFlags& flags) {
  std::ifstream in(flags.file, std::ios::binary);
  if (!in) {
    std::cerr << "error: cannot read " << flags.file << "\n";
    return 1;
  }
  std::stringstream ss;
  ss << in.rdbuf();
  std::string text = ss.str();
  bool catalog = flags.what == "catalog";

  if (!flags.server.empty()) {
    if (flags.admin_token.empty()) {
      std::cerr << "error: --admin-token (or TOUCHPOINT_ADMIN_TOKEN) is required with --server\n";
      return 2;
    }
    server::HttpClient client(flags.server, {.ca_file = CaFile(flags.ca_file)});
    auto res = client.Request("PUT", catalog ? "/api/v1/catalog" : "/api/v1/spend", text,
                              {{"Authorization", "Bearer " + flags.admin_token},
                               {"Content-Type", "application/octet-stream"}});
    if (!res.ok()) {
      std::cerr << "error: " << res.status().message() << "\n";
      return 1;
    }
    if (res->status != 200) {
      std::cerr << "error: server answered " << res->status << ": " << res->body << "\n";
      return 1;
    }
    std::cout << "imported " << flags.file << ": " << res->body << "\n";
    return 0;
  }

  SystemClock clock;
  store::StoreOptions opts;
  opts.data_dir = flags.data_dir;
  auto store = store::EventStore::Open(opts, &clock);
  if (!store.ok()) {
    std::cerr << "error: " << store.status().message() << "\n";
    return 1;
  }
  if (catalog) {
    auto cat = format::ParseCatalog(text);
    if (!cat.ok()) {
      std::cerr << "error: " << flags.file << ": " << cat.status().message() << "\n";
      return 1;
    }
    if (Status st = (*store)->PutCatalog(*cat); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
    std::cout << "imported catalog: " << cat->campaigns.size() << " campaigns, " << cat->AdCount()
              << " ads into " << flags.data_dir << "\n"
              << "(a running server picks the catalog up at its next start; use --server to "
                 "update it live)\n";
  } else {
    auto parsed = ingest::ParseSpendImport(text);
    if (!parsed.ok()) {
      std::cerr << "error: " << flags.file << ": " << parsed.status().message() << "\n";
      return 1;
    }
    if (Status st = (*store)->PutSpend(parsed->spend, parsed->stats); !st.ok()) {
      std::cerr << "error: " << st.message() << "\n";
      return 1;
    }
    std::cout << "imported spend (" << parsed->format << "): " << parsed->spend.size() << " rows";
    if (!parsed->stats.empty())
      std::cout << ", " << parsed->stats.size() << " platform report rows";
    std::cout << " into " << flags.data_dir << "\n";
  }
  return 0;
}

}  // namespace touchpoint::cli
