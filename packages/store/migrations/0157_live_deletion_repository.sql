-- A deleted environment's NOTIFY names its repository ('<tenant>:d:<id>:<repository>'), so that the live hub sends
-- `environment.deleted` to a stream limited to some repositories only for theirs (it can no longer read the row).
CREATE OR REPLACE FUNCTION wharf_live_environment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  IF TG_OP = 'DELETE' THEN
    PERFORM pg_notify('wharf_live_events', OLD.tenant_id || ':d:' || OLD.id || ':' || OLD.repository_id);
    RETURN OLD;
  END IF;
  PERFORM pg_notify('wharf_live_events', NEW.tenant_id || ':e:' || NEW.id);
  RETURN NEW;
END $$;
