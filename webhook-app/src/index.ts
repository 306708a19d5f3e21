/** @wharf/webhook-app: the control-plane server (GitHub App today; REST API, agent API, dashboard next). */
export { buildServer, DEFAULT_HTTP_LIMITS, type HttpLimits, type ServerOptions } from './server.js';
export { startControlPlaneServer, checkPortFree, WHARF_VERSION, type ControlPlaneServer } from './control-plane.js';
export { CONTROL_PLANE_UNITS, buildUnits, type ControlPlaneUnit, type ControlPlaneServices, type UnitContext, type UnitFactory } from './units.js';
export { apiUnit, API_HANDLERS } from './api/unit.js';
export { createRollbackPort, resolveRollback, type RollbackPort, type RollbackResult } from './api/rollback.js';
export { ProblemError } from './api/http/problem-error.js';
export { agentView, registrationTokenView } from './api/views.js';
export { apiSettings, type ApiSettings } from './api/settings.js';
export type { EnvironmentLogs } from './api/deps.js';
export { createStripeClient, stripeSettings, STRIPE_API_VERSION, type StripeSettings } from './billing/stripe-client.js';
export { createBillingService, BillingError, type BillingService, type BillingView } from './billing/billing-service.js';
export { billingUnit, billingServiceFromSettings } from './billing/unit.js';
export { syncCatalog, syncMeters, type CatalogSyncReport } from './billing/sync-catalog.js';
export { createEventWorker, type EventWorker } from './billing/event-worker.js';
export { STRIPE_WEBHOOK_PATH } from './billing/webhook-route.js';
export { serverSettings, controlPlaneSettings, type ControlPlaneSettings } from './settings.js';
export { agentApiUnit, createAgentApiUnit, type AgentApiOptions } from './agent-api/unit.js';
export { agentApiSettings } from './agent-api/settings.js';
export { noSecrets, type SecretResolver, type SecretRef } from './agent-api/resolve-secrets.js';
export * as usageMetering from './metering/index.js';
export {
  createGitHubApp,
  githubUnit,
  githubSettings,
  githubConfigured,
  resolveGitHubCredentials,
  decidePreview,
  decidePullRequest,
  renderPullRequest,
  parseCommand,
  renderComment,
  renderValidateCheck,
  renderPlanCheck,
  githubEnvironmentName,
  type GitHubApp,
  type GitHubAppOptions,
  type GitHubSettings,
  type GitHubAppCredentials,
  type SourcePort,
  type ThrottleOptions,
  type PreviewDecision,
  type PreviewFacts,
  type PullRequestDecision,
  type CommitFacts,
  type PullRequestFacts,
  type RenderedPullRequest,
  type Command,
} from './github/index.js';
