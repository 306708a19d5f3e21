/**
 * Live updates (`GET /api/v1/events`, Server-Sent Events), each scoped to one organization. The store sends the
 * NOTIFY (a trigger on the rows); the API turns it into an event with the resource as the API shows it.
 */
export const LIVE_EVENTS = {
  /** An environment's status, version, URL or suspension changed; data: the Environment. */
  environment: 'environment',
  /** A rollout started or finished; data: the rollout (history entry) and its environment id. */
  rollout: 'rollout',
  /** An environment was removed; data: { id }. */
  environmentDeleted: 'environment.deleted',
  /** An agent registered, was revoked, went Offline or came back, or gained or lost an environment; data: the Agent. */
  agent: 'agent',
} as const;
export type LiveEvent = (typeof LIVE_EVENTS)[keyof typeof LIVE_EVENTS];

/**
 * NOTIFY channel of the events; payload `<tenant id>:<kind>:<row id>` (kind: e environment, h history, d deleted, a agent), and
 * for a deletion `:<repository id>` after it (migration 0157), since the row can no longer be read.
 */
export const LIVE_EVENTS_CHANNEL = 'wharf_live_events' as const;
