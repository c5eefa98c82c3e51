// Spend files from the ad platforms (ingest/platform_reports.h), read from the fixtures in
// tests/fixtures/spend/, written from the documented shapes (ad-platform spec 6.1: TikTok's
// report/integrated/get; Meta's insights). Expected sums are worked out by hand in comments.
#include "ingest/platform_reports.h"

#include <gtest/gtest.h>

#include <fstream>
#include <sstream>

namespace touchpoint::ingest {
namespace {

constexpr int64_t kDec1 = 1796083200000;  // 2026-12-01T00:00:00Z (date -ud 2026-12-01 +%s)
constexpr int64_t kDec2 = kDec1 + 86400000;

std::string Fixture(const std::string& name) {
  std::ifstream in(std::string(TP_FIXTURES_DIR) + "/spend/" + name, std::ios::binary);
  EXPECT_TRUE(in) << name;
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string Error(std::string_view body) {
  auto r = ParseSpendImport(body);
  return r.ok() ? "" : r.status().message();
}

TEST(PlatformReports, TheTikTokSpendRowOfIssue21IsImported) {
  auto r = ParseSpendImport(
      R"({"code":0,"message":"OK","data":{"list":[{"dimensions":{"ad_id":"a1",
          "stat_time_day":"2026-12-01 00:00:00"},"metrics":{"spend":"12.30"}}]}})");
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->format, "tiktok_report");
  ASSERT_EQ(r->spend.size(), 1u);
  EXPECT_EQ(r->spend[0], (SpendRow{kDec1, "a1", 12.30, ""}));
}

TEST(PlatformReports, TikTokReportGivesDailySpendAndThePlatformsCounts) {
  auto r = ParseSpendImport(Fixture("tiktok_report_integrated_get.json"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->format, "tiktok_report");
  EXPECT_EQ(r->spend, (std::vector<SpendRow>{{kDec1, "1851234567890123", 12.30, "USD"},
                                             {kDec1, "1851234567890456", 0, "USD"},
                                             {kDec2, "1851234567890123", 9.75, "USD"},
                                             {kDec2, "1851234567890456", 204.50, "USD"}}));
  ASSERT_EQ(r->stats.size(), 4u);
  const PlatformStatRow& last = r->stats[3];
  EXPECT_EQ(last.platform, "tiktok");
  EXPECT_EQ(last.day_ms, kDec2);
  EXPECT_EQ(last.impressions, 10233);
  EXPECT_EQ(last.clicks, 188);
  EXPECT_EQ(last.video_views, 6021);
  EXPECT_EQ(last.age, "");
}

TEST(PlatformReports, AgeAndGenderCellsSumIntoTheDaysSpendAndAreKeptAsReported) {
  auto r = ParseSpendImport(Fixture("tiktok_audience_report.json"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->spend.size(), 1u);
  EXPECT_NEAR(r->spend[0].spend, 12.30, 1e-9);  // 4.10 + 3.20 + 5.00
  ASSERT_EQ(r->stats.size(), 3u);
  EXPECT_EQ(r->stats[1].age, "AGE_18_24");
  EXPECT_EQ(r->stats[1].gender, "GENDER_MALE");
  EXPECT_EQ(r->stats[1].impressions, 520);
  EXPECT_EQ(r->stats[1].spend, 3.20);
}

TEST(PlatformReports, TikTokAdsManagerCsvReadsCostAndThousandsSeparators) {
  auto r = ParseSpendImport(Fixture("tiktok_ads_manager.csv"));
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_EQ(r->format, "tiktok_csv");
  EXPECT_EQ(r->spend, (std::vector<SpendRow>{{kDec1, "1851234567890123", 12.30, "USD"},
                                             {kDec1, "1851234567890456", 0, "USD"},
                                             {kDec2, "1851234567890123", 9.75, "USD"},
                                             {kDec2, "1851234567890456", 204.50, "USD"}}));
  ASSERT_EQ(r->stats.size(), 4u);
  EXPECT_EQ(r->stats[0].impressions, 1840);  // "1,840"
  EXPECT_EQ(r->stats[0].clicks, 37);         // Clicks (Destination)
  EXPECT_EQ(r->stats[3].video_views, 6021);  // "6,021"
  auto a = ParseSpendImport(Fixture("tiktok_ads_manager_age_gender.csv"));
  ASSERT_TRUE(a.ok()) << a.status().message();
  ASSERT_EQ(a->spend.size(), 1u);
  EXPECT_NEAR(a->spend[0].spend, 12.30, 1e-9);  // 4.10 + 3.20 + 5.00
  EXPECT_EQ(a->stats[2].age, "25-34");
  EXPECT_EQ(a->stats[2].gender, "Female");
  EXPECT_EQ(a->stats[2].video_views, 361);
}

TEST(PlatformReports, MetaInsightsJsonAndCsv) {
  auto j = ParseSpendImport(Fixture("meta_insights.json"));
  ASSERT_TRUE(j.ok()) << j.status().message();
  EXPECT_EQ(j->format, "meta_insights");
  EXPECT_EQ(j->spend, (std::vector<SpendRow>{{kDec1, "23851234567890001", 15.42, "EUR"},
                                             {kDec2, "23851234567890001", 11.08, "EUR"}}));
  EXPECT_EQ(j->stats[0].platform, "meta");
  EXPECT_EQ(j->stats[0].video_views, 388);
  EXPECT_EQ(j->stats[1].video_views, std::nullopt);
  EXPECT_EQ(j->stats[1].clicks, 33);
  auto c = ParseSpendImport(Fixture("meta_ads_manager.csv"));
  ASSERT_TRUE(c.ok()) << c.status().message();
  EXPECT_EQ(c->format, "meta_csv");
  ASSERT_EQ(c->spend.size(), 2u);
  EXPECT_NEAR(c->spend[0].spend, 15.42, 1e-9);  // 8.40 + 7.02, the currency from the header
  EXPECT_EQ(c->spend[0].currency, "EUR");
  EXPECT_EQ(c->spend[1], (SpendRow{kDec2, "23851234567890001", 11.08, "EUR"}));
  EXPECT_EQ(c->stats[1].gender, "male");
  EXPECT_EQ(c->stats[1].clicks, 19);  // Link clicks
}

TEST(PlatformReports, BadRowsAreNamedByRowAndField) {
  EXPECT_EQ(Error(R"({"data":{"list":[{"dimensions":{"ad_id":"a1","stat_time_day":"2026-12-01"},
                  "metrics":{"spend":"12.30"}},{"dimensions":{"ad_id":"a1",
                  "stat_time_day":"2026-12-02 00:00:00"},"metrics":{"spend":"12,30"}}]}})"),
            "data.list[1].metrics.spend: must be a number >= 0, like 12.30 (got \"12,30\")");
  EXPECT_EQ(Error(R"({"data":{"list":[{"dimensions":{"ad_id":"a1",
                  "stat_time_hour":"2026-12-01 13:00:00"},"metrics":{"spend":"1"}}]}})"),
            "data.list[0].dimensions.stat_time_hour: hourly reports are not imported; ask for "
            "stat_time_day");
  EXPECT_EQ(Error(R"({"data":{"list":[{"dimensions":{"campaign_id":"c1",
                  "stat_time_day":"2026-12-01 00:00:00"},"metrics":{"spend":"1"}}]}})"),
            "data.list[0].dimensions.ad_id: required; this report is by campaign_id (ask for "
            "data_level AUCTION_AD with dimensions [\"ad_id\",\"stat_time_day\"])");
  EXPECT_EQ(Error(R"({"data":{"list":[{"dimensions":{"ad_id":"a1",
                  "stat_time_day":"2026-12-01 00:00:00"},"metrics":{"impressions":"12.5"}}]}})"),
            "data.list[0].metrics.impressions: must be a whole number >= 0 (got \"12.5\")");
  EXPECT_EQ(Error(R"({"code":40001,"message":"No permission","data":{}})"),
            "code: the file is TikTok's error answer 40001 (No permission), not a report");
  EXPECT_EQ(Error(R"({"data":[{"ad_id":"m1","date_start":"2026-12-01","date_stop":"2026-12-07",
                  "spend":"5"}]})"),
            "data[0].date_stop: must equal date_start (export one row per day: time_increment=1)");
  EXPECT_EQ(Error(R"({"data":[{"date_start":"2026-12-01","spend":"5"}]})"),
            "data[0].ad_id: required");
  EXPECT_EQ(Error("Ad ID,Date,Cost\n1,2026-12-01,4\n2,2026-12-01,-4\n"),
            "line 3.Cost: must be a number >= 0, like 12.30 (got \"-4\")");
  EXPECT_EQ(Error("Ad ID,Date,Cost\n1,12/01/2026,4\n"),
            "line 2.Date: must be a day, YYYY-MM-DD or YYYY-MM-DD 00:00:00 (got \"12/01/2026\"; "
            "hourly rows are not imported)");
  EXPECT_EQ(Error("Ad name,Cost\nx,4\n"), "header: missing column Ad ID (or ad_id)");
  EXPECT_EQ(Error(R"({"list":[]})"),
            "body: not a spend file: expected TikTok's report/integrated/get answer "
            "({\"data\":{\"list\":[...]}}), Meta's insights ({\"data\":[...]}), a JSON array of "
            "spend rows, or CSV");
}

TEST(PlatformReports, TouchpointsOwnSpendFilesAreReadAsBefore) {
  auto csv = ParseSpendImport("date,ad_id,spend,currency\n2026-12-01,a1,120.50,USD\n");
  ASSERT_TRUE(csv.ok());
  EXPECT_EQ(csv->format, "touchpoint");
  EXPECT_EQ(csv->spend, (std::vector<SpendRow>{{kDec1, "a1", 120.50, "USD"}}));
  EXPECT_TRUE(csv->stats.empty());
  auto json = ParseSpendImport(R"([{"date":"2026-12-01","ad_id":"a1","spend":99.5}])");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(json->spend, (std::vector<SpendRow>{{kDec1, "a1", 99.5, ""}}));
  EXPECT_EQ(Error("date,ad_id\n2026-12-01,a1\n"), "header: missing column spend");
}

}  // namespace
}  // namespace touchpoint::ingest
