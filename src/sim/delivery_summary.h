#pragma once
// What a delivery (bulk load or HTTP) did with the simulator's events: sent = accepted +
// duplicate + rejected, with rejections counted by reason.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>

namespace touchpoint::sim {

struct DeliverySummary {
  uint64_t sent = 0;
  uint64_t accepted = 0;
  uint64_t duplicate = 0;  // merged copies included
  uint64_t rejected = 0;
  std::map<std::string, uint64_t> rejected_by_reason;  // indices normalized: data[N].field
  std::map<std::string, uint64_t> requests;            // HTTP: per endpoint
  uint64_t throttled = 0;                              // HTTP: 503/429 answers, retried

  // Counts n rejections for `message` (as the server worded it).
  void Reject(std::string_view message, uint64_t n = 1);
  bool Balanced() const { return sent == accepted + duplicate + rejected; }
  // A few lines for people.
  std::string ToText() const;
  std::string ToJson() const;
};

}  // namespace touchpoint::sim
