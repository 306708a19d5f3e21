/**
 * The part of the vocabulary a web page needs, importable without the validators (no ajv, no yaml): the dashboard's
 * bundle takes the one-word states and their colours, the rollout wording, the roles, the plans and the problem codes
 * from here, so that the browser says everything exactly as the CLI and the API do.
 */
export { ENVIRONMENT_STATES, environmentState, formatState, STATE_TONES, type EnvironmentStateWord, type StateToneName } from './domain/state.js';
export type { Condition } from './conditions.js';
export { describeRollout, ROLLOUT_RESULTS, type RolloutResult } from './domain/rollout.js';
export { ENVIRONMENT_KINDS, PRODUCTION_ENVIRONMENT } from './domain/environment.js';
export { parseTargetName, TARGET_KINDS } from './domain/target-name.js';
export { LIVE_EVENTS } from './domain/events.js';
export { AUDIT_ACTIONS, ACTOR_KINDS } from './domain/audit.js';
export { PERMISSIONS, PERMISSION_NAMES, ROLES, ROLE_PERMISSIONS, KEY_SCOPES, KEY_SCOPE_PERMISSIONS, roleCan, mayApproveForkPreview, type Permission, type Role, type KeyScope } from './accounts/roles.js';
export { PROBLEMS, type ProblemCode, type Problem } from './api/problems.js';
export { BILLING_PLANS, BILLING_PLAN_IDS, USAGE_METRICS, USAGE_METRIC_NAMES, type BillingPlan, type BillingPlanId, type UsageMetric } from './plans.js';
export { backoffDelay, type BackoffPolicy } from './backoff.js';
