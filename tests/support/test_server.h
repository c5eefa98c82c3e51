#pragma once
// An in-process Touchpoint server on a loopback port, with its own temp data dir and a clock
// the test controls, plus a JSON-speaking client.

#include <simdjson.h>

#include <filesystem>
#include <functional>
#include <memory>
#include <optional>
#include <random>
#include <string>

#include "query/dataset.h"
#include "server/api.h"
#include "server/http_client.h"
#include "server/http_server.h"
#include "store/event_store.h"

namespace touchpoint::testing {

inline constexpr const char* kAdminToken = "test-admin-token";

class TestServer {
 public:
  // The store's admin token is kAdminToken. `hopts` are the listener's options (its host
  // "::" for a dual-stack listener; its port is always 0: a free one); clients always connect to
  // 127.0.0.1. `sopts.data_dir`, when set, is a data directory to start on (left in place; the
  // temporary one made otherwise is removed at the end). With `background_load`, the stored events
  // are loaded as `touchpoint serve` does, once the server listens (LiveDataset::StartLoad);
  // without, before.
  explicit TestServer(int64_t now_ms = 1700000000000, store::StoreOptions sopts = {},
                      server::ApiOptions aopts = {}, server::HttpServerOptions hopts = {},
                      std::optional<query::LoadOptions> background_load = std::nullopt)
      : clock_(now_ms) {
    own_dir_ = sopts.data_dir.empty();
    dir_ = !own_dir_ ? std::filesystem::path(sopts.data_dir)
                     : std::filesystem::temp_directory_path() /
                           ("tp_it_" + std::to_string(std::random_device{}()) +
                            std::to_string(now_ms % 1000));
    sopts.data_dir = dir_.string();
    sopts.synchronous_full = false;
    auto s = store::EventStore::Open(sopts, &clock_);
    if (!s.ok()) throw std::runtime_error(s.status().message());
    store_ = std::move(*s);
    live_ = std::make_unique<query::LiveDataset>();
    store_->SetCommitListener(
        [this](std::vector<store::CommittedBatch> b) { live_->OnCommit(std::move(b)); });
    if (!background_load) {
      Status loaded = live_->LoadFrom(*store_);
      if (!loaded.ok()) throw std::runtime_error(loaded.message());
    }
    if (auto use = store_->UseAdminToken(kAdminToken); !use.ok())
      throw std::runtime_error(use.status().message());
    api_ = std::make_unique<server::Api>(store_.get(), live_.get(), &clock_, aopts);
    hopts.port = 0;
    http_ = std::make_unique<server::HttpServer>(hopts, api_.get());
    api_->SetListenerStats([http = http_.get()] { return http->Stats(); });
    Status st = http_->Start();
    if (!st.ok()) throw std::runtime_error(st.message());
    if (background_load) live_->StartLoad(*store_, std::move(*background_load));
  }
  ~TestServer() {
    http_->Stop();
    store_->Close();
    http_.reset();
    api_.reset();
    live_.reset();  // (joins a load still running, before the store it reads goes)
    store_.reset();
    if (own_dir_) std::filesystem::remove_all(dir_);
  }

  std::string url() const { return "http://127.0.0.1:" + std::to_string(http_->port()); }
  server::HttpClient Client() const { return server::HttpClient(url()); }
  ManualClock& clock() { return clock_; }
  store::EventStore& store() { return *store_; }
  query::LiveDataset& live() { return *live_; }
  server::HttpServer& http() { return *http_; }
  uint16_t port() const { return http_->port(); }
  int64_t now_s() const { return clock_.NowMs() / 1000; }

 private:
  ManualClock clock_;
  std::filesystem::path dir_;
  bool own_dir_ = true;
  std::unique_ptr<store::EventStore> store_;
  std::unique_ptr<query::LiveDataset> live_;
  std::unique_ptr<server::Api> api_;
  std::unique_ptr<server::HttpServer> http_;
};

// A parsed JSON document that owns its parser.
struct Json {
  explicit Json(const std::string& text) : parser(std::make_unique<simdjson::dom::parser>()) {
    auto err = parser->parse(text).get(root);
    if (err) throw std::runtime_error("not JSON: " + text);
  }
  simdjson::dom::element operator[](std::string_view key) const { return root[key].value(); }
  std::unique_ptr<simdjson::dom::parser> parser;
  simdjson::dom::element root;
};

}  // namespace touchpoint::testing
