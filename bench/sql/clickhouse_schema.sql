-- ClickHouse 18.16 (Debian 12's clickhouse-server): the benchmark's tables. MergeTree sorted by
-- person and time, the layout attribution wants; small enumerations as Enum8, the ad as its index
-- in `ads` (our engine dictionary-encodes it the same way). bench/report_bench.sh runs each
-- statement, then loads the CSV files with INSERT ... FORMAT CSVWithNames and OPTIMIZE ... FINAL.
CREATE TABLE ads (
  ad UInt16, ad_id String, adgroup_id String, campaign_id String
) ENGINE = MergeTree ORDER BY ad;

CREATE TABLE ad_events (
  time_ms Int64,
  user_id UInt32,
  ad UInt16,
  type UInt8,  -- 0 impression, 1 video play, 2 click
  watch_ms UInt32,
  video_ms UInt32,
  age Enum8('' = 0, '13-17' = 1, '18-24' = 2, '25-34' = 3, '35-44' = 4, '45-54' = 5, '55+' = 6),
  gender Enum8('' = 0, 'female' = 1, 'male' = 2, 'unknown' = 3),
  country String,
  region String,
  placement String,
  os String,
  device String
) ENGINE = MergeTree ORDER BY (user_id, time_ms);

CREATE TABLE site_events (
  time_ms Int64, user_id UInt32, event String, value Float64
) ENGINE = MergeTree ORDER BY (user_id, time_ms);

CREATE TABLE spend (
  day_ms Int64, ad UInt16, spend Float64
) ENGINE = MergeTree ORDER BY (ad, day_ms);
