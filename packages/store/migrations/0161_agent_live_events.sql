-- Live updates of agents (GET /api/v1/events, event `agent`): NOTIFY '<tenant>:a:<agent id>' on wharf_live_events when
-- an agent registers, is revoked, is found Offline by the liveness sweep or comes back, or when an environment is
-- placed on it or taken from it. Not on every poll: last_seen_at alone notifies nobody (Stale is read from the time).
CREATE FUNCTION wharf_live_agent() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  PERFORM pg_notify('wharf_live_events', NEW.tenant_id || ':a:' || NEW.id);
  RETURN NEW;
END $$;
CREATE TRIGGER agents_live_insert AFTER INSERT ON agents FOR EACH ROW EXECUTE FUNCTION wharf_live_agent();
CREATE TRIGGER agents_live_update AFTER UPDATE ON agents FOR EACH ROW
  WHEN (OLD.revoked_at IS DISTINCT FROM NEW.revoked_at OR OLD.offline_noted_at IS DISTINCT FROM NEW.offline_noted_at)
  EXECUTE FUNCTION wharf_live_agent();

CREATE FUNCTION wharf_live_agent_placement() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP <> 'INSERT' AND OLD.agent_id IS NOT NULL THEN
    PERFORM pg_notify('wharf_live_events', OLD.tenant_id || ':a:' || OLD.agent_id);
  END IF;
  IF TG_OP <> 'DELETE' AND NEW.agent_id IS NOT NULL THEN
    PERFORM pg_notify('wharf_live_events', NEW.tenant_id || ':a:' || NEW.agent_id);
  END IF;
  RETURN NULL;
END $$;
CREATE TRIGGER agent_documents_live_insert AFTER INSERT OR DELETE ON agent_documents FOR EACH ROW EXECUTE FUNCTION wharf_live_agent_placement();
CREATE TRIGGER agent_documents_live_update AFTER UPDATE ON agent_documents FOR EACH ROW
  WHEN (OLD.agent_id IS DISTINCT FROM NEW.agent_id)
  EXECUTE FUNCTION wharf_live_agent_placement();
