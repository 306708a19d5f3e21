-- The delivery claim checks, per candidate, for an earlier unfinished delivery of the same repository: an index on
-- the ordering key keeps that a lookup instead of a scan of every stored delivery.
CREATE INDEX webhook_deliveries_ordering ON webhook_deliveries (ordering_key, received_at) WHERE status IN ('pending', 'processing');
