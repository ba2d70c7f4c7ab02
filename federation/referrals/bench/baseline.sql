-- The funnel benchmark's baseline: the same tables over the same days, in three plain
-- GROUP BYs by offer and day in Japan, with nothing else (no company's offers looked up,
-- nothing merged). Parameters: start and end, the first day's and the day after the last
-- day's midnight in Japan.
SELECT offer_id, (at AT TIME ZONE 'Asia/Tokyo')::date AS day, count(*)
  FROM federation_referralclick
 WHERE at >= %(start)s AND at < %(end)s
 GROUP BY offer_id, day;

SELECT offer_id, (occurred_at AT TIME ZONE 'Asia/Tokyo')::date AS day, state, count(*)
  FROM federation_referralconversion
 WHERE occurred_at >= %(start)s AND occurred_at < %(end)s
 GROUP BY offer_id, day, state;

SELECT offer_id, (created_at AT TIME ZONE 'Asia/Tokyo')::date AS day, sum(amount_yen)
  FROM federation_referralfee
 WHERE created_at >= %(start)s AND created_at < %(end)s AND state <> 'reversed'
 GROUP BY offer_id, day
