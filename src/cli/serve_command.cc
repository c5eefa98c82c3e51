#include <fcntl.h>
#include <signal.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>
#include <tuple>

#include "cli/commands.h"
#include "server/api.h"
#include "server/http_server.h"
#include "store/event_store.h"

namespace touchpoint::cli {

namespace {

void SetupLogging(const std::string& format) {
  auto logger = spdlog::stderr_color_mt("touchpoint");
  if (format == "json") {
    logger->set_pattern(R"({"time":"%Y-%m-%dT%H:%M:%S.%eZ","level":"%l","thread":%t,"msg":"%v"})",
                        spdlog::pattern_time_type::utc);
  } else {
    logger->set_pattern("%Y-%m-%dT%H:%M:%S.%eZ %^%l%$ %v", spdlog::pattern_time_type::utc);
  }
  spdlog::set_default_logger(logger);
}

// Writes the admin token file: a new file made 0600 (never wider, whatever the umask), synced,
// then renamed over the old one.
Status WriteAdminTokenFile(const std::string& path, const std::string& token) {
  const std::string tmp = path + ".new";
  (void)::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
  if (fd < 0) return Internal("cannot create " + tmp + ": " + std::strerror(errno));
  const std::string line = token + "\n";
  const bool ok = ::write(fd, line.data(), line.size()) == static_cast<ssize_t>(line.size()) &&
                  ::fsync(fd) == 0;
  ::close(fd);
  if (!ok || ::rename(tmp.c_str(), path.c_str()) != 0) {
    (void)::unlink(tmp.c_str());
    return Internal("cannot write " + path + ": " + std::strerror(errno));
  }
  return OkStatus();
}

// The admin token: from the flag or env; else the one kept in the data dir; else a new one.
StatusOr<std::string> ResolveAdminToken(const ServeFlags& flags, bool& generated) {
  generated = false;
  if (!flags.admin_token.empty()) return flags.admin_token;
  std::string path = flags.data_dir + "/admin_token";
  std::ifstream in(path);
  std::string token;
  if (in && std::getline(in, token) && !token.empty()) return token;
  token = store::TokenTable::NewToken(store::TokenKind::kAdmin);
  TP_RETURN_IF_ERROR(WriteAdminTokenFile(path, token));
  generated = true;
  return token;
}

// "PER_S" or "PER_S:BURST" (a missing burst is ten seconds' worth); 0 is no limit.
bool ParseRateLimit(const std::string& text, server::RateLimit& out) {
  if (text.empty()) return true;  // the default
  try {
    size_t used = 0;
    const size_t colon = text.find(':');
    double per_s = std::stod(text.substr(0, colon), &used);
    if (used != (colon == std::string::npos ? text.size() : colon) || per_s < 0) return false;
    double burst = per_s * 10;
    if (colon != std::string::npos) {
      burst = std::stod(text.substr(colon + 1), &used);
      if (used != text.size() - colon - 1 || burst < 1) return false;
    }
    out = server::RateLimit{per_s, std::max(burst, 1.0)};
    return true;
  } catch (...) {
    return false;
  }
}

bool SplitListen(const std::string& listen, std::string& host, uint16_t& port) {
  size_t colon = listen.rfind(':');
  if (colon == std::string::npos) return false;
  host = listen.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  try {
    int p = std::stoi(listen.substr(colon + 1));
    if (p < 0 || p > 65535) return false;
    port = static_cast<uint16_t>(p);
  } catch (...) {
    return false;
  }
  return !host.empty();
}

// The --trusted-proxy ranges; the deprecated --trust-x-forwarded-for adds loopback (the proxy on
// the same host it was meant for) and warns.
StatusOr<std::vector<ingest::Cidr>> TrustedProxies(const ServeFlags& flags) {
  std::vector<std::string> ranges = flags.trusted_proxies;
  if (flags.trust_x_forwarded_for) {
    spdlog::warn(
        "--trust-x-forwarded-for is deprecated: it now trusts loopback proxies only, as "
        "--trusted-proxy 127.0.0.0/8 --trusted-proxy ::1/128 would; say which proxies to trust "
        "with --trusted-proxy");
    ranges.push_back("127.0.0.0/8");
    ranges.push_back("::1/128");
  }
  std::vector<ingest::Cidr> out;
  for (const auto& r : ranges) {
    auto cidr = ingest::ParseCidr(r);
    if (!cidr.ok()) return cidr.status();
    out.push_back(*cidr);
  }
  return out;
}

}  // namespace

int Serve(const ServeFlags& flags) {
  SetupLogging(flags.log_format);
  std::string host;
  uint16_t port = 0;
  if (!SplitListen(flags.listen, host, port)) {
    spdlog::error("--listen: must be HOST:PORT, got '{}'", flags.listen);
    return 2;
  }
  if (flags.tls_cert.empty() != flags.tls_key.empty()) {
    spdlog::error("{}: HTTPS needs both --tls-cert and --tls-key",
                  flags.tls_cert.empty() ? "--tls-cert" : "--tls-key");
    return 2;
  }
  auto trusted = TrustedProxies(flags);
  if (!trusted.ok()) {
    spdlog::error("--trusted-proxy {}", trusted.status().message());
    return 2;
  }
  // Signals are taken by sigwait below; block them before any thread starts.
  sigset_t signals;
  sigemptyset(&signals);
  sigaddset(&signals, SIGINT);
  sigaddset(&signals, SIGTERM);
  sigaddset(&signals, SIGHUP);  // reload the TLS certificate and key
  pthread_sigmask(SIG_BLOCK, &signals, nullptr);
  std::signal(SIGPIPE, SIG_IGN);

  SystemClock clock;
  store::StoreOptions sopts;
  sopts.data_dir = flags.data_dir;
  sopts.synchronous_full = flags.fsync;
  sopts.recover = flags.recover;
  const auto open_start = std::chrono::steady_clock::now();
  auto store = store::EventStore::Open(sopts, &clock);
  if (!store.ok()) {
    spdlog::error("cannot open the data directory: {}", store.status().message());
    return 1;
  }
  spdlog::info(
      "opened the data directory in {:.0f} ms",
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - open_start)
          .count());
  // The in-memory columns, loaded in the background once the server listens: subscribe to
  // commits first, so that everything committed during the load is queued and applied after it
  // (LiveDataset says how each event is counted once).
  std::atomic<bool> load_failed{false}, stopping{false};  // (outlive the loader, joined by live)
  query::LiveDataset live(flags.max_cluster_size);
  (*store)->SetCommitListener(
      [&live](std::vector<store::CommittedBatch> b) { live.OnCommit(std::move(b)); });
  bool generated = false;
  auto token = ResolveAdminToken(flags, generated);
  if (!token.ok()) {
    spdlog::error("{}", token.status().message());
    return 1;
  }
  // Only its digest is kept in the database; a rotated and expired token is refused.
  auto use = (*store)->UseAdminToken(*token);
  if (!use.ok()) {
    spdlog::error("{} ({})", use.status().message(),
                  flags.admin_token.empty() ? flags.data_dir + "/admin_token"
                                            : "--admin-token or TOUCHPOINT_ADMIN_TOKEN");
    return 1;
  }
  if (*use == store::AdminTokenUse::kReplaced)
    spdlog::warn(
        "the admin token given is new: the previous admin tokens no longer work "
        "(POST /api/v1/admin/tokens rotates with a grace period instead)");
  server::ApiOptions aopts;
  if (flags.admin_token.empty())
    aopts.on_admin_token_rotated = [path = flags.data_dir + "/admin_token"](const std::string& t) {
      return WriteAdminTokenFile(path, t);
    };
  aopts.trusted_proxies = *trusted;
  aopts.limits.max_event_age_ms = int64_t{flags.max_event_age_days} * kDayMs;
  for (auto [flag, text, limit] :
       {std::tuple{"--rate-limit-client", &flags.rate_limit_client, &aopts.rate_limits.per_client},
        std::tuple{"--rate-limit-pixel", &flags.rate_limit_pixel,
                   &aopts.rate_limits.anonymous_per_pixel},
        std::tuple{"--rate-limit-server", &flags.rate_limit_server,
                   &aopts.rate_limits.server_per_pixel}}) {
    if (!ParseRateLimit(*text, *limit)) {
      spdlog::error("{}: must be PER_S or PER_S:BURST (numbers, PER_S >= 0, BURST >= 1), got '{}'",
                    flag, *text);
      return 2;
    }
  }
  server::Api api(store->get(), &live, &clock, aopts);
  server::HttpServerOptions hopts;
  hopts.host = host;
  hopts.port = port;
  hopts.threads = flags.threads;
  hopts.max_body_bytes = aopts.limits.max_body_bytes;
  hopts.max_inflight_body_bytes = flags.max_request_memory_mb << 20;
  hopts.min_request_bytes_per_s = flags.min_request_rate;
  hopts.tls_cert_file = flags.tls_cert;
  hopts.tls_key_file = flags.tls_key;
  server::HttpServer http(hopts, &api);
  api.SetListenerStats([&http] { return http.Stats(); });
  if (Status st = http.Start(); !st.ok()) {
    spdlog::error("{}", st.message());
    return 1;
  }
  // Listening: now read the stored events into memory. Reports answer 503 "loading" until then;
  // a load that fails stops the server (exit status 1), as it stopped the start before.
  query::LoadOptions lopts;
  lopts.done = [&load_failed](const Status& st) {
    if (st.ok() || st.code() == StatusCode::kUnavailable) return;  // (stopped: shutting down)
    load_failed = true;
    ::kill(::getpid(), SIGTERM);  // taken by sigwait below
  };
  if (!flags.testing_hold_load_until.empty()) {
    lopts.chunk_events = 4;
    lopts.before_chunk_for_testing = [&flags, &stopping, held = false](uint64_t loaded,
                                                                       uint64_t total) mutable {
      if (held || loaded * 2 < total) return;
      held = true;
      spdlog::warn("--testing-hold-load-until: holding the load at {} of {} events until {} exists",
                   loaded, total, flags.testing_hold_load_until);
      while (!stopping && !std::filesystem::exists(flags.testing_hold_load_until))
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    };
  }
  live.StartLoad(**store, std::move(lopts));
  std::string url = std::string(http.tls() ? "https://" : "http://") +
                    (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                    std::to_string(http.port());
  spdlog::info("listening on {} (data: {}, {} pixels, {} ads in catalog)", url,
               std::filesystem::absolute(flags.data_dir).string(), (*store)->ListPixels().size(),
               (*store)->GetCatalog()->AdCount());
  if (generated) spdlog::info("generated an admin token, kept in {}/admin_token", flags.data_dir);
  std::cout << "Touchpoint is running at " << url << "/\n"
            << "  admin token: " << *token << "\n"
            << std::flush;
  if (!flags.port_file.empty()) {
    std::string tmp = flags.port_file + ".tmp";
    { std::ofstream(tmp) << http.port() << "\n"; }
    std::filesystem::rename(tmp, flags.port_file);
  }
  int sig = 0;
  while (sigwait(&signals, &sig) == 0 && sig == SIGHUP) {
    if (!http.tls()) {
      spdlog::info("received SIGHUP: nothing to reload (no --tls-cert)");
      continue;
    }
    if (Status st = http.ReloadTls(); st.ok())
      spdlog::info("received SIGHUP: reloaded the TLS certificate {} and key {}", flags.tls_cert,
                   flags.tls_key);
    else
      spdlog::error("received SIGHUP: kept the current TLS certificate: {}", st.message());
  }
  if (!load_failed)
    spdlog::info("received {}, draining", sig == SIGINT ? "SIGINT" : "SIGTERM");
  else
    spdlog::error("stopping: the stored events could not be loaded (above)");
  stopping = true;
  http.Stop();
  (*store)->Close();
  (*store)->SetCommitListener(nullptr);
  auto stats = (*store)->Stats();
  spdlog::info("stopped cleanly: {} events committed in {} commits this run",
               stats.committed_events, stats.commits);
  return load_failed ? 1 : 0;
}

}  // namespace touchpoint::cli
