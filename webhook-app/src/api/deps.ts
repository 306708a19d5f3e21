/** Everything the REST API's handlers use, passed in (tests build it with real Postgres and fakes at the edge). */
import type { AgentLivenessPolicy, LogLine } from '@wharf/contracts';
import type { DatabasePool, environmentViews } from '@wharf/store';
import type { Logger } from 'pino';
import type { BillingService } from '../billing/billing-service.js';
import type { KeyCache } from './auth/key-cache.js';
import type { GitHubSignIn } from './auth/github-sign-in.js';
import type { RateLimiter } from './http/rate-limit.js';
import type { LiveHub } from './live/live-hub.js';
import type { RollbackPort } from './rollback.js';

/** Reads an environment's runtime output (the local target in `wharf up`); null when this process cannot. */
export type EnvironmentLogs = (
  env: environmentViews.EnvironmentSummary,
  options: { follow: boolean; tail?: number; signal: AbortSignal },
) => AsyncIterable<LogLine> | null;

export interface ApiDeps {
  pool: DatabasePool;
  log: Logger;
  pepper: Buffer;
  keys: KeyCache;
  /** Token buckets per organization, key, person and source address, shared through Postgres. */
  limiter: RateLimiter;
  /** Key ids used since the last flush of last_used_at. */
  used: Set<number>;
  localOwner: { tenantId: number; userId: number } | null;
  live: LiveHub | null;
  logs: EnvironmentLogs | null;
  rollback: RollbackPort;
  github: GitHubSignIn | null;
  sessionHours: number;
  /** When an agent counts as Stale or Offline (WHARF_AGENT_STALE_AFTER, WHARF_AGENT_OFFLINE_AFTER). */
  agentLiveness: AgentLivenessPolicy;
  cookieSecure: boolean;
  /** Usage view, Checkout and portal sessions (billing off without STRIPE_SECRET_KEY). */
  billing: BillingService;
}
