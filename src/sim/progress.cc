#include "sim/progress.h"

namespace touchpoint::sim {

namespace {

std::string Thousands(uint64_t n) {
  std::string s = std::to_string(n);
  for (int i = static_cast<int>(s.size()) - 3; i > 0; i -= 3) s.insert(static_cast<size_t>(i), ",");
  return s;
}

}  // namespace

ProgressLine::ProgressLine(std::FILE* out, bool tty, uint64_t total_users)
    : out_(out),
      tty_(tty),
      total_users_(total_users),
      start_(std::chrono::steady_clock::now()),
      last_(start_) {}

void ProgressLine::Update(uint64_t users_done, const DeliverySummary* summary,
                          uint64_t events_generated, bool force) {
  auto now = std::chrono::steady_clock::now();
  auto since = now - last_;
  if (!force && since < (tty_ ? std::chrono::milliseconds(100) : std::chrono::seconds(5))) return;
  last_ = now;
  double secs = std::chrono::duration<double>(now - start_).count();
  double frac =
      total_users_ ? static_cast<double>(users_done) / static_cast<double>(total_users_) : 1;
  uint64_t events = summary ? summary->sent : events_generated;
  std::string line;
  if (tty_) {
    constexpr int kWidth = 28;
    int filled = static_cast<int>(frac * kWidth);
    line += "\r  [";
    for (int i = 0; i < kWidth; ++i) line += i < filled ? '#' : (i == filled ? '>' : ' ');
    line += "] ";
  } else {
    line += "  ";
  }
  char pct[16];
  std::snprintf(pct, sizeof pct, "%3.0f%%", frac * 100);
  line += pct;
  line += "  users " + Thousands(users_done) + "/" + Thousands(total_users_);
  line += "  events " + Thousands(events);
  if (summary) {
    line += " (accepted " + Thousands(summary->accepted) + ", duplicate " +
            Thousands(summary->duplicate) + ", rejected " + Thousands(summary->rejected) + ")";
  }
  if (secs > 0.5)
    line += "  " + Thousands(static_cast<uint64_t>(static_cast<double>(events) / secs)) + "/s";
  line += tty_ ? "\x1b[K" : "\n";
  std::fputs(line.c_str(), out_);
  std::fflush(out_);
  drawn_ = true;
}

void ProgressLine::Done() {
  if (tty_ && drawn_) std::fputs("\n", out_);
  std::fflush(out_);
}

}  // namespace touchpoint::sim
