-- The settlement benchmark's baseline: the period's redemptions summed by issuer and by the
-- company they were spent at, in one plain GROUP BY over the lineage and its transactions,
-- with nothing else (no alliance, no reversals, no expiry, no rounding, nothing written).
-- Parameters: starts_at and ends_at, the period's instants.
SELECT u.issuer_id, t.partner_id, SUM(u.coins), SUM(u.yen_value)
  FROM federation_coinlotuse AS u
  JOIN federation_cointransaction AS t ON t.id = u.transaction_id
 WHERE t.kind = 'redeem'
   AND t.posted_at >= %(starts_at)s
   AND t.posted_at < %(ends_at)s
 GROUP BY u.issuer_id, t.partner_id
