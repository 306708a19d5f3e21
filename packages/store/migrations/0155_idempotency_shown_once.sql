-- Idempotency-Keys kept the whole first answer for replays, secrets shown once included: a new API key (`key`) or an
-- invitation token (`token`) lay in plain text in api_idempotency.body. From now on the API stores the answer without
-- them (webhook-app/src/api/http/shown-once.ts); this removes those already stored, and what is past its 24 hours.
DELETE FROM api_idempotency WHERE created_at < now() - interval '24 hours';
UPDATE api_idempotency
SET body = (body - 'key') || jsonb_build_object('secretShownOnce', 'the key was shown once, in the first answer to this Idempotency-Key, and is not kept: rotate the key if it was lost')
WHERE jsonb_typeof(body) = 'object' AND body ? 'key' AND body ? 'prefix';
UPDATE api_idempotency
SET body = (body - 'token') || jsonb_build_object('secretShownOnce', 'the token was shown once, in the first answer to this Idempotency-Key, and is not kept: revoke the invitation and invite again if it was lost')
WHERE jsonb_typeof(body) = 'object' AND body ? 'token' AND body ? 'invitedBy';
