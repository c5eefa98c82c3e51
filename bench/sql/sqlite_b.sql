-- (b) Last-touch attribution of every conversion (CompletePayment) to an ad: the latest click at
-- most 7 days before it; when there is none, the latest impression or video play at most 1 day
-- before it. Edges inclusive. Two index probes per conversion on ad_events (user_id, time_ms).
WITH touch AS (
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
)
SELECT ads.ad_id,
       sum(t.click_row IS NOT NULL) AS conversions_click,
       sum(t.click_row IS NULL) AS conversions_view,
       CAST(round(sum(t.value) * 100) AS INTEGER) AS value_cents
FROM touch t
JOIN ad_events e ON e.rowid = coalesce(t.click_row, t.view_row)
JOIN ads ON ads.ad = e.ad
GROUP BY ads.ad_id
ORDER BY ads.ad_id;
