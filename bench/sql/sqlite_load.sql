-- SQLite (Debian 12's sqlite3 CLI): the benchmark's tables, loaded from the CSV files in {dir}
-- (bench/report_bench.sh substitutes it), plus the indexes the queries
-- use: ad events by (person, time), site events by name, spend by (ad, day).
PRAGMA journal_mode = OFF;
PRAGMA synchronous = OFF;
CREATE TABLE ads (ad INTEGER PRIMARY KEY, ad_id TEXT, adgroup_id TEXT, campaign_id TEXT);
CREATE TABLE ad_events (
  time_ms INTEGER,
  user_id INTEGER,
  ad INTEGER,
  type INTEGER,  -- 0 impression, 1 video play, 2 click
  watch_ms INTEGER,
  video_ms INTEGER,
  age TEXT,
  gender TEXT,
  country TEXT,
  region TEXT,
  placement TEXT,
  os TEXT,
  device TEXT
);
CREATE TABLE site_events (time_ms INTEGER, user_id INTEGER, event TEXT, value REAL);
CREATE TABLE spend (day_ms INTEGER, ad INTEGER, spend REAL);
.mode csv
.import --skip 1 {dir}/ads.csv ads
.import --skip 1 {dir}/ad_events.csv ad_events
.import --skip 1 {dir}/site_events.csv site_events
.import --skip 1 {dir}/spend.csv spend
CREATE INDEX ad_events_by_user ON ad_events (user_id, time_ms);
CREATE INDEX site_events_by_event ON site_events (event);
CREATE INDEX spend_by_ad_day ON spend (ad, day_ms);
ANALYZE;
