/**
 * JSON Schemas (draft 2020-12, as OpenAPI 3.1 takes them) of the REST API's bodies. Request bodies are validated with
 * them; responses are documented by them and checked against them in the API's tests. `ref(name)` points at another
 * schema of this file (`#/components/schemas/<name>` in the OpenAPI document).
 */
import { ROLES, KEY_SCOPES, PERMISSION_NAMES } from '../accounts/roles.js';
import { AGENT_POOL_PATTERN, AGENT_STATES, REGISTRATION_TOKEN_MAX_TTL_MS, REGISTRATION_TOKEN_STATES } from '../domain/agent.js';
import { ACTOR_KINDS } from '../domain/audit.js';
import { ENVIRONMENT_KINDS } from '../domain/environment.js';
import { ENVIRONMENT_STATES } from '../domain/state.js';
import { ROLLOUT_RESULTS } from '../domain/rollout.js';
import { BILLING_PLAN_IDS, BILLING_PLANS, BILLING_STATUSES, COUNTED_LIMITS } from '../plans.js';
import { PROBLEM_CODES } from './problems.js';

export type JsonSchema = Record<string, unknown>;

export const ref = (schema: string): JsonSchema => ({ $ref: `#/components/schemas/${schema}` });
const str = (description?: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', ...(description ? { description } : {}), ...extra });
const nullable = (schema: JsonSchema): JsonSchema => ({ ...schema, type: [schema.type as string, 'null'] });
const int = (description?: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'integer', ...(description ? { description } : {}), ...extra });
const time = (description?: string): JsonSchema => str(description, { format: 'date-time' });
const obj = (properties: Record<string, JsonSchema>, required: string[] = Object.keys(properties), extra: JsonSchema = {}): JsonSchema => ({
  type: 'object',
  properties,
  required,
  additionalProperties: false,
  ...extra,
});
const list = (items: JsonSchema, extra: JsonSchema = {}): JsonSchema => ({ type: 'array', items, ...extra });
const page = (item: string): JsonSchema =>
  obj({ items: list(ref(item)), nextCursor: nullable(str('Pass as `cursor` for the next page; null on the last page.')) });

const role = { type: 'string', enum: [...ROLES] };
const permission = { type: 'string', enum: [...PERMISSION_NAMES] };
const name = (description: string) => str(description, { minLength: 1, maxLength: 100, pattern: '^[^\\u0000-\\u001f]+$' });

export const API_SCHEMAS = {
  Problem: obj(
    {
      type: str('A URI naming the problem: https://wharf.dev/problems/<code>.'),
      title: str(),
      status: int(),
      code: { type: 'string', enum: [...PROBLEM_CODES], description: 'Stable: branch on it.' },
      detail: str(),
      instance: str(),
      permission: str('The permission a 403 lacked.'),
      errors: list(obj({ field: str('JSON pointer into the body, or query.<name> / params.<name>.'), message: str() })),
      requestId: str(),
    },
    ['type', 'title', 'status', 'code'],
  ),
  Organization: obj({
    id: int(),
    slug: str(),
    name: str(),
    plan: str('A billing plan id (free, pro, business, enterprise).'),
    kind: str('`github` (made for a GitHub App installation), `local` (the owner of `wharf up`) or `team` (made at sign-in).'),
    installations: list(obj({ id: str('GitHub App installation id.'), account: str() })),
    role: nullable({ ...role, description: "The caller's role; null for an API key." }),
    permissions: list(permission, { description: 'What the caller may do here.' }),
    createdAt: time(),
  }),
  OrganizationUpdate: obj({ name: name('New display name.') }, ['name']),
  User: obj({ id: int(), login: str(), name: nullable(str()), kind: str('`github` or `local`.') }),
  Member: obj({ user: ref('User'), role, createdAt: time() }),
  MemberUpdate: obj({ role }, ['role']),
  Invitation: obj(
    {
      id: int(),
      role,
      login: nullable(str('GitHub login the invitation is for.')),
      invitedBy: str(),
      createdAt: time(),
      expiresAt: time(),
      acceptedAt: nullable(time()),
      revokedAt: nullable(time()),
      token: str('Only in the answer to the POST that created it: hand it to the invitee.'),
      secretShownOnce: str('Only in a replay (Idempotent-Replayed: true) of the answer that held the token: it was shown once and is not kept.'),
    },
    ['id', 'role', 'login', 'invitedBy', 'createdAt', 'expiresAt', 'acceptedAt', 'revokedAt'],
  ),
  InvitationCreate: obj(
    {
      role,
      login: str('GitHub login of the invitee (optional: anyone holding the token may accept).', { pattern: '^[A-Za-z0-9-]{1,39}$' }),
      expiresInHours: int('Default 168 (7 days).', { minimum: 1, maximum: 720 }),
    },
    ['role'],
  ),
  InvitationAccept: obj({ token: str(undefined, { minLength: 20, maxLength: 200 }) }),
  ApiKey: obj(
    {
      id: int(),
      name: str(),
      prefix: str('The first characters of the key, to recognise it: wharf_AbCd.'),
      scopes: list({ type: 'string', enum: [...KEY_SCOPES] }),
      permissions: list(permission),
      repositoryIds: nullable(list(int(), { description: 'Only these repositories; null: every repository.' })),
      createdBy: str(),
      createdAt: time(),
      lastUsedAt: nullable(time()),
      expiresAt: nullable(time()),
      revokedAt: nullable(time()),
      key: str('The secret: only in the answer that created or rotated it. Store it now; Wharf keeps only a hash.'),
      secretShownOnce: str('Only in a replay (Idempotent-Replayed: true) of the answer that held the key: it was shown once and is not kept.'),
    },
    ['id', 'name', 'prefix', 'scopes', 'permissions', 'repositoryIds', 'createdBy', 'createdAt', 'lastUsedAt', 'expiresAt', 'revokedAt'],
  ),
  ApiKeyCreate: obj(
    {
      name: name('What the key is for: "GitHub Actions deploy gate".'),
      scopes: list({ type: 'string', enum: [...KEY_SCOPES] }, { minItems: 1, uniqueItems: true }),
      repositoryIds: list(int(undefined, { minimum: 1 }), { minItems: 1, maxItems: 100, uniqueItems: true }),
      expiresInDays: int('Default: never.', { minimum: 1, maximum: 3650 }),
    },
    ['name', 'scopes'],
  ),
  Agent: obj({
    id: int(),
    name: str('As the agent registered (agent.yaml `name`).'),
    pool: str('The part after the colon of `target: agent:<pool>`.'),
    hostname: nullable(str()),
    version: nullable(str('The agent’s version.')),
    state: { type: 'string', enum: [...AGENT_STATES], description: 'Connected while it polls; Stale, then Offline, without a poll (WHARF_AGENT_STALE_AFTER, WHARF_AGENT_OFFLINE_AFTER); Revoked.' },
    lastSeenAt: nullable(time('Its last poll or report (recorded a few seconds late).')),
    createdAt: time('When it registered.'),
    revokedAt: nullable(time()),
    activeCredentials: int('1, or 2 while a rotation is in progress.'),
    environments: list(obj({ id: int('The environment id.'), app: str(), name: str(), applied: { type: 'boolean', description: 'The agent reported the document it was last given.' } })),
  }),
  AgentToken: obj(
    {
      id: int(),
      pool: str(),
      state: { type: 'string', enum: [...REGISTRATION_TOKEN_STATES] },
      createdBy: str(),
      createdAt: time(),
      expiresAt: time(),
      revokedAt: nullable(time()),
      uses: int('Agents registered with it.'),
      lastUsedAt: nullable(time()),
      token: str('The secret (wharf_reg_…): only in the answer that created it. Wharf keeps only a hash.'),
      secretShownOnce: str('Only in a replay (Idempotent-Replayed: true) of the answer that held the token: it was shown once and is not kept.'),
    },
    ['id', 'pool', 'state', 'createdBy', 'createdAt', 'expiresAt', 'revokedAt', 'uses', 'lastUsedAt'],
  ),
  AgentTokenCreate: obj(
    {
      pool: str('The pool agents registered with it join: `target: agent:<pool>`.', { pattern: AGENT_POOL_PATTERN.source, minLength: 1, maxLength: 63 }),
      ttlSeconds: int('How long it can be used; default 86400 (24 h), at most 30 days.', { minimum: 60, maximum: REGISTRATION_TOKEN_MAX_TTL_MS / 1000 }),
    },
    ['pool'],
  ),
  Repository: obj({ id: int(), provider: str('github, local or git.'), fullName: str(), defaultBranch: str() }),
  App: obj({ repositoryId: int(), repository: str(), name: str(), environments: int() }),
  Environment: obj({
    id: int(),
    repositoryId: int(),
    app: str(),
    name: str(),
    kind: { type: 'string', enum: [...ENVIRONMENT_KINDS] },
    target: str(),
    state: obj({
      word: { type: 'string', enum: [...ENVIRONMENT_STATES] },
      reason: nullable(str()),
      message: str(),
      text: str('As `wharf status` prints it: Ready, Stalled (InvalidVersion).'),
    }),
    version: obj({
      running: nullable(str('Commit sha rolled out.')),
      runningDigest: nullable(str()),
      desired: nullable(str('Commit sha desired.')),
      desiredDigest: nullable(str()),
    }),
    generation: int(),
    observedGeneration: int(),
    url: nullable(str()),
    suspended: { type: 'boolean' },
    deletionRequested: { type: 'boolean' },
    driftMode: str(),
    conditions: list({ type: 'object', description: 'Ready, Progressing, Degraded, Stalled: type, status, reason, message, lastTransitionTime.' }),
    createdAt: time(),
    updatedAt: time(),
    lastReconciledAt: nullable(time()),
  }),
  Rollout: obj({
    id: int(),
    environmentId: int(),
    generation: int(),
    action: str(),
    result: { type: 'string', enum: [...ROLLOUT_RESULTS] },
    reason: nullable(str()),
    message: nullable(str()),
    sha: nullable(str()),
    subject: nullable(str()),
    rollbackSha: nullable(str()),
    rollbackSubject: nullable(str()),
    description: str('"deploy 1cded6d (New greeting)", "rollback to 4eb6b0e (First version)".'),
    startedAt: time(),
    finishedAt: nullable(time()),
  }),
  Diff: obj({
    environmentId: int(),
    app: str(),
    environment: str(),
    plan: { type: 'object', description: "contracts' Plan: action, reason, changes (files, modules, pipelines, routes …)." },
    text: str('The plan as `wharf diff` prints it.'),
  }),
  StateChange: obj({ environment: ref('Environment'), changed: { type: 'boolean', description: 'False when it was already so.' } }),
  Redeploy: obj({ environment: ref('Environment'), generation: int() }),
  ActionRequest: obj({ reason: str('Why: written to the audit log.', { maxLength: 1000 }) }, []),
  RollbackRequest: obj(
    {
      version: str('Commit sha (at least 7 hex characters) or version id of an earlier valid version.', { minLength: 1, maxLength: 64 }),
      reason: str(undefined, { maxLength: 1000 }),
    },
    ['version'],
  ),
  Rollback: obj(
    {
      mode: { type: 'string', enum: ['commit', 'pull-request'], description: 'commit: a revert committed to the working copy (local); pull-request: a revert pull request is being opened (GitHub).' },
      environmentId: int(),
      toSha: str(),
      branch: str(),
      commit: nullable(str('The new commit (commit mode).')),
      status: { type: 'string', enum: ['committed', 'queued'] },
    },
  ),
  VersionApp: obj({ app: str(), digest: str(), valid: { type: 'boolean' }, rollbackOfVersionId: nullable(int()), diagnostics: list({ type: 'object' }) }),
  Version: obj({
    id: int(),
    repositoryId: int(),
    sha: str(),
    parentSha: nullable(str()),
    ref: nullable(str()),
    author: nullable(str()),
    message: nullable(str()),
    committedAt: nullable(time()),
    valid: { type: 'boolean' },
    reachable: { type: 'boolean' },
    createdAt: time(),
    diagnostics: list({ type: 'object', description: 'file, line, column, severity, code, message.' }),
    apps: list(ref('VersionApp')),
  }),
  AuditEntry: obj({
    id: int(),
    at: time(),
    actor: str(),
    actorKind: { type: 'string', enum: [...ACTOR_KINDS] },
    action: str(),
    subject: nullable(str()),
    reason: str(),
    details: { type: 'object' },
    requestId: nullable(str()),
    sourceIp: nullable(str()),
  }),
  Session: obj({
    user: ref('User'),
    organizations: list(ref('Organization')),
    csrfToken: nullable(str('Send as X-CSRF-Token with every POST, PATCH and DELETE made with the session cookie; null without a cookie.')),
    expiresAt: nullable(time()),
    via: str('browser, cli or local (the local owner of `wharf up`).'),
  }),
  SessionInfo: obj({ id: int(), kind: str('browser or cli.'), createdAt: time(), lastSeenAt: time(), expiresAt: time(), userAgent: nullable(str()), current: { type: 'boolean' } }),
  DeviceCode: obj({ deviceCode: str(), userCode: str(), verificationUri: str(), expiresIn: int(), interval: int() }),
  DeviceToken: obj({ deviceCode: str(undefined, { minLength: 1, maxLength: 200 }) }),
  UserToken: obj({ token: str('A CLI user token (wharfu_…); send as Authorization: Bearer.'), user: ref('User'), expiresAt: time() }),
  RepositoryPage: page('Repository'),
  AppPage: page('App'),
  EnvironmentPage: page('Environment'),
  RolloutPage: page('Rollout'),
  VersionPage: page('Version'),
  AuditPage: page('AuditEntry'),
  MemberPage: page('Member'),
  InvitationPage: page('Invitation'),
  ApiKeyPage: page('ApiKey'),
  AgentPage: page('Agent'),
  AgentTokenPage: page('AgentToken'),
  OrganizationPage: page('Organization'),
  SessionPage: page('SessionInfo'),
  // Billing (docs/billing.md)
  Billing: obj({
    plan: { type: 'string', enum: [...BILLING_PLAN_IDS], description: 'The plan every limit is read from.' },
    planName: str(),
    status: { type: 'string', enum: [...BILLING_STATUSES], description: 'free, trialing, active, past_due (a payment failed) or canceled (back on Free).' },
    billingEnabled: { type: 'boolean', description: 'Whether this Wharf is connected to Stripe (without it every organization is on Free).' },
    period: nullable(obj({ start: time(), end: time() })),
    trialEndsAt: nullable(time()),
    cancelAtPeriodEnd: { type: 'boolean' },
    pastDueSince: nullable(time()),
    graceEndsAt: nullable(time('Past due: everything keeps running until then; after it previews pause (production never stops).')),
    banner: nullable(str('A message to show the organization (past due, previews paused, trial ending).')),
    usage: list(obj({ limit: { type: 'string', enum: [...COUNTED_LIMITS] }, used: int(), allowed: nullable(int(undefined, { description: 'null: unlimited.' })) })),
    upcomingInvoice: nullable(
      obj({ currency: str(), total: int('Cents.'), amountDue: int('Cents.'), periodEnd: nullable(time()), lines: list(obj({ description: nullable(str()), amount: int('Cents.'), quantity: nullable(int()) })) }),
    ),
  }),
  BillingCheckout: obj(
    {
      plan: { type: 'string', enum: BILLING_PLAN_IDS.filter((p) => BILLING_PLANS[p].selfServe), description: 'A self-serve plan.' },
      seats: int('Seats to buy (default: the members today).', { minimum: 1, maximum: 1000 }),
      successUrl: str('Where Stripe sends the browser after paying (default: WHARF_PUBLIC_URL).', { maxLength: 2000, pattern: '^https?://' }),
      cancelUrl: str('Where Stripe sends the browser when the customer gives up.', { maxLength: 2000, pattern: '^https?://' }),
    },
    ['plan'],
  ),
  BillingPortal: obj({ returnUrl: str('Where the portal links back to.', { maxLength: 2000, pattern: '^https?://' }) }, []),
  BillingSession: obj({ url: str('Send the browser here (Stripe Checkout or the customer portal).'), id: str() }),
} as const satisfies Record<string, JsonSchema>;
export type ApiSchemaName = keyof typeof API_SCHEMAS;
