/**
 * @wharf/store: all of Wharf's SQL. One module per table family, each exported as a namespace; the pool, migrations,
 * LISTEN and the embedded Postgres server. Seeding for tests lives in @wharf/store/testing.
 */
export {
  startEmbeddedPostgres,
  runningEmbeddedUrl,
  postgresProcesses,
  reachableDataDir,
  freePort,
  EmbeddedPostgresInUseError,
  type EmbeddedPostgresOptions,
  type EmbeddedPostgresHandle,
} from './embedded-postgres.js';
export { migrate, readMigrations, migrationsDigest, MIGRATIONS_DIR, type Migration } from './migrate.js';
export { createStorePool, isDatabaseError, isInvalidDataError, type PoolOptions, type DatabasePool } from './pool.js';
export { openDatabase, ping } from './open-database.js';
export { listen, type Listener } from './listen.js';
export { storeSettings } from './settings.js';
export { ENVIRONMENTS_CHANNEL, AGENTS_CHANNEL } from './channels.js';
export { EVERY_TENANT, scopeOf, type TenantScope, type RepositoryScope, type ReadScope, type RestrictedScope } from './scope.js';
export { sql } from 'slonik';
export type { CommonQueryMethods, DatabaseTransactionConnection } from 'slonik';

export * as tenants from './tenants.js';
export * as tenantPlans from './tenant-plans.js';
export * as repositories from './repositories.js';
export * as versions from './versions.js';
export * as refs from './repository-refs.js';
export * as desiredState from './desired-state.js';
export * as claims from './claims.js';
export * as rollouts from './rollouts.js';
export * as history from './history.js';
export * as environmentViews from './environment-views.js';
export * as dashboardViews from './dashboard-views.js';
export * as pullRequests from './pull-requests.js';
export * as checkRuns from './check-runs.js';
export * as deployments from './deployments.js';
export * as outbox from './outbox.js';
export * as deliveries from './deliveries.js';
export * as audit from './audit.js';
export * as agents from './agents.js';
export * as agentDocuments from './agent-documents.js';
export * as organizations from './organizations.js';
export * as users from './users.js';
export * as memberships from './memberships.js';
export * as invitations from './invitations.js';
export * as apiKeys from './api-keys.js';
export * as sessions from './sessions.js';
export * as rateLimits from './rate-limits.js';
export * as idempotency from './idempotency.js';
export * as billing from './billing.js';
export * as metering from './metering/index.js';
