#pragma once
// Helpers for the simulator's tests: temp dirs, a sink that keeps what it is given, file reads.

#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>
#include <string>
#include <vector>

#include "sim/simulator.h"

namespace touchpoint::sim::testing {

// 2024-06-01T00:00:00Z: a fixed end, so that runs are comparable.
inline constexpr int64_t kEndMs = 1717200000000;

class TempDir {
 public:
  TempDir() {
    path_ = std::filesystem::temp_directory_path() /
            ("tp_sim_test_" + std::to_string(std::random_device{}()));
    std::filesystem::create_directories(path_);
  }
  ~TempDir() { std::filesystem::remove_all(path_); }
  std::string path() const { return path_.string(); }
  std::string operator/(std::string_view name) const { return (path_ / name).string(); }

 private:
  std::filesystem::path path_;
};

inline std::string ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Keeps every batch and truth line.
class RecordingSink final : public DeliverySink {
 public:
  Status Begin(const Simulator&) override { return OkStatus(); }
  Status Deliver(const Batch& batch) override {
    batches.push_back(batch);
    return OkStatus();
  }
  Status Conversions(const std::vector<std::string>& lines) override {
    truth.insert(truth.end(), lines.begin(), lines.end());
    return OkStatus();
  }
  Status Finish(const Simulator&) override { return OkStatus(); }

  std::vector<Batch> batches;
  std::vector<std::string> truth;
};

inline SimOptions Options(const std::string& scenario, uint64_t seed, int users, int days) {
  auto s = LoadScenario(scenario);
  if (!s.ok()) throw std::runtime_error(s.status().message());
  SimOptions o;
  o.scenario = *s;
  o.seed = seed;
  o.users = users;
  o.days = days;
  o.end_ms = kEndMs;
  return o;
}

}  // namespace touchpoint::sim::testing
