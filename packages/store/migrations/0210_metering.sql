-- Usage metering (issue 16): what each organization used per hour, from events Wharf records, and the meter events
-- queued for Stripe. Metric names are contracts' USAGE_METRICS keys. See docs/metering.md.

-- Environment lifetimes. Environment rows (and their history) are deleted after teardown; their spans stay, so the
-- hours they ran can still be billed and recomputed. A span opens when the environment is created (or revived) and
-- closes when its deletion is requested (or the row goes).
CREATE TABLE metering_environment_spans (
  id              bigserial PRIMARY KEY,
  tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  environment_id  bigint NOT NULL,
  kind            text NOT NULL CHECK (kind IN ('production', 'preview')),
  started_at      timestamptz NOT NULL,
  ended_at        timestamptz,
  CHECK (ended_at IS NULL OR ended_at >= started_at)
);
CREATE UNIQUE INDEX metering_environment_spans_open ON metering_environment_spans (environment_id) WHERE ended_at IS NULL;
CREATE INDEX metering_environment_spans_during ON metering_environment_spans USING gist (tstzrange(started_at, ended_at));

-- Agent presence: an agent counts from the first poll of a run of polls to the last one (gaps longer than the
-- function's gap open a new span). Fed by wharf_metering_agent_seen(), called by the agent API's liveness writes.
CREATE TABLE metering_agent_spans (
  id          bigserial PRIMARY KEY,
  tenant_id   bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  agent_id    bigint NOT NULL,
  started_at  timestamptz NOT NULL,
  ended_at    timestamptz NOT NULL,
  CHECK (ended_at >= started_at)
);
CREATE INDEX metering_agent_spans_agent ON metering_agent_spans (agent_id, ended_at DESC);
CREATE INDEX metering_agent_spans_during ON metering_agent_spans USING gist (tstzrange(started_at, ended_at));

-- Countable usage (deploys, runtime requests), at the moment it happened; `source_key` makes a re-recorded event a
-- no-op. Runtime requests are kept as one row per environment and hour (readings add up into it).
CREATE TABLE metering_usage_events (
  id           bigserial PRIMARY KEY,
  tenant_id    bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  metric       text NOT NULL CHECK (metric IN ('deploys', 'runtimeRequests')),
  occurred_at  timestamptz NOT NULL,
  quantity     bigint NOT NULL CHECK (quantity >= 0),
  source_key   text NOT NULL UNIQUE,
  recorded_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX metering_usage_events_at ON metering_usage_events (occurred_at);

-- The last counter value read from each runtime, to turn Prometheus counters into increments.
CREATE TABLE metering_runtime_counters (
  environment_id  bigint PRIMARY KEY,
  tenant_id       bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  instance        text NOT NULL,
  total           bigint NOT NULL,
  read_at         timestamptz NOT NULL
);

-- Hours whose inputs changed after they may have been aggregated (late events): the next run recomputes them.
CREATE TABLE metering_dirty_hours (hour timestamptz PRIMARY KEY);

-- Per organization, metric and hour: `amount` exactly (seconds for the *Hours metrics, a count otherwise),
-- `month_amount` the organization's amount of the calendar month (UTC) through this hour, and `reported` what is billed
-- for the hour in the meter's unit: whole hours of the month so far minus those of the hours before, so fractions
-- carry into the next hour instead of being lost or rounded up (Stripe takes whole numbers only).
CREATE TABLE metering_hourly_usage (
  tenant_id     bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  metric        text NOT NULL CHECK (metric IN ('productionEnvironmentHours', 'previewEnvironmentHours', 'deploys', 'agentHours', 'runtimeRequests')),
  hour          timestamptz NOT NULL CHECK (extract(epoch FROM hour)::bigint % 3600 = 0),
  amount        bigint NOT NULL CHECK (amount >= 0),
  unit          integer NOT NULL CHECK (unit > 0),
  month_amount  bigint NOT NULL,
  reported      bigint GENERATED ALWAYS AS (month_amount / unit - (month_amount - amount) / unit) STORED,
  -- What the meter-event outbox holds for this hour (sum of its rows' values); reported <> queued: something to send.
  queued        bigint NOT NULL DEFAULT 0,
  updated_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, metric, hour)
);
CREATE INDEX metering_hourly_usage_hour ON metering_hourly_usage (hour);
CREATE INDEX metering_hourly_usage_unqueued ON metering_hourly_usage (hour) WHERE reported <> queued;

-- The meter-event outbox: one row per event Stripe must receive, with the identifier it is sent under (the same on
-- every retry). Revision 0 is the hour's usage; a later revision carries a correction (late usage after the hour
-- was sent), so that what was sent for an hour always adds up to what Wharf computed.
CREATE TABLE metering_meter_events (
  id               bigserial PRIMARY KEY,
  tenant_id        bigint NOT NULL REFERENCES tenants (id) ON DELETE CASCADE,
  metric           text NOT NULL,
  hour             timestamptz NOT NULL,
  revision         integer NOT NULL CHECK (revision >= 0),
  identifier       text NOT NULL UNIQUE CHECK (length(identifier) <= 100),
  customer_id      text NOT NULL,
  event_name       text NOT NULL,
  value            bigint NOT NULL,
  status           text NOT NULL DEFAULT 'pending' CHECK (status IN ('pending', 'sent', 'failed')),
  attempts         integer NOT NULL DEFAULT 0,
  -- Stripe keeps identifiers for 24 hours: a row first tried longer ago is checked against Stripe before it goes again.
  first_attempt_at timestamptz,
  next_attempt_at  timestamptz NOT NULL DEFAULT now(),
  locked_until     timestamptz,
  last_error       text,
  created_at       timestamptz NOT NULL DEFAULT now(),
  sent_at          timestamptz,
  UNIQUE (tenant_id, metric, hour, revision)
);
CREATE INDEX metering_meter_events_due ON metering_meter_events (next_attempt_at, id) WHERE status = 'pending';
CREATE INDEX metering_meter_events_hour ON metering_meter_events (hour);

-- Where the hourly run got to (one row).
CREATE TABLE metering_state (
  id                  boolean PRIMARY KEY DEFAULT true CHECK (id),
  aggregated_through  timestamptz
);
INSERT INTO metering_state (id) VALUES (true);

-- Which organizations are Stripe customers: billing owns the customer id. Until its table is merged this view is
-- empty (nothing is sent); the merge redefines it over billing's column (docs/metering.md, "Customers").
CREATE VIEW metering_stripe_customers AS
  SELECT NULL::bigint AS tenant_id, NULL::text AS customer_id WHERE false;

-- Spans follow environments: created → open, deletion requested → closed, revived → a new span, deleted → closed.
CREATE FUNCTION wharf_metering_environment_span() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'INSERT' THEN
    INSERT INTO metering_environment_spans (tenant_id, environment_id, kind, started_at, ended_at)
    VALUES (NEW.tenant_id, NEW.id, NEW.kind, NEW.created_at, NEW.deletion_requested_at);
    RETURN NEW;
  ELSIF TG_OP = 'DELETE' THEN
    UPDATE metering_environment_spans SET ended_at = greatest(started_at, now())
    WHERE environment_id = OLD.id AND ended_at IS NULL;
    RETURN OLD;
  END IF;
  IF OLD.deletion_requested_at IS NULL AND NEW.deletion_requested_at IS NOT NULL THEN
    UPDATE metering_environment_spans SET ended_at = greatest(started_at, NEW.deletion_requested_at)
    WHERE environment_id = NEW.id AND ended_at IS NULL;
  ELSIF OLD.deletion_requested_at IS NOT NULL AND NEW.deletion_requested_at IS NULL THEN
    INSERT INTO metering_environment_spans (tenant_id, environment_id, kind, started_at)
    VALUES (NEW.tenant_id, NEW.id, NEW.kind, now())
    ON CONFLICT (environment_id) WHERE ended_at IS NULL DO NOTHING;
  END IF;
  RETURN NEW;
END $$;
CREATE TRIGGER environments_metering_insert AFTER INSERT OR DELETE ON environments FOR EACH ROW EXECUTE FUNCTION wharf_metering_environment_span();
CREATE TRIGGER environments_metering_update AFTER UPDATE OF deletion_requested_at ON environments FOR EACH ROW
  WHEN (OLD.deletion_requested_at IS DISTINCT FROM NEW.deletion_requested_at) EXECUTE FUNCTION wharf_metering_environment_span();

INSERT INTO metering_environment_spans (tenant_id, environment_id, kind, started_at, ended_at)
SELECT tenant_id, id, kind, created_at, greatest(created_at, deletion_requested_at) FROM environments;

-- A deploy is a rollout that created or updated an environment and succeeded, counted when it finished.
CREATE FUNCTION wharf_metering_deploy() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO metering_usage_events (tenant_id, metric, occurred_at, quantity, source_key)
  VALUES (NEW.tenant_id, 'deploys', coalesce(NEW.finished_at, now()), 1, 'deploy:' || NEW.id)
  ON CONFLICT (source_key) DO NOTHING;
  RETURN NEW;
END $$;
CREATE TRIGGER environment_history_metering AFTER INSERT OR UPDATE OF result ON environment_history FOR EACH ROW
  WHEN (NEW.result = 'succeeded' AND NEW.action IN ('create', 'update')) EXECUTE FUNCTION wharf_metering_deploy();

-- Usage recorded for an hour that may already be aggregated marks that hour for recomputation.
CREATE FUNCTION wharf_metering_dirty_events() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO metering_dirty_hours (hour)
  SELECT DISTINCT date_trunc('hour', occurred_at, 'UTC') FROM new_rows
  ON CONFLICT (hour) DO NOTHING;
  RETURN NULL;
END $$;
CREATE TRIGGER metering_usage_events_dirty AFTER INSERT ON metering_usage_events REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION wharf_metering_dirty_events();
CREATE TRIGGER metering_usage_events_dirty_update AFTER UPDATE ON metering_usage_events REFERENCING NEW TABLE AS new_rows
  FOR EACH STATEMENT EXECUTE FUNCTION wharf_metering_dirty_events();

-- An agent was seen at `at`: extend its latest span when the gap is short, open a new one otherwise; the hours the
-- span grew into are marked for recomputation (liveness writes may be late).
CREATE FUNCTION wharf_metering_agent_seen(p_tenant bigint, p_agent bigint, p_at timestamptz, p_gap interval) RETURNS void
LANGUAGE plpgsql AS $$
DECLARE span metering_agent_spans%ROWTYPE;
BEGIN
  SELECT * INTO span FROM metering_agent_spans WHERE agent_id = p_agent ORDER BY ended_at DESC LIMIT 1 FOR UPDATE;
  IF FOUND AND p_at <= span.ended_at THEN
    RETURN;
  ELSIF FOUND AND p_at - span.ended_at <= p_gap THEN
    UPDATE metering_agent_spans SET ended_at = p_at WHERE id = span.id;
    INSERT INTO metering_dirty_hours (hour)
    SELECT generate_series(date_trunc('hour', span.ended_at, 'UTC'), date_trunc('hour', p_at, 'UTC'), interval '1 hour')
    ON CONFLICT (hour) DO NOTHING;
  ELSE
    INSERT INTO metering_agent_spans (tenant_id, agent_id, started_at, ended_at) VALUES (p_tenant, p_agent, p_at, p_at);
  END IF;
END $$;
