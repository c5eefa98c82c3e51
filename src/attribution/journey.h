#pragma once
// Building one conversion's journey from its identity cluster's touchpoints.
//
// Eligibility (TikTok's rules, spec §5.1): a click is eligible when it happened at most its click
// window before the conversion (edges inclusive: exactly 7 days is in, 7 days + 1 ms is out), a
// view (impression or video play) when at most its view window before (a 0 window = views off).
// Touches after the conversion are never eligible. If any click is eligible the journey is the
// eligible clicks; otherwise it is the eligible views.

#include <cstdint>
#include <span>
#include <vector>

namespace touchpoint::attribution {

struct TouchWindow {
  int64_t click_ms;
  int64_t view_ms;
};

// The touches of one cluster, oldest first.
struct ClusterTouches {
  std::span<const int64_t> time_ms;
  std::span<const uint8_t> is_click;
  std::span<const TouchWindow> window;  // per touch (its ad group's, or the query's)
};

// Fills `out` with the indexes (into the cluster's touches) of the journey; returns true for a
// click-through journey. `out` is empty when nothing is eligible.
bool BuildJourney(const ClusterTouches& touches, int64_t conversion_ms, std::vector<uint32_t>& out);

}  // namespace touchpoint::attribution
