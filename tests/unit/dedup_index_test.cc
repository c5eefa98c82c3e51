#include "store/dedup_index.h"

#include <gtest/gtest.h>

namespace touchpoint::store {
namespace {

TEST(DedupKey, PixelEventAndEventIdAllMatter) {
  SiteEvent a{.pixel_id = "P", .event = "CompletePayment", .event_id = "1"};
  SiteEvent b = a;
  b.event = "Purchase";  // a different event name is a different event (spec §3.1)
  SiteEvent c = a;
  c.pixel_id = "Q";
  EXPECT_NE(SiteDedupKey(a), SiteDedupKey(b));
  EXPECT_NE(SiteDedupKey(a), SiteDedupKey(c));
  EXPECT_EQ(SiteDedupKey(a), SiteDedupKey(SiteEvent(a)));
}

TEST(DedupKey, PurchaseWithoutEventIdUsesOrderId) {
  SiteEvent p{.pixel_id = "P", .event = "CompletePayment", .order_id = "o9"};
  EXPECT_FALSE(SiteDedupKey(p).empty());
  SiteEvent v{.pixel_id = "P", .event = "ViewContent", .order_id = "o9"};
  EXPECT_TRUE(SiteDedupKey(v).empty());
  SiteEvent none{.pixel_id = "P", .event = "CompletePayment"};
  EXPECT_TRUE(SiteDedupKey(none).empty());
}

TEST(DedupIndex, EntryLivesExactly48Hours) {
  DedupIndex idx;
  idx.Insert("k", 7, 1000, false);
  EXPECT_EQ(idx.Find("k", 1000 + kDedupWindowMs)->seq, 7u);
  EXPECT_FALSE(idx.Find("k", 1000 + kDedupWindowMs + 1));
  idx.Expire(1000 + kDedupWindowMs + 1);
  EXPECT_EQ(idx.size(), 0u);
}

TEST(DedupIndex, ReinsertAfterExpiryIsNotErasedByOldQueueEntry) {
  DedupIndex idx;
  idx.Insert("k", 1, 0, false);
  idx.Insert("k", 2, kDedupWindowMs + 10, false);  // a new first copy after the window
  idx.Expire(kDedupWindowMs + 5);
  ASSERT_TRUE(idx.Find("k", kDedupWindowMs + 20));
  EXPECT_EQ(idx.Find("k", kDedupWindowMs + 20)->seq, 2u);
}

}  // namespace
}  // namespace touchpoint::store
