// Crash test: clients send events while the server is killed with SIGKILL at random moments,
// several times. After restart, every acknowledged event is in the export exactly once.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <atomic>
#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <thread>

#include "support/test_server.h"

extern char** environ;

namespace touchpoint::testing {
namespace {

namespace fs = std::filesystem;

class ServerProcess {
 public:
  ServerProcess(const std::string& binary, const fs::path& data) : data_(data) {
    port_file_ = (data / "port").string();
    fs::remove(port_file_);
    std::string log = (data / "server.log").string();
    std::vector<std::string> args = {binary,          "serve",       "--data",      data.string(),
                                     "--listen",      "127.0.0.1:0", "--port-file", port_file_,
                                     "--admin-token", kAdminToken};
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    posix_spawn_file_actions_addopen(&fa, 2, log.c_str(), O_WRONLY | O_CREAT | O_APPEND, 0644);
    int rc = posix_spawn(&pid_, binary.c_str(), &fa, nullptr, argv.data(), environ);
    posix_spawn_file_actions_destroy(&fa);
    if (rc != 0) throw std::runtime_error("cannot start " + binary);
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
    while (std::chrono::steady_clock::now() < deadline) {
      std::ifstream in(port_file_);
      int port = 0;
      if (in >> port && port > 0) {
        url_ = "http://127.0.0.1:" + std::to_string(port);
        return;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
    throw std::runtime_error("server did not start; see " + log);
  }
  void Kill(int sig) {
    if (pid_ <= 0) return;
    ::kill(pid_, sig);
    int status = 0;
    ::waitpid(pid_, &status, 0);
    exit_status_ = status;
    pid_ = -1;
  }
  ~ServerProcess() { Kill(SIGKILL); }
  const std::string& url() const { return url_; }
  int exit_status() const { return exit_status_; }

 private:
  fs::path data_;
  std::string port_file_, url_;
  pid_t pid_ = -1;
  int exit_status_ = 0;
};

const char* Binary() {
  const char* b = std::getenv("TP_BINARY");
  return b ? b : "touchpoint";
}

std::string EventId(std::string_view line) {
  size_t k = line.find("\"event_id\":\"");
  if (k == std::string_view::npos) return "";
  k += 12;
  return std::string(line.substr(k, line.find('"', k) - k));
}

TEST(Crash, EveryAcknowledgedEventSurvivesSigkillExactlyOnce) {
  fs::path data =
      fs::temp_directory_path() / ("tp_crash_" + std::to_string(std::random_device{}()));
  fs::create_directories(data);
  std::mt19937 rng(20261126);  // seeded: the kill moments are reproducible in distribution
  std::string pixel_id, token;
  std::set<std::string> acked;
  std::mutex mu;
  constexpr int kRounds = 5;
  constexpr int kClients = 4;
  for (int round = 0; round < kRounds; ++round) {
    ServerProcess server(Binary(), data);
    if (round == 0) {
      server::HttpClient admin(server.url());
      auto r = admin.Request("POST", "/api/v1/pixels", R"({"name":"crash"})",
                             {{"Authorization", std::string("Bearer ") + kAdminToken}});
      ASSERT_TRUE(r.ok());
      Json j(r->body);
      pixel_id = std::string(j["pixel_id"].get_string().value());
      token = std::string(j["access_token"].get_string().value());
    }
    std::atomic<bool> stop{false};
    std::vector<std::thread> clients;
    for (int t = 0; t < kClients; ++t) {
      clients.emplace_back([&, t] {
        server::HttpClient c(server.url());
        int64_t now_s = std::chrono::duration_cast<std::chrono::seconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
        for (int n = 0; !stop; ++n) {
          std::vector<std::string> ids;
          std::string body =
              R"({"event_source":"web","event_source_id":")" + pixel_id + R"(","data":[)";
          for (int i = 0; i < 10; ++i) {
            ids.push_back("r" + std::to_string(round) + "-t" + std::to_string(t) + "-" +
                          std::to_string(n) + "-" + std::to_string(i));
            body += (i ? "," : "") + std::string(R"({"event":"CompletePayment","event_id":")") +
                    ids.back() + R"(","event_time":)" + std::to_string(now_s) + "}";
          }
          body += "]}";
          auto r = c.Request("POST", "/api/v1/events", body, {{"Access-Token", token}});
          if (!r.ok()) return;  // the server is gone
          if (r->status != 200) continue;
          std::lock_guard lock(mu);
          for (auto& id : ids) acked.insert(id);
        }
      });
    }
    std::uniform_int_distribution<int> kill_after_ms(100, 700);
    std::this_thread::sleep_for(std::chrono::milliseconds(kill_after_ms(rng)));
    server.Kill(SIGKILL);
    stop = true;
    for (auto& c : clients) c.join();
  }
  ASSERT_GT(acked.size(), 100u) << "too few events acknowledged for a meaningful test";

  ServerProcess server(Binary(), data);
  server::HttpClient c(server.url());
  auto r = c.Request("GET", "/api/v1/export?pixel_id=" + pixel_id, "",
                     {{"Authorization", std::string("Bearer ") + kAdminToken}});
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->status, 200);
  std::map<std::string, int> seen;
  size_t pos = 0;
  while (pos < r->body.size()) {
    size_t nl = r->body.find('\n', pos);
    seen[EventId(std::string_view(r->body).substr(pos, nl - pos))]++;
    pos = nl + 1;
  }
  size_t missing = 0;
  for (const auto& id : acked) missing += seen.count(id) == 0;
  EXPECT_EQ(missing, 0u) << "acknowledged events lost after SIGKILL";
  for (const auto& [id, n] : seen) EXPECT_EQ(n, 1) << id << " stored " << n << " times";
  // A clean stop on SIGTERM exits 0.
  server.Kill(SIGTERM);
  EXPECT_TRUE(WIFEXITED(server.exit_status()) && WEXITSTATUS(server.exit_status()) == 0);
  std::cout << "acknowledged " << acked.size() << " events over " << kRounds << " SIGKILLs; stored "
            << seen.size() << ", lost 0\n";
  fs::remove_all(data);
}

}  // namespace
}  // namespace touchpoint::testing
