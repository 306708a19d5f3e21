-- Agent-hours from the agents' own liveness (agents.last_seen_at, written by the agent API from every poll; 0160, merged
-- separately): each write extends the agent's presence span; a gap past 2 minutes (the default Stale threshold) is
-- not counted. When there is no agents table yet, only the function is created (docs/metering.md, "Agent-hours").
CREATE FUNCTION wharf_metering_agent_liveness() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM wharf_metering_agent_seen(NEW.tenant_id, NEW.id, NEW.last_seen_at, interval '2 minutes');
  RETURN NEW;
END $$;

DO $$
BEGIN
  IF to_regclass('agents') IS NOT NULL THEN
    CREATE TRIGGER agents_metering AFTER INSERT OR UPDATE OF last_seen_at ON agents FOR EACH ROW
      WHEN (NEW.last_seen_at IS NOT NULL) EXECUTE FUNCTION wharf_metering_agent_liveness();
  END IF;
END $$;
