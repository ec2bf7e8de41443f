-- Moves each charged subscription to its next anchored date.
-- $1 settled charge ids, $2 business date, $3 now.
UPDATE subscriptions s
  SET last_cycle_date = c.cycle_date,
      next_billing_date = CASE WHEN s.next_billing_date <= c.cycle_date
          THEN s.anchor_date + s.period_days
               * ((GREATEST(c.cycle_date, $2) - s.anchor_date) / s.period_days + 1)
          ELSE s.next_billing_date END,
      failed_attempts = 0, retry_at = NULL, last_failure = NULL,
      last_charged_at = $3, updated_at = $3
 FROM subscription_charges c
WHERE c.id = ANY($1) AND s.id = c.subscription_id
