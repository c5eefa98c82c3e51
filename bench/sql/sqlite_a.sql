-- (a) Delivery + conversion report by campaign x ad x age x gender: impressions, reach (exact
-- distinct people with an impression), clicks, video plays, watch time, spend (each ad's daily
-- spend split by that day's impression share), and the conversions attributed by (b)'s rule to
-- the touch's ad, age and gender, with their value.
WITH delivery AS MATERIALIZED (
    SELECT ad, age, gender,
           sum(type = 0) AS impressions,
           count(DISTINCT CASE WHEN type = 0 THEN user_id END) AS reach,
           sum(type = 2) AS clicks,
           sum(type = 1) AS video_plays,
           sum(CASE WHEN type = 1 THEN watch_ms ELSE 0 END) AS watch_ms
    FROM ad_events
    GROUP BY ad, age, gender
),
imps AS MATERIALIZED (
    SELECT ad, time_ms / 86400000 AS day, age, gender, count(*) AS n
    FROM ad_events WHERE type = 0
    GROUP BY ad, day, age, gender
),
spend_split AS MATERIALIZED (
    SELECT i.ad, i.age, i.gender, CAST(round(sum(s.spend * i.n / i.total) * 100) AS INTEGER) AS spend_cents
    FROM (SELECT *, sum(n) OVER (PARTITION BY ad, day) AS total FROM imps) i
    JOIN spend s ON s.ad = i.ad AND s.day_ms = i.day * 86400000
    GROUP BY i.ad, i.age, i.gender
),
touch AS MATERIALIZED (
    SELECT c.value,
           (SELECT a.rowid FROM ad_events a
             WHERE a.user_id = c.user_id AND a.time_ms <= c.time_ms
               AND a.time_ms >= c.time_ms - 604800000 AND a.type = 2
             ORDER BY a.time_ms DESC LIMIT 1) AS click_row,
           (SELECT a.rowid FROM ad_events a
             WHERE a.user_id = c.user_id AND a.time_ms <= c.time_ms
               AND a.time_ms >= c.time_ms - 86400000 AND a.type < 2
             ORDER BY a.time_ms DESC LIMIT 1) AS view_row
    FROM site_events c
    WHERE c.event = 'CompletePayment'
),
conversions AS MATERIALIZED (
    SELECT e.ad, e.age, e.gender,
           sum(t.click_row IS NOT NULL) AS conversions_click,
           sum(t.click_row IS NULL) AS conversions_view,
           CAST(round(sum(t.value) * 100) AS INTEGER) AS value_cents
    FROM touch t
    JOIN ad_events e ON e.rowid = coalesce(t.click_row, t.view_row)
    GROUP BY e.ad, e.age, e.gender
)
SELECT ads.campaign_id, ads.ad_id, d.age, d.gender, d.impressions, d.reach, d.clicks,
       d.video_plays, d.watch_ms, coalesce(c.conversions_click, 0),
       coalesce(c.conversions_view, 0), coalesce(c.value_cents, 0), coalesce(s.spend_cents, 0)
FROM delivery d
JOIN ads ON ads.ad = d.ad
LEFT JOIN spend_split s ON s.ad = d.ad AND s.age = d.age AND s.gender = d.gender
LEFT JOIN conversions c ON c.ad = d.ad AND c.age = d.age AND c.gender = d.gender
ORDER BY ads.campaign_id, ads.ad_id, d.age, d.gender;
