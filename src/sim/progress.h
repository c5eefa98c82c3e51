#pragma once
// The simulate command's progress line on stderr: redrawn in place ('\r') on a terminal, a plain
// line every few seconds otherwise (logs, CI).

#include <chrono>
#include <cstdint>
#include <cstdio>
#include <string>

#include "sim/delivery_summary.h"

namespace touchpoint::sim {

class ProgressLine {
 public:
  ProgressLine(std::FILE* out, bool tty, uint64_t total_users);
  // Redraws if enough time has passed (always when `force`).
  void Update(uint64_t users_done, const DeliverySummary* summary, uint64_t events_generated,
              bool force = false);
  // Ends the line (terminal) so the summary starts on a fresh one.
  void Done();

 private:
  std::FILE* out_;
  bool tty_;
  uint64_t total_users_;
  std::chrono::steady_clock::time_point start_;
  std::chrono::steady_clock::time_point last_;
  bool drawn_ = false;
};

}  // namespace touchpoint::sim
