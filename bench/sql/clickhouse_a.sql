-- (a) Delivery + conversion report by campaign x ad x age x gender: impressions, reach (exact
-- distinct people with an impression), clicks, video plays, watch time, spend (each ad's daily
-- spend split by that day's impression share), and the conversions attributed by (b)'s rule to
-- the touch's ad, age and gender, with their value.
--
-- Tuned for 18.16, whose GROUP BY over several keys is slow: (ad, age, gender) is packed into one
-- integer k = ad * 256 + age * 4 + gender (and with the day into k * 65536 + day), which halves
-- the time of the plain GROUP BY ad, age, gender version. Only tuple/array functions that 18.16
-- has are used (no WITH subqueries, window functions or ASOF JOIN in this version).
SELECT campaign_id, ad_id, age, gender, impressions, reach, clicks, video_plays, watch_ms,
       conversions_click, conversions_view, value_cents, spend_cents
FROM
(
    SELECT toUInt16(intDiv(k, 256)) AS ad,
           ['', '13-17', '18-24', '25-34', '35-44', '45-54', '55+'][intDiv(k, 4) % 64 + 1] AS age,
           ['', 'female', 'male', 'unknown'][k % 4 + 1] AS gender,
           impressions, reach, clicks, video_plays, watch_ms, spend_cents,
           conversions_click, conversions_view, value_cents
    FROM
    (
        SELECT k, impressions, reach, clicks, video_plays, watch_ms, spend_cents
        FROM
        (
            SELECT
                ad * 256 + toUInt8(age) * 4 + toUInt8(gender) AS k,
                countIf(type = 0) AS impressions,
                uniqExactIf(user_id, type = 0) AS reach,
                countIf(type = 2) AS clicks,
                countIf(type = 1) AS video_plays,
                sumIf(watch_ms, type = 1) AS watch_ms
            FROM ad_events
            GROUP BY k
        )
        ANY LEFT JOIN
        (
            SELECT g.1 AS k, toInt64(round(sum(spend * g.2 / total) * 100)) AS spend_cents
            FROM
            (
                SELECT groups, total, spend
                FROM
                (
                    SELECT intDiv(kd, 16777216) * 65536 + kd % 65536 AS ad_day,
                           groupArray((toUInt64(intDiv(kd, 65536)), n)) AS groups, sum(n) AS total
                    FROM
                    (
                        SELECT (ad * 256 + toUInt8(age) * 4 + toUInt8(gender)) * 65536
                                 + intDiv(time_ms, 86400000) AS kd,
                               count() AS n
                        FROM ad_events
                        WHERE type = 0
                        GROUP BY kd
                    )
                    GROUP BY ad_day
                )
                ANY INNER JOIN
                (
                    SELECT ad * 65536 + intDiv(day_ms, 86400000) AS ad_day, spend FROM spend
                ) USING (ad_day)
            )
            ARRAY JOIN groups AS g
            GROUP BY k
        ) USING (k)
    )
    ANY LEFT JOIN
    (
        SELECT
            touch AS k,
            countIf(is_click) AS conversions_click,
            countIf(NOT is_click) AS conversions_view,
            toInt64(round(sum(value) * 100)) AS value_cents
        FROM
        (
            SELECT
                argMax(k, rank) AS touch,
                max(rank) >= 4398046511104 AS is_click,
                any(value) AS value
            FROM
            (
                SELECT user_id, time_ms AS tt, type, ad * 256 + toUInt8(age) * 4 + toUInt8(gender) AS k,
                       (type = 2) * 4398046511104 + time_ms AS rank
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
        GROUP BY touch
    ) USING (k)
)
ANY INNER JOIN (SELECT ad, ad_id, campaign_id FROM ads) USING (ad)
ORDER BY campaign_id, ad_id, age, gender
