/** @wharf/contracts: Wharf's shared vocabulary and pure functions. No I/O; imports nothing of Wharf's. */
export const WHARF_API_GROUP = 'wharf.dev' as const;

// Diagnostics and their codes
export { SEVERITIES, type Severity, type Diagnostic, hasErrors, formatDiagnostic, fileDiagnostic } from './diagnostic.js';
export { CODES, CODE_SEVERITY, CODE_ENGINE_VERDICT, type Code, type CodeName, type EngineVerdict } from './codes.js';
export { LIMITS, type Limits } from './limits.js';

// Conditions, reasons and the one-word state
export {
  CONDITION_TYPES,
  CONDITION_STATUSES,
  REASONS,
  isReason,
  setCondition,
  findCondition,
  parseConditions,
  type Condition,
  type ConditionType,
  type ConditionStatus,
  type Reason,
} from './conditions.js';
export {
  ENVIRONMENT_STATES,
  environmentState,
  formatState,
  colorState,
  STATE_TONES,
  STATE_TONE_NAMES,
  type EnvironmentState,
  type EnvironmentStateWord,
  type StateTone,
  type StateToneName,
} from './domain/state.js';

// Environments, targets, rollouts, the outbox
export {
  ENVIRONMENT_KINDS,
  DRIFT_MODES,
  DEFAULT_DRIFT_MODE,
  PRODUCTION_ENVIRONMENT,
  previewEnvironmentName,
  type EnvironmentKind,
  type DriftMode,
} from './domain/environment.js';
export type {
  EnvironmentIdentity,
  EnvironmentSnapshot,
  HistoryReason,
  OutboxMessage,
  RolloutStart,
  StatusUpdate,
} from './domain/environment-snapshot.js';
export { TARGET_KINDS, DEFAULT_TARGET, parseTargetName, type TargetKind, type TargetName } from './domain/target-name.js';
export { ROLLOUT_RESULTS, rollbackText, describeRollout, type RolloutResult, type RolloutWords } from './domain/rollout.js';
export {
  AGENT_API_PREFIX,
  AGENT_POLL_HOLD_MAX_MS,
  AGENT_SECRET_PREFIXES,
  AGENT_POOL_PATTERN,
  AGENT_LIVENESS,
  AGENT_STATES,
  REGISTRATION_TOKEN_STATES,
  REGISTRATION_TOKEN_MAX_TTL_MS,
  agentState,
  registrationTokenState,
  type AgentState,
  type RegistrationTokenState,
  DEFAULT_AGENT_LIVENESS,
  AGENT_RETRY_CLASSES,
  AGENT_FAILURES,
  agentLiveness,
  agentSettings,
  agentPolicyFrom,
  isAgentFailureReason,
  type AgentLiveness,
  type AgentLivenessPolicy,
  type AgentRetryClass,
  type AgentFailureReason,
} from './domain/agent.js';
export {
  validateAgentMessage,
  type AgentMessageKind,
  type AgentMessages,
} from './agent-protocol-validate.js';
export type {
  AgentRegisterRequest,
  AgentRegisterResponse,
  AgentRotateResponse,
  AgentDesiredResponse,
  AgentDocument,
  AgentFailure,
  AgentStatusReport,
  AgentStatusBatch,
  AgentStatusAnswer,
} from './generated/agent-protocol.js';
export { AUDIT_ACTIONS, type AuditAction, type AuditEntry } from './domain/audit.js';
export { OUTBOX_KINDS, DEPLOYMENT_STATES, type OutboxKind, type DeploymentState, type DeploymentStatusPayload } from './domain/outbox.js';
export {
  nothingRunning,
  type Target,
  type TargetCapabilities,
  type TargetContext,
  type ApplyContext,
  type TargetEnvironment,
  type TargetRef,
  type TargetLog,
  type Observation,
  type InstanceObservation,
  type ApplyResult,
  type DeleteResult,
  type LogLine,
  type LogOptions,
} from './target.js';

// WorkflowApp: the unit of desired state
export {
  WORKFLOW_APP_API_VERSION,
  WORKFLOW_APP_KIND,
  type EnvVar,
  type RuntimeSpec,
  type WorkflowApp,
  type WorkflowAppCondition,
  type WorkflowAppSpec,
  type WorkflowAppStatus,
  type WorkflowFile,
} from './workflow-app.js';
export { validateWorkflowApp } from './workflow-app-validate.js';
export { manifestSchema, workflowAppSchema } from './generated/schemas.js';

// The app manifest and workflow validation
export {
  MANIFEST_FILENAMES,
  DEFAULT_APP_FILENAMES,
  MANIFEST_SCHEMA_URL,
  parseManifest,
  defaultManifest,
  appFilePaths,
  appFileDiagnostics,
  type Manifest,
  type ManifestApp,
  type PreviewSettings,
  type CommentSettings,
} from './manifest/manifest.js';
export {
  validateWorkflowFiles,
  type ValidateWorkflowOptions,
  type WorkflowSourceFile,
  type WorkflowValidation,
} from './workflow/validate-workflow-files.js';
export { looksLikeWorkflowConfig } from './workflow/looks-like-config.js';
export { CONFINED_KINDS, confinedOptions, type ConfinedKind } from './workflow/confinement/confined-options.js';
export { BUILTIN_TYPES } from './generated/module-catalogue.js';

export { backoffDelay, resyncDelay, DEFAULT_BACKOFF, type BackoffPolicy } from './backoff.js';
export { createCoalescer } from './coalesce.js';

// Plan: desired vs observed → actions with reasons
export {
  CONFIG_ITEM_KINDS,
  CONFIG_CHANGE_KINDS,
  diffConfig,
  type ConfigItemKind,
  type ConfigChangeKind,
  type ConfigChange,
  type ConfigDiff,
} from './plan/config-diff.js';
export {
  PLAN_ACTIONS,
  PLAN_REASONS,
  plan,
  primaryAction,
  type PlanActionType,
  type PlanReason,
  type DesiredState,
  type RuntimeObservation,
  type ObservedState,
  type PlanAction,
  type Plan,
  type PlanOptions,
} from './plan/plan.js';
export { renderPlan, type RenderPlanOptions } from './plan/render-plan.js';

// Settings, logs
export {
  loadSettings,
  settingsTable,
  checkPostgresUrl,
  commonSettings,
  SettingsError,
  type SettingSchema,
  type SettingsSchema,
  type SettingsOf,
} from './settings.js';
export { REDACT_PATHS, redactSecrets } from './redact.js';
export { StartupError } from './startup-error.js';

// The runtime contract (also importable alone as @wharf/contracts/runtime-protocol)
export { RUNTIME_HEALTH_PATH, RUNTIME_RESERVED_PREFIX, RUNTIME_FLAGS, RUNTIME_LISTENING_PREFIX, RUNTIME_EXPECT_DIGEST_HEADER, isReservedRuntimeEnvVar } from './runtime-protocol.js';

// Billing plans as data (enforcement, docs, Stripe catalog)
export {
  BILLING_PLAN_IDS,
  BILLING_PLANS,
  TRIAL_DAYS_MAX,
  USAGE_METRICS,
  USAGE_METRIC_NAMES,
  isBillingPlanId,
  withinQuota,
  billingPriceLookupKeys,
  billingPlan,
  BILLING_STATUSES,
  BILLING_GRACE_DAYS_DEFAULT,
  dunningPhase,
  graceEndsAt,
  planOfLookupKey,
  COUNTED_LIMITS,
  renderPlansTable,
  previewLimit,
  type BillingStatus,
  type DunningPhase,
  type CountedLimit,
  type BillingPlanId,
  type BillingPlan,
  type BillingPlanLimits,
  type BillingPlanPrices,
  type MeteredPrice,
  type QuotaLimit,
  type UsageMetric,
} from './plans.js';
export {
  METERING_BASE_UNITS,
  COUNTED_USAGE_METRICS,
  METER_EVENT_MAX_AGE_SECONDS,
  RUNTIME_REQUESTS_METRIC,
  RUNTIME_REQUESTS_MAX,
  meterEventNameOf,
  meterEventIdentifier,
  sumRuntimeRequests,
} from './metering.js';

// Accounts: organizations, roles and the permission matrix, API key format
export {
  ROLES,
  PERMISSIONS,
  PERMISSION_NAMES,
  ROLE_PERMISSIONS,
  KEY_SCOPES,
  KEY_SCOPE_PERMISSIONS,
  roleCan,
  keyPermissions,
  isRole,
  isPermission,
  mayAssignRole,
  renderRolesTable,
  ORGANIZATION_WIDE_PERMISSIONS,
  isOrganizationWide,
  FORK_APPROVER_ROLES,
  mayApproveForkPreview,
  type Role,
  type Permission,
  type KeyScope,
} from './accounts/roles.js';
export { TOKEN_PREFIXES, formatToken, parseToken, crc32, type TokenKind } from './accounts/api-key-format.js';
export { WHARF_COOKIES, withoutWharfCookies } from './accounts/cookies.js';
export { ACTOR_KINDS, actorKindOf, type ActorKind } from './domain/audit.js';
export { LIVE_EVENTS, LIVE_EVENTS_CHANNEL, type LiveEvent } from './domain/events.js';

// The REST API: problems, schemas, routes, OpenAPI
export { PROBLEMS, PROBLEM_CODES, PROBLEM_TYPE_BASE, problem, type Problem, type ProblemCode, type FieldError } from './api/problems.js';
export { API_SCHEMAS, ref as apiSchemaRef, type ApiSchemaName, type JsonSchema } from './api/schemas.js';
export {
  API_PREFIX,
  API_VERSION,
  API_ROUTES,
  PAGE_QUERY,
  PATH_PARAMS,
  MAX_PAGE,
  DEFAULT_PAGE,
  fastifyPath,
  pathParams,
  type ApiRoute,
  type HttpMethod,
} from './api/routes.js';
export { buildOpenApi, renderApiReference } from './api/openapi.js';
export { compileApiSchema, checkApiSchema, fieldErrors } from './api/validate.js';
