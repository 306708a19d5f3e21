-- Which organizations are Stripe customers, for metering: billing's customer id (0200). An organization without a
-- billing account is aggregated but sends nothing.
CREATE OR REPLACE VIEW metering_stripe_customers AS
  SELECT tenant_id, stripe_customer_id AS customer_id FROM billing_accounts;
