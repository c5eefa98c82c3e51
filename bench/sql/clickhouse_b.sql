-- (b) Last-touch attribution of every conversion (CompletePayment) to an ad: the latest click at
-- most 7 days before it; when there is none, the latest impression or video play at most 1 day
-- before it. Edges inclusive. ClickHouse 18.16 has no window functions and no ASOF JOIN: each
-- conversion is joined to its person's touches, and argMax over (is click, time) picks the touch.
SELECT ad_id, conversions_click, conversions_view, value_cents
FROM
(
    SELECT
        touch.1 AS ad,
        countIf(is_click) AS conversions_click,
        countIf(NOT is_click) AS conversions_view,
        toInt64(round(sum(value) * 100)) AS value_cents
    FROM
    (
        SELECT
            user_id,
            ct,
            argMax(tuple(ad), rank) AS touch,
            max(rank) >= 4398046511104 AS is_click,
            any(value) AS value
        FROM
        (
            SELECT user_id, time_ms AS tt, type, ad, (type = 2) * 4398046511104 + time_ms AS rank
            FROM ad_events
            WHERE user_id IN (SELECT user_id FROM site_events WHERE event = 'CompletePayment')
        )
        ALL INNER JOIN
        (
            SELECT user_id, time_ms AS ct, value FROM site_events WHERE event = 'CompletePayment'
        ) USING (user_id)
        WHERE tt <= ct AND ct - tt <= if(type = 2, 604800000, 86400000)
        GROUP BY user_id, ct
    )
    GROUP BY ad
)
ANY INNER JOIN (SELECT ad, ad_id FROM ads) USING (ad)
ORDER BY ad_id
