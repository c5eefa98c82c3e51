-- DuckDB: the benchmark's tables, in memory, loaded from the CSV files in {dir} (bench/duckdb.mjs
-- substitutes it). Small enumerations as ENUM, the ad as its index in `ads`, rows in time order
-- (the order events arrive in).
CREATE TYPE age_t AS ENUM ('13-17', '18-24', '25-34', '35-44', '45-54', '55+');
CREATE TYPE gender_t AS ENUM ('female', 'male', 'unknown');
CREATE TABLE ads (ad USMALLINT, ad_id VARCHAR, adgroup_id VARCHAR, campaign_id VARCHAR);
CREATE TABLE ad_events (
  time_ms BIGINT,
  user_id UINTEGER,
  ad USMALLINT,
  type UTINYINT,  -- 0 impression, 1 video play, 2 click
  watch_ms UINTEGER,
  video_ms UINTEGER,
  age age_t,
  gender gender_t,
  country VARCHAR,
  region VARCHAR,
  placement VARCHAR,
  os VARCHAR,
  device VARCHAR
);
CREATE TABLE site_events (time_ms BIGINT, user_id UINTEGER, event VARCHAR, value DOUBLE);
CREATE TABLE spend (day_ms BIGINT, ad USMALLINT, spend DOUBLE);
COPY ads FROM '{dir}/ads.csv' (HEADER);
COPY ad_events FROM '{dir}/ad_events.csv' (HEADER);
COPY site_events FROM '{dir}/site_events.csv' (HEADER);
COPY spend FROM '{dir}/spend.csv' (HEADER);
