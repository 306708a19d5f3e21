import { agentSettings, AGENT_POLL_HOLD_MAX_MS, type SettingsSchema } from '@wharf/contracts';

/** Settings of the agent API (liveness and reassignment are shared with the agent target: contracts' agentSettings). */
export const agentApiSettings = {
  ...agentSettings,
  WHARF_AGENT_RATE_LIMIT: {
    type: 'integer',
    description:
      'Requests per minute one agent may make to the agent API (a poll is one per 25 s when idle); past it, 429 with Retry-After. Callers not yet known by their credential are limited per address, at ten times this.',
    default: 600,
    minimum: 10,
    maximum: 100_000,
  },
  WHARF_AGENT_POLL_HOLD: {
    type: 'integer',
    description: 'Seconds the agent API holds a long-poll for desired state when nothing changed (at most 30).',
    default: 25,
    minimum: 1,
    maximum: AGENT_POLL_HOLD_MAX_MS / 1000,
  },
} as const satisfies SettingsSchema;
