-- (b) Last-touch attribution of every conversion (CompletePayment) to an ad: the latest click at
-- most 7 days before it; when there is none, the latest impression or video play at most 1 day
-- before it. Edges inclusive. An ASOF JOIN finds each conversion's latest earlier click (and,
-- for those without an eligible click, its latest earlier view).
WITH conv AS (
    SELECT user_id, time_ms AS conv_ms, value FROM site_events WHERE event = 'CompletePayment'
),
clicks AS (
    SELECT user_id, time_ms, ad FROM ad_events
    WHERE type = 2 AND user_id IN (SELECT user_id FROM conv)
),
views AS (
    SELECT user_id, time_ms, ad FROM ad_events
    WHERE type < 2 AND user_id IN (SELECT user_id FROM conv)
),
by_click AS (
    SELECT c.user_id, c.conv_ms, c.value, k.ad, c.conv_ms - k.time_ms <= 604800000 AS eligible
    FROM conv c ASOF LEFT JOIN clicks k ON c.user_id = k.user_id AND c.conv_ms >= k.time_ms
),
credited AS (
    SELECT ad, true AS is_click, value FROM by_click WHERE eligible
    UNION ALL
    SELECT v.ad, false AS is_click, b.value
    FROM (SELECT user_id, conv_ms, value FROM by_click WHERE eligible IS NOT TRUE) b
    ASOF JOIN views v ON b.user_id = v.user_id AND b.conv_ms >= v.time_ms
    WHERE b.conv_ms - v.time_ms <= 86400000
)
SELECT a.ad_id,
       count(*) FILTER (WHERE is_click) AS conversions_click,
       count(*) FILTER (WHERE NOT is_click) AS conversions_view,
       round(sum(value) * 100)::BIGINT AS value_cents
FROM credited JOIN ads a USING (ad)
GROUP BY a.ad_id
ORDER BY a.ad_id
