-- (a) Delivery + conversion report by campaign x ad x age x gender: impressions, reach (exact
-- distinct people with an impression), clicks, video plays, watch time, spend (each ad's daily
-- spend split by that day's impression share), and the conversions attributed by (b)'s rule to
-- the touch's ad, age and gender, with their value.
WITH delivery AS (
    SELECT ad, age, gender,
           count(*) FILTER (WHERE type = 0) AS impressions,
           count(DISTINCT user_id) FILTER (WHERE type = 0) AS reach,
           count(*) FILTER (WHERE type = 2) AS clicks,
           count(*) FILTER (WHERE type = 1) AS video_plays,
           coalesce(sum(watch_ms) FILTER (WHERE type = 1), 0) AS watch_ms
    FROM ad_events
    GROUP BY ad, age, gender
),
imps AS (
    SELECT ad, time_ms // 86400000 AS day, age, gender, count(*) AS n
    FROM ad_events WHERE type = 0
    GROUP BY ad, day, age, gender
),
spend_split AS (
    SELECT i.ad, i.age, i.gender, round(sum(s.spend * i.n / i.total) * 100)::BIGINT AS spend_cents
    FROM (SELECT *, sum(n) OVER (PARTITION BY ad, day) AS total FROM imps) i
    JOIN (SELECT ad, day_ms // 86400000 AS day, spend FROM spend) s
      ON i.ad = s.ad AND i.day = s.day
    GROUP BY i.ad, i.age, i.gender
),
conv AS (
    SELECT user_id, time_ms AS conv_ms, value FROM site_events WHERE event = 'CompletePayment'
),
clicks AS (
    SELECT user_id, time_ms, ad, age, gender FROM ad_events
    WHERE type = 2 AND user_id IN (SELECT user_id FROM conv)
),
views AS (
    SELECT user_id, time_ms, ad, age, gender FROM ad_events
    WHERE type < 2 AND user_id IN (SELECT user_id FROM conv)
),
by_click AS (
    SELECT c.user_id, c.conv_ms, c.value, k.ad, k.age, k.gender,
           c.conv_ms - k.time_ms <= 604800000 AS eligible
    FROM conv c ASOF LEFT JOIN clicks k ON c.user_id = k.user_id AND c.conv_ms >= k.time_ms
),
credited AS (
    SELECT ad, age, gender, true AS is_click, value FROM by_click WHERE eligible
    UNION ALL
    SELECT v.ad, v.age, v.gender, false AS is_click, b.value
    FROM (SELECT user_id, conv_ms, value FROM by_click WHERE eligible IS NOT TRUE) b
    ASOF JOIN views v ON b.user_id = v.user_id AND b.conv_ms >= v.time_ms
    WHERE b.conv_ms - v.time_ms <= 86400000
),
conversions AS (
    SELECT ad, age, gender,
           count(*) FILTER (WHERE is_click) AS conversions_click,
           count(*) FILTER (WHERE NOT is_click) AS conversions_view,
           round(sum(value) * 100)::BIGINT AS value_cents
    FROM credited
    GROUP BY ad, age, gender
)
SELECT a.campaign_id, a.ad_id, d.age, d.gender, d.impressions, d.reach, d.clicks, d.video_plays,
       d.watch_ms, coalesce(c.conversions_click, 0) AS conversions_click,
       coalesce(c.conversions_view, 0) AS conversions_view,
       coalesce(c.value_cents, 0) AS value_cents, coalesce(s.spend_cents, 0) AS spend_cents
FROM delivery d
JOIN ads a ON a.ad = d.ad
LEFT JOIN spend_split s ON s.ad = d.ad AND s.age = d.age AND s.gender = d.gender
LEFT JOIN conversions c ON c.ad = d.ad AND c.age = d.age AND c.gender = d.gender
ORDER BY a.campaign_id, a.ad_id, d.age, d.gender
