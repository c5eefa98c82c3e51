// The listener against hostile clients, over real loopback sockets: many bodies started and never
// finished (memory stays within max_inflight_body_bytes, later ones get 503), a body trickled
// below the minimum rate, descriptors exhausted (the real binary under a low RLIMIT_NOFILE: no
// spinning, a bounded log, /healthz through the reserve, recovery), and Transfer-Encoding
// framings that would smuggle a second request.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <poll.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <memory>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "support/raw_conn.h"
#include "support/test_server.h"

namespace touchpoint::testing {
namespace {

using Clock = std::chrono::steady_clock;

// This process's resident memory, from /proc/self/status.
size_t RssBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmRSS:", 0) == 0) return std::stoul(line.substr(6)) * 1024;
  return 0;
}

int HealthzStatus(TestServer& srv) {
  auto r = srv.Client().Request("GET", "/healthz");
  return r.ok() ? r->status : -1;
}

std::string PostHead(const std::string& path, size_t content_length) {
  return "POST " + path + " HTTP/1.1\r\nHost: h\r\nContent-Type: application/json\r\n" +
         "Content-Length: " + std::to_string(content_length) + "\r\n\r\n";
}

constexpr size_t kMiB = size_t{1} << 20;

// 200 connections each declare a 4 MiB body and send 512 KiB of it: without a total bound that
// is 100 MiB held; with 16 MiB, four bodies fit and the others are refused at their head.
TEST(Hostile, UnfinishedBodiesStayWithinTheTotalAndLaterOnesGet503) {
  server::HttpServerOptions hopts;
  hopts.max_inflight_body_bytes = 16 * kMiB;
  hopts.min_request_bytes_per_s = 0;  // the admitted bodies stay (the next test drops slow ones)
  TestServer srv(1700000000000, {}, {}, hopts);
  ASSERT_EQ(HealthzStatus(srv), 200);
  const size_t rss_before = RssBytes();
  const size_t kConns = 200, kDeclared = 4 * kMiB, kSent = 512 * 1024;
  const std::string part(kSent, 'x');
  std::vector<std::unique_ptr<RawConn>> conns;
  std::vector<size_t> sent(kConns, 0);
  for (size_t i = 0; i < kConns; ++i) {
    conns.push_back(std::make_unique<RawConn>(srv.port()));
    ASSERT_TRUE(conns.back()->connected());
    conns.back()->Send(PostHead("/api/v1/events", kDeclared));
    sent[i] = conns.back()->SendSome(part);
    if (i % 50 == 49) {
      EXPECT_EQ(HealthzStatus(srv), 200) << "after " << i + 1 << " connections";
    }
  }
  // Push the rest of each 512 KiB as the server reads it (admitted bodies) or drops it (refused
  // connections linger), for at most 20 s.
  const auto until = Clock::now() + std::chrono::seconds(20);
  for (bool left = true; left && Clock::now() < until;) {
    left = false;
    for (size_t i = 0; i < kConns; ++i) {
      if (sent[i] >= kSent) continue;
      sent[i] += conns[i]->SendSome(std::string_view(part).substr(sent[i]));
      left = left || sent[i] < kSent;
    }
    if (left) std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  EXPECT_EQ(HealthzStatus(srv), 200);
  // Four bodies fit in 16 MiB; each of the other connections is answered 503.
  const size_t admitted = hopts.max_inflight_body_bytes / kDeclared;
  size_t refused = 0, silent = 0;
  for (auto& c : conns) {
    std::string got = c->ReadResponses(1, refused + silent < admitted + 10 ? 300 : 50);
    if (got.empty()) {
      ++silent;
      continue;
    }
    EXPECT_EQ(got.rfind("HTTP/1.1 503 ", 0), 0u) << got;
    EXPECT_NE(got.find("Retry-After: 1\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find("max_inflight_body_bytes"), std::string::npos) << got;
    ++refused;
  }
  EXPECT_EQ(silent, admitted);
  EXPECT_EQ(refused, kConns - admitted);
  auto stats = srv.http().Stats();
  EXPECT_EQ(stats.body_bytes_in_flight, admitted * kDeclared);
  EXPECT_EQ(stats.bodies_refused, kConns - admitted);
  // Memory: the admitted bodies' 512 KiB each, buffers, and slack; far below the 100 MiB that
  // reading every body would hold.
  const size_t rss_after = RssBytes();
  EXPECT_LT(rss_after, rss_before + hopts.max_inflight_body_bytes + 32 * kMiB)
      << "RSS grew from " << rss_before << " to " << rss_after;

  // On a TikTok path the refusal is TikTok's envelope (code 40100).
  {
    RawConn tiktok(srv.port());
    tiktok.Send(PostHead("/open_api/v1.3/event/track/", kDeclared));
    std::string got = tiktok.ReadResponses(1);
    EXPECT_EQ(got.rfind("HTTP/1.1 503 ", 0), 0u) << got;
    EXPECT_NE(got.find("Retry-After: 1\r\n"), std::string::npos) << got;
    EXPECT_NE(got.find(R"("code":40100)"), std::string::npos) << got;
  }
  auto metrics = srv.Client().Request("GET", "/metrics");
  ASSERT_TRUE(metrics.ok());
  EXPECT_NE(metrics->body.find("touchpoint_http_bodies_refused_total " +
                               std::to_string(kConns - admitted + 1) + "\n"),
            std::string::npos)
      << metrics->body;

  // The clients go away: their memory is given back, and a body is taken again.
  conns.clear();
  for (int i = 0; i < 500 && srv.http().Stats().body_bytes_in_flight != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(srv.http().Stats().body_bytes_in_flight, 0u);
  auto created = srv.Client().Request("POST", "/api/v1/pixels", R"({"name":"after"})",
                                      {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_TRUE(created.ok());
  EXPECT_EQ(created->status, 201) << created->body;
}

// A body trickled at 50 bytes a second, below a minimum of 1000 over 1 s windows: closed within
// a few seconds; an idle keep-alive connection is not measured and stays.
TEST(Hostile, SlowSenderIsClosedAndIdleConnectionStays) {
  server::HttpServerOptions hopts;
  hopts.min_request_bytes_per_s = 1000;
  hopts.min_request_rate_window_s = 1;
  TestServer srv(1700000000000, {}, {}, hopts);
  RawConn idle(srv.port());
  RawConn slow(srv.port());
  ASSERT_TRUE(slow.connected());
  slow.Send(PostHead("/api/v1/events", 1000));
  const auto t0 = Clock::now();
  bool closed = false;
  while (!closed && Clock::now() - t0 < std::chrono::seconds(8)) {
    slow.SendSome("xxxxx");
    pollfd p{slow.fd(), POLLIN, 0};
    if (::poll(&p, 1, 100) > 0) {
      char buf[256];
      closed = ::recv(slow.fd(), buf, sizeof buf, 0) <= 0;
    }
  }
  const auto took = Clock::now() - t0;
  EXPECT_TRUE(closed);
  EXPECT_GE(took, std::chrono::milliseconds(900));  // not before its first window
  EXPECT_LT(took, std::chrono::seconds(6));
  EXPECT_EQ(srv.http().Stats().slow_requests_dropped, 1u);
  // Given back once the aborted read has ended, just after the close.
  for (int i = 0; i < 200 && srv.http().Stats().body_bytes_in_flight != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(srv.http().Stats().body_bytes_in_flight, 0u);
  EXPECT_FALSE(idle.ClosedWithin(100));
  idle.Send("GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n");
  EXPECT_EQ(idle.ReadResponses(1).rfind("HTTP/1.1 200 ", 0), 0u);
}

// Exactly one answer (the refusal), then the connection closes: the bytes after the head are
// never read as a second request.
void ExpectRefusedAndClosed(uint16_t port, const std::string& request, const std::string& status) {
  RawConn c(port);
  c.Send(request);
  std::string got = c.ReadAll(3000);
  EXPECT_TRUE(c.eof()) << got;
  EXPECT_EQ(RawConn::CountComplete(got), 1) << got;
  EXPECT_EQ(got.rfind("HTTP/1.1 " + status + " ", 0), 0u) << got;
  EXPECT_EQ(got.find("\"ok\""), std::string::npos) << got;
}

TEST(Hostile, TransferEncodingOtherThanChunkedIsRefusedNotSmuggled) {
  TestServer srv;
  const std::string next = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
  auto post = [](const std::string& headers) {
    return "POST /api/v1/events HTTP/1.1\r\nHost: h\r\n" + headers + "\r\n";
  };
  ExpectRefusedAndClosed(srv.port(), post("Transfer-Encoding: gzip\r\n") + next, "400");
  ExpectRefusedAndClosed(srv.port(), post("Transfer-Encoding: chunked, gzip\r\n") + next, "400");
  ExpectRefusedAndClosed(
      srv.port(), post("Transfer-Encoding: chunked\r\nTransfer-Encoding: gzip\r\n") + next, "400");
  // Chunked last, after a coding not implemented here.
  ExpectRefusedAndClosed(srv.port(),
                         post("Transfer-Encoding: gzip, chunked\r\n") + "0\r\n\r\n" + next, "501");
  // Content-Length with Transfer-Encoding, in either order.
  ExpectRefusedAndClosed(
      srv.port(), post("Content-Length: 5\r\nTransfer-Encoding: chunked\r\n") + "0\r\n\r\n" + next,
      "400");
  ExpectRefusedAndClosed(
      srv.port(), post("Transfer-Encoding: chunked\r\nContent-Length: 5\r\n") + "0\r\n\r\n" + next,
      "400");
  ExpectRefusedAndClosed(srv.port(),
                         "POST /api/v1/events HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n"
                         "0\r\n\r\n" +
                             next,
                         "400");
  // Plain chunked still works, and the next request on the connection is answered.
  RawConn ok(srv.port());
  ok.Send(post("Transfer-Encoding: chunked\r\n") + "2\r\n{}\r\n0\r\n\r\n" + next);
  std::string got = ok.ReadResponses(2);
  EXPECT_EQ(RawConn::CountComplete(got), 2) << got;
  EXPECT_NE(got.find("\"ok\""), std::string::npos) << got;
}

// The touchpoint binary as a child with a low descriptor limit; its output goes to a file.
class LimitedServer {
 public:
  explicit LimitedServer(rlim_t max_fds) {
    dir_ = std::filesystem::temp_directory_path() /
           ("tp_hostile_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(dir_);
    log_ = (dir_ / "log").string();
    const std::string port_file = (dir_ / "port").string();
    const char* bin = std::getenv("TP_BINARY");
    if (!bin || !*bin) return;
    std::vector<std::string> args = {
        bin,           "serve",       "--data",  (dir_ / "data").string(), "--listen",
        "127.0.0.1:0", "--port-file", port_file, "--admin-token",          "x",
        "--no-fsync",  "--threads",   "2"};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {  // only async-signal-safe calls until exec
      rlimit lim{max_fds, max_fds};
      ::setrlimit(RLIMIT_NOFILE, &lim);
      int fd = ::open(log_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
    for (int i = 0; i < 500 && port_ == 0; ++i) {
      std::ifstream in(port_file);
      int p = 0;
      if (in >> p) {
        port_ = static_cast<uint16_t>(p);
      } else {
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
    }
  }
  ~LimitedServer() {
    if (pid_ > 0) {
      ::kill(pid_, SIGKILL);
      ::waitpid(pid_, nullptr, 0);
    }
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  uint16_t port() const { return port_; }
  // User + system CPU seconds the child has used, from /proc/PID/stat.
  double CpuSeconds() const {
    std::ifstream in("/proc/" + std::to_string(pid_) + "/stat");
    std::string stat((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    std::istringstream rest(stat.substr(stat.rfind(')') + 2));
    std::string field;
    long long utime = 0, stime = 0;
    for (int i = 3; i <= 15 && rest >> field; ++i) {  // fields 14 and 15: utime, stime
      if (i == 14) utime = std::stoll(field);
      if (i == 15) stime = std::stoll(field);
    }
    return double(utime + stime) / double(::sysconf(_SC_CLK_TCK));
  }
  size_t LogLines() const {
    std::ifstream in(log_);
    size_t n = 0;
    for (std::string line; std::getline(in, line);) ++n;
    return n;
  }
  // The log's first 4 KiB (for failure messages).
  std::string Log() const {
    std::ifstream in(log_);
    std::string head(4096, '\0');
    in.read(head.data(), static_cast<std::streamsize>(head.size()));
    head.resize(static_cast<size_t>(in.gcount()));
    return head;
  }

 private:
  std::filesystem::path dir_;
  std::string log_;
  pid_t pid_ = -1;
  uint16_t port_ = 0;
};

TEST(Hostile, DescriptorsExhaustedPauseAcceptingServeHealthzAndRecover) {
  if (!std::getenv("TP_BINARY") || !*std::getenv("TP_BINARY")) GTEST_SKIP() << "TP_BINARY not set";
  LimitedServer srv(64);
  ASSERT_NE(srv.port(), 0) << srv.Log();
  const std::string healthz = "GET /healthz HTTP/1.1\r\nHost: h\r\n\r\n";
  // Keep-alive connections until one is answered with `Connection: close` (it came through the
  // reserve) or not at all: the server is out of descriptors.
  std::vector<std::unique_ptr<RawConn>> held;
  bool at_limit = false;
  for (int i = 0; i < 100 && !at_limit; ++i) {
    auto c = std::make_unique<RawConn>(srv.port());
    ASSERT_TRUE(c->connected());
    c->Send(healthz);
    std::string got = c->ReadResponses(1, 3000);
    at_limit = got.empty() || got.find("Connection: close\r\n") != std::string::npos;
    if (!got.empty()) {
      EXPECT_EQ(got.rfind("HTTP/1.1 200 ", 0), 0u) << i << ": " << got;
    }
    if (!at_limit) held.push_back(std::move(c));
  }
  ASSERT_TRUE(at_limit) << "never ran out of descriptors";
  ASSERT_LT(held.size(), 64u);
  // Connections that wait in the backlog and send nothing: accept() keeps failing for them.
  std::vector<std::unique_ptr<RawConn>> waiting;
  for (int i = 0; i < 20; ++i) waiting.push_back(std::make_unique<RawConn>(srv.port()));
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const double cpu_before = srv.CpuSeconds();
  std::this_thread::sleep_for(std::chrono::seconds(2));
  const double cpu_used = srv.CpuSeconds() - cpu_before;
  // A spinning accept loop burns most of a core (2 s); backing off, almost nothing.
  EXPECT_LT(cpu_used, 0.3) << "CPU seconds in 2 s at the descriptor limit";
  waiting.clear();  // they give up; the reserve takes them one by one and sees them gone
  // Still out of descriptors (`held`), yet /healthz and /metrics answer through the reserve.
  for (const std::string target : {"/healthz", "/metrics"}) {
    RawConn probe(srv.port());
    probe.Send("GET " + target + " HTTP/1.1\r\nHost: h\r\n\r\n");
    std::string got = probe.ReadResponses(1, 10000);
    EXPECT_EQ(got.rfind("HTTP/1.1 200 ", 0), 0u) << target << ": " << got;
    EXPECT_NE(got.find("Connection: close\r\n"), std::string::npos) << got;
    if (target == "/metrics") {
      EXPECT_NE(got.find("touchpoint_accept_errors_total{reason=\"fd_limit\"} "), std::string::npos)
          << got;
      EXPECT_EQ(got.find("touchpoint_accept_errors_total{reason=\"fd_limit\"} 0\n"),
                std::string::npos)
          << got;
    }
  }
  EXPECT_LT(srv.LogLines(), 20u) << srv.Log();
  // The held connections go: accepting resumes by itself, connections are kept alive again.
  held.clear();
  bool recovered = false;
  for (int i = 0; i < 50 && !recovered; ++i) {
    RawConn c(srv.port());
    c.Send(healthz);
    std::string got = c.ReadResponses(1, 3000);
    recovered = got.rfind("HTTP/1.1 200 ", 0) == 0 &&
                got.find("Connection: close\r\n") == std::string::npos;
    if (!recovered) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(recovered) << srv.Log();
}

}  // namespace
}  // namespace touchpoint::testing
