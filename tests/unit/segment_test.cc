#include "store/segment.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

#include "format/event_json.h"
#include "store/dedup_index.h"

namespace touchpoint::store {
namespace {

const std::string kHash = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

// Site and ad events using every field, with values a dictionary must keep apart ("" vs absent,
// hex that is not lowercase, odd-length hex, negative and huge numbers).
std::vector<SegmentRow> VariedRows() {
  std::vector<SegmentRow> rows;
  uint64_t seq = 41;
  for (int i = 0; i < 300; ++i) {
    SegmentRow r;
    r.seq = seq++;
    if (i == 7) seq += 5;  // a gap (a seq range lost to --recover)
    r.received_ms = 1700000000000 + i * 37 - (i % 3) * 1000;
    if (i % 4 == 3) {
      AdEvent a;
      a.type = static_cast<AdEventType>(i % 3);
      a.event_id = i % 8 == 3 ? "" : "ad-" + std::to_string(i);
      a.ad_id = "ad" + std::to_string(i % 5);
      a.event_time_ms = 1699990000000 + i * 1000;
      a.user_key = "u" + std::to_string(i % 40);
      if (a.type == AdEventType::kClick) a.click_id = "click-" + std::to_string(i);
      if (a.type == AdEventType::kVideoPlay) {
        a.watch_ms = i * 11;
        a.video_ms = 15000;
      }
      if (i % 2) a.email_sha256 = {kHash};
      if (i % 5 == 0) a.phone_sha256 = {kHash, std::string(64, 'A')};
      a.age = "25-34";
      a.gender = i % 2 ? "female" : "male";
      a.country = "US";
      a.region = i % 7 ? "CA" : "";
      a.placement = "feed";
      a.os = "ios";
      a.device = "phone";
      if (i % 6 == 3) {  // a lift study's events: test impressions, control ghosts
        a.study_id = "study-" + std::to_string(i % 2);
        a.cell = i % 12 == 3 ? "test" : "control";
        a.ghost = a.cell == "control" && a.type == AdEventType::kImpression;
      }
      r.event = a;
    } else {
      SiteEvent e;
      e.pixel_id = i % 2 ? "P1" : "P2";
      e.source = i % 3 ? "pixel" : "web";
      e.event = i % 5 ? "PageView" : "CompletePayment";
      e.event_id = "e-" + std::to_string(i);
      e.event_time_ms = i == 5 ? -5 : 1699990000000 - i * 777;
      if (i % 11 == 0) e.test_event_code = "TEST1";
      e.user.ttclid = i % 3 ? "" : "tc" + std::to_string(i);
      e.user.ttp = "0123456789abcdef0" + std::to_string(i % 10);  // odd length: kept as text
      if (i % 2) e.user.email_sha256 = {kHash};
      if (i % 6 == 0) e.user.phone_sha256 = {kHash, "abc"};
      if (i % 9 == 0) e.user.external_id_sha256 = {kHash};
      e.user.ip = "203.0.113.0";
      e.user.user_agent = "Mozilla/5.0 \"quoted\" \xc3\xa9";
      e.user.locale = "en-US";
      if (i % 5 == 0) e.value = i == 10 ? 1e300 : 46.5 + i;
      if (i == 20) e.value = -0.0;
      e.currency = e.value ? "USD" : "";
      e.order_id = i % 5 ? "" : "o" + std::to_string(i);
      e.content_type = "product";
      e.query = i % 13 ? "" : "shoes";
      e.description = i % 17 ? "" : "line\nbreak";
      if (i % 5 == 0) {
        e.contents.push_back(ContentItem{"sku1", "Shoe", "shoes", "product", "Acme", 19.99, 2});
        e.contents.push_back(ContentItem{"sku2", "", "", "", "", std::nullopt, std::nullopt});
      }
      if (i % 10 == 0) e.contents.push_back(ContentItem{"", "", "", "", "", 0.0, -3});
      e.page_url = "https://shop.example/p/" + std::to_string(i % 20);
      e.page_referrer = i % 4 ? "" : "https://ads.example/";
      // The Events API 2.0 fields of format version 2, each present on some rows only.
      if (i % 3 == 1) {
        e.user.first_name_sha256 = kHash;
        e.user.last_name_sha256 = std::string(64, 'b');
        e.user.zip_code_sha256 = kHash;
        e.user.city_sha256 = "c1";
        e.user.state_sha256 = i % 2 ? "ca" : "";
        e.user.country_sha256 = std::string(64, 'd');
      }
      if (i % 7 == 2) e.shop_id = "shop-" + std::to_string(i % 3);
      if (i % 4 == 1) e.num_items = i == 9 ? 0 : i;
      if (i % 6 == 1) e.predicted_ltv = i == 13 ? -0.0 : 12.5 * i;
      e.partner_name = i % 2 ? "GoogleTagManagerServer" : "";
      if (i % 9 == 4) {
        e.lead_id = "7291234567890123456";
        e.lead_event_source = i % 2 ? "" : "HubSpot";
      }
      if (i % 8 == 5) {
        e.app_id = "com.shop";
        e.app_name = "Shop";
        e.app_version = std::to_string(i);
      }
      if (i % 5 == 1) {
        e.device_platform = "iOS";
        e.device_model = i % 2 ? "iPhone15,2" : "";
        e.device_mobile = i % 3 == 0;
      }
      e.limited_data_use = i % 7 == 0;
      r.event = e;
    }
    rows.push_back(std::move(r));
  }
  return rows;
}

TEST(Segment, EveryFieldOfEveryEventComesBackEqual) {
  const auto rows = VariedRows();
  const std::string bytes = EncodeSegment(rows);
  auto back = DecodeSegment(bytes, "s.tps");
  ASSERT_TRUE(back.ok()) << back.status().message();
  ASSERT_EQ(back->size(), rows.size());
  for (size_t i = 0; i < rows.size(); ++i) {
    EXPECT_EQ((*back)[i].seq, rows[i].seq) << i;
    EXPECT_EQ((*back)[i].received_ms, rows[i].received_ms) << i;
    EXPECT_TRUE((*back)[i].event == rows[i].event) << i;
  }
  // -0.0 == 0.0 for operator==: its sign must survive too (export prints "-0").
  ASSERT_TRUE(std::get<SiteEvent>(rows[20].event).value);
  EXPECT_TRUE(std::signbit(*std::get<SiteEvent>((*back)[20].event).value));
  std::string a, b;
  format::AppendSiteEventJson(std::get<SiteEvent>(rows[20].event), 0, 0, a);
  format::AppendSiteEventJson(std::get<SiteEvent>((*back)[20].event), 0, 0, b);
  EXPECT_EQ(a, b);
  auto info = VerifySegment(bytes, "s.tps");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->first_seq, 41u);
  EXPECT_EQ(info->last_seq, rows.back().seq);
  EXPECT_EQ(info->rows, rows.size());
}

TEST(Segment, AnySingleFlippedByteIsFound) {
  const std::string bytes = EncodeSegment(VariedRows());
  std::mt19937 rng(7);
  for (int trial = 0; trial < 200; ++trial) {
    std::string damaged = bytes;
    const size_t at = rng() % damaged.size();
    damaged[at] = static_cast<char>(damaged[at] ^ (1 + rng() % 255));
    auto info = VerifySegment(damaged, "s.tps");
    EXPECT_FALSE(info.ok()) << "byte " << at;
    EXPECT_FALSE(DecodeSegment(damaged, "s.tps").ok()) << "byte " << at;
  }
}

TEST(Segment, TruncationIsNamedWithTheExpectedSize) {
  const std::string bytes = EncodeSegment(VariedRows());
  auto info = VerifySegment(std::string_view(bytes).substr(0, bytes.size() - 100), "s.tps");
  ASSERT_FALSE(info.ok());
  EXPECT_EQ(info.status().message(), "s.tps: truncated: " + std::to_string(bytes.size() - 100) +
                                         " of " + std::to_string(bytes.size()) + " bytes");
}

TEST(Segment, DedupTableFindsEveryKeyedRow) {
  const auto rows = VariedRows();
  auto t = DecodeSegmentDedup(EncodeSegment(rows), "s.tps");
  ASSERT_TRUE(t.ok()) << t.status().message();
  size_t keyed = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    const auto* s = std::get_if<SiteEvent>(&rows[i].event);
    const std::string key = s ? SiteDedupKey(*s) : AdDedupKey(std::get<AdEvent>(rows[i].event));
    if (key.empty()) continue;
    ++keyed;
    auto [lo, hi] = std::equal_range(t->hashes.begin(), t->hashes.end(), DedupKeyHash32(key));
    bool found = false;
    for (auto it = lo; it != hi; ++it) found |= t->rows[it - t->hashes.begin()] == i;
    EXPECT_TRUE(found) << key;
    EXPECT_EQ(t->received_ms[i], rows[i].received_ms);
  }
  EXPECT_EQ(t->hashes.size(), keyed);
  EXPECT_GT(keyed, 100u);
}

TEST(Segment, FileNamesSortBySeqAndParseBack) {
  EXPECT_EQ(SegmentFileName(1, 262144), "seg-00000000000000000001-00000000000000262144.tps");
  uint64_t a = 0, b = 0;
  EXPECT_TRUE(ParseSegmentFileName(SegmentFileName(17, 99), a, b));
  EXPECT_EQ(a, 17u);
  EXPECT_EQ(b, 99u);
  EXPECT_FALSE(ParseSegmentFileName(SegmentFileName(17, 99) + ".tmp", a, b));
  EXPECT_LT(SegmentFileName(9, 10), SegmentFileName(10, 11));
}

}  // namespace
}  // namespace touchpoint::store
