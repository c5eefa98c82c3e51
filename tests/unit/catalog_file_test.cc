#include "format/catalog_file.h"

#include <gtest/gtest.h>

namespace touchpoint::format {
namespace {

TEST(CatalogFile, CsvAndJsonGiveTheSameCatalog) {
  auto csv = ParseCatalogCsv(
      "campaign_id,campaign_name,adgroup_id,adgroup_name,click_window_days,view_window_days,"
      "count_mode,ad_id,ad_name,landing_url,format,video_ms,call_to_action,tags\n"
      "c1,Spring,g1,Young,7,1,every,a1,Funny,https://s.example/a,video,15000,shop_now,humor|ugc\n"
      "c1,Spring,g1,Young,7,1,every,a2,\"Plain, "
      "direct\",https://s.example/b,image,,shop_now,straight-pitch\n");
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  auto json = ParseCatalogJson(CatalogToJson(*csv));
  ASSERT_TRUE(json.ok()) << json.status().message();
  EXPECT_EQ(*csv, *json);
  ASSERT_EQ(csv->campaigns.size(), 1u);
  ASSERT_EQ(csv->campaigns[0].adgroups[0].ads.size(), 2u);
  EXPECT_EQ(csv->campaigns[0].adgroups[0].ads[1].name, "Plain, direct");
  EXPECT_EQ(csv->campaigns[0].adgroups[0].ads[0].creative.tags,
            (std::vector<std::string>{"humor", "ugc"}));
}

TEST(CatalogFile, RejectsForeignSchemesAndDuplicateAds) {
  auto bad = ParseCatalogCsv("campaign_id,adgroup_id,ad_id,landing_url\nc,g,a,javascript:x\n");
  EXPECT_EQ(bad.status().message(),
            "campaigns[0].adgroups[0].ads[0].landing_url: must be an absolute http(s) URL");
  auto dup = ParseCatalogCsv(
      "campaign_id,adgroup_id,ad_id,landing_url\nc,g,a,https://x.example\nc,g,a,https://"
      "y.example\n");
  EXPECT_EQ(dup.status().message(), "campaigns[0].adgroups[0].ads[1].ad_id: duplicate id a");
}

TEST(CatalogFile, CsvErrorsNameTheLine) {
  auto r = ParseCatalogCsv(
      "campaign_id,adgroup_id,ad_id,landing_url,click_window_days\nc,g,a,https://"
      "x.example,seven\n");
  EXPECT_EQ(r.status().message(), "line 2.click_window_days: must be an integer");
  auto missing = ParseCatalogCsv("campaign_id,ad_id\nc,a\n");
  EXPECT_EQ(missing.status().message(), "header: missing column adgroup_id");
  auto quote = ParseCsv("a,\"b\n");
  EXPECT_FALSE(quote.ok());
}

TEST(SpendFile, CsvAndJson) {
  auto csv = ParseSpendCsv("date,ad_id,spend,currency\n2024-05-01,a1,12.5,USD\n");
  ASSERT_TRUE(csv.ok()) << csv.status().message();
  ASSERT_EQ(csv->size(), 1u);
  EXPECT_DOUBLE_EQ((*csv)[0].spend, 12.5);
  auto json =
      ParseSpendJson(R"([{"date":"2024-05-01","ad_id":"a1","spend":12.5,"currency":"USD"}])");
  ASSERT_TRUE(json.ok());
  EXPECT_EQ(*csv, *json);
  EXPECT_EQ(ParseSpendCsv("date,ad_id,spend\n2024-5-1,a,1\n").status().message(),
            "line 2.date: must be YYYY-MM-DD");
  EXPECT_EQ(ParseSpendCsv("date,ad_id,spend\n2024-05-01,a,-1\n").status().message(),
            "line 2.spend: must be a number >= 0");
}

}  // namespace
}  // namespace touchpoint::format
