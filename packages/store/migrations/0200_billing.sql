-- Billing through Stripe (issue 16). The organization's plan stays in tenants.plan (every limit reads it); what
-- Stripe says about the organization lives here, written only from verified Stripe webhooks.

-- One row per organization that has a Stripe customer.
CREATE TABLE billing_accounts (
  tenant_id              bigint PRIMARY KEY REFERENCES tenants (id) ON DELETE CASCADE,
  stripe_customer_id     text NOT NULL UNIQUE,
  billing_email          text,
  subscription_id        text,
  status                 text NOT NULL DEFAULT 'free' CHECK (status IN ('free', 'trialing', 'active', 'past_due', 'canceled')),
  -- Stripe's own status word (incomplete, unpaid, paused …), for the usage view and support.
  stripe_status          text,
  period_start           timestamptz,
  period_end             timestamptz,
  trial_end              timestamptz,
  cancel_at_period_end   boolean NOT NULL DEFAULT false,
  -- Set when a payment fails, kept through retries, cleared when the subscription is paid up.
  past_due_since         timestamptz,
  -- The Stripe `created` time (Unix seconds) of the newest event applied to the subscription: an older event never
  -- overwrites a newer state (it makes the worker re-fetch the subscription instead).
  subscription_event_at  bigint NOT NULL DEFAULT 0,
  trial_will_end_at      timestamptz,
  -- Set when the grace period of a past_due organization ran out: its previews are stopped (data kept) until it pays.
  previews_paused_at     timestamptz,
  created_at             timestamptz NOT NULL DEFAULT now(),
  updated_at             timestamptz NOT NULL DEFAULT now()
);
-- tenants.max_previews was a fixed cap of 10 for everyone; the plan decides now. NULL (the default): the plan's limit;
-- a number: an operator's override for that organization.
ALTER TABLE tenants ALTER COLUMN max_previews DROP NOT NULL;
ALTER TABLE tenants ALTER COLUMN max_previews DROP DEFAULT;
UPDATE tenants SET max_previews = NULL WHERE max_previews = 10;

-- The reconciler counts an organization's live previews when it claims one (the plan's preview limit).
CREATE INDEX environments_tenant_live_previews ON environments (tenant_id, id) WHERE kind = 'preview' AND deletion_requested_at IS NULL;

CREATE INDEX billing_accounts_past_due ON billing_accounts (past_due_since) WHERE past_due_since IS NOT NULL;

-- Every verified Stripe event, stored before it is acknowledged (the event id is unique: a replay stores nothing),
-- then processed once by the billing worker.
CREATE TABLE stripe_events (
  id               text PRIMARY KEY,
  type             text NOT NULL,
  -- Stripe's `created` (Unix seconds).
  created          bigint NOT NULL,
  livemode         boolean NOT NULL,
  payload          jsonb NOT NULL,
  received_at      timestamptz NOT NULL DEFAULT now(),
  processed_at     timestamptz,
  -- applied | ignored (a type Wharf does not act on) | stale (older than what was applied) | flagged (needs a person)
  outcome          text CHECK (outcome IN ('applied', 'ignored', 'stale', 'flagged')),
  flag             text,
  tenant_id        bigint REFERENCES tenants (id) ON DELETE SET NULL,
  attempts         integer NOT NULL DEFAULT 0,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  last_error       text
);
CREATE INDEX stripe_events_due ON stripe_events (next_attempt_at, created) WHERE processed_at IS NULL;
CREATE INDEX stripe_events_flagged ON stripe_events (received_at) WHERE outcome = 'flagged';
