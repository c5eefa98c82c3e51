#pragma once
// The channels data-driven models learn over (docs/metrics.md#data-driven-models): the values of
// one ad-side dimension, coded per touch.

#include <cstdint>
#include <string>
#include <vector>

#include "core/status.h"
#include "query/dataset.h"
#include "query/report.h"

namespace touchpoint::query {

struct ChannelMap {
  Dim dim = Dim::kAd;
  std::vector<uint32_t> of_ad;         // per ad code (ad-level dimensions)
  std::vector<uint32_t> of_placement;  // per placement code (dim == placement)
  std::vector<std::string> names;      // per channel code

  uint32_t Of(const AdColumns& ads, uint32_t row) const {
    return dim == Dim::kPlacement ? of_placement[ads.placement[row]] : of_ad[ads.ad[row]];
  }
};

// Campaign, ad group, ad, format, length, cta, tag or placement.
bool IsChannelDim(Dim d);
// The query's channel= if set, else its first ad-side dimension, else ad.
Dim ChannelDim(const ReportQuery& q);
// An ad with several tags has its tags, sorted and joined by "+", as its one channel.
ChannelMap BuildChannelMap(const Dataset& d, Dim dim);

}  // namespace touchpoint::query
