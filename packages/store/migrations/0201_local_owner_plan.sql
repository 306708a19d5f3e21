-- `wharf up`'s local organization runs on its owner's own machine: no plan limits apply to it (the local target's
-- per-repository cap, WHARF_LOCAL_MAX_ENVIRONMENTS_PER_REPO, still does). Enterprise is the plan without limits.
UPDATE tenants SET plan = 'enterprise' WHERE kind = 'local';
