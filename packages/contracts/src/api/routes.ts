/**
 * Every operation of the REST API `/api/v1`, defined once: the server registers its routes from this table (with
 * the permission each needs and the schemas that validate them) and the OpenAPI document is generated from it.
 */
import type { Permission } from '../accounts/roles.js';
import type { ApiSchemaName, JsonSchema } from './schemas.js';

export const API_PREFIX = '/api/v1' as const;
export const API_VERSION = '1.0.0' as const;

export type HttpMethod = 'GET' | 'POST' | 'PATCH' | 'DELETE';

export interface ApiRoute {
  operationId: string;
  method: HttpMethod;
  /** Under API_PREFIX, OpenAPI style: /environments/{id}. */
  path: string;
  tag: string;
  summary: string;
  description?: string;
  /** What the caller needs; `authenticated`: any valid credential; `user`: a signed-in person (not an API key); `public`: none. */
  access: Permission | 'authenticated' | 'user' | 'public';
  query?: Record<string, JsonSchema>;
  body?: ApiSchemaName;
  /** Status and schema of the success answer; `stream` for text/event-stream or application/x-ndjson. */
  response: { status: number; schema?: ApiSchemaName; stream?: 'text/event-stream' | 'application/x-ndjson' | 'text/html' | 'application/json' };
  /** A POST that acts: an `Idempotency-Key` header replays its first result. */
  idempotent?: boolean;
  /**
   * The field of the success answer that holds a secret shown once. It is never stored for a replay: a replay with the
   * same Idempotency-Key answers without it, and `secretShownOnce` says so.
   */
  secret?: 'key' | 'token';
  /** Cursor pagination: `limit` and `cursor` query parameters. */
  paginated?: boolean;
}

const id = (what: string): JsonSchema => ({ type: 'string', pattern: '^[1-9][0-9]{0,15}$', description: `${what} id.` });
const text = (description: string, extra: JsonSchema = {}): JsonSchema => ({ type: 'string', description, maxLength: 200, ...extra });
const time = (description: string): JsonSchema => ({ type: 'string', format: 'date-time', description });

export const PATH_PARAMS: Record<string, JsonSchema> = {
  id: id('The resource'),
  userId: id('The user'),
};

export const API_ROUTES: readonly ApiRoute[] = [
  // Organizations and people
  { operationId: 'listOrganizations', method: 'GET', path: '/organizations', tag: 'organizations', summary: 'Organizations the caller belongs to', access: 'authenticated', response: { status: 200, schema: 'OrganizationPage' }, paginated: true },
  { operationId: 'getOrganization', method: 'GET', path: '/organization', tag: 'organizations', summary: 'The organization this request acts for', description: 'An API key acts for its organization; a person chooses with the `Wharf-Organization` header (slug or id) when they belong to several.', access: 'organization:read', response: { status: 200, schema: 'Organization' } },
  { operationId: 'updateOrganization', method: 'PATCH', path: '/organization', tag: 'organizations', summary: 'Rename the organization', access: 'organization:manage', body: 'OrganizationUpdate', response: { status: 200, schema: 'Organization' } },
  { operationId: 'listMembers', method: 'GET', path: '/members', tag: 'organizations', summary: 'Members and their roles', access: 'members:read', response: { status: 200, schema: 'MemberPage' }, paginated: true },
  { operationId: 'updateMember', method: 'PATCH', path: '/members/{userId}', tag: 'organizations', summary: "Change a member's role", description: 'Only owners give or take the owner role; the last owner stays.', access: 'members:manage', body: 'MemberUpdate', response: { status: 200, schema: 'Member' } },
  { operationId: 'removeMember', method: 'DELETE', path: '/members/{userId}', tag: 'organizations', summary: 'Remove a member', access: 'members:manage', response: { status: 204 } },
  { operationId: 'listInvitations', method: 'GET', path: '/invitations', tag: 'organizations', summary: 'Open and past invitations', access: 'members:read', response: { status: 200, schema: 'InvitationPage' }, paginated: true },
  { operationId: 'createInvitation', method: 'POST', path: '/invitations', tag: 'organizations', summary: 'Invite someone with a role', access: 'members:manage', body: 'InvitationCreate', response: { status: 201, schema: 'Invitation' }, idempotent: true, secret: 'token' },
  { operationId: 'revokeInvitation', method: 'DELETE', path: '/invitations/{id}', tag: 'organizations', summary: 'Revoke an invitation', access: 'members:manage', response: { status: 204 } },
  { operationId: 'acceptInvitation', method: 'POST', path: '/invitations/accept', tag: 'organizations', summary: 'Join an organization with an invitation token', access: 'user', body: 'InvitationAccept', response: { status: 200, schema: 'Organization' } },
  // API keys
  { operationId: 'listApiKeys', method: 'GET', path: '/keys', tag: 'keys', summary: 'API keys of the organization (never the secret)', access: 'keys:read', response: { status: 200, schema: 'ApiKeyPage' }, paginated: true },
  { operationId: 'createApiKey', method: 'POST', path: '/keys', tag: 'keys', summary: 'Create an API key: the secret is in this answer only', access: 'keys:manage', body: 'ApiKeyCreate', response: { status: 201, schema: 'ApiKey' }, idempotent: true, secret: 'key' },
  { operationId: 'getApiKey', method: 'GET', path: '/keys/{id}', tag: 'keys', summary: 'One API key', access: 'keys:read', response: { status: 200, schema: 'ApiKey' } },
  { operationId: 'revokeApiKey', method: 'DELETE', path: '/keys/{id}', tag: 'keys', summary: 'Revoke an API key (at once, on every replica)', access: 'keys:manage', response: { status: 204 } },
  { operationId: 'rotateApiKey', method: 'POST', path: '/keys/{id}/rotate', tag: 'keys', summary: 'Replace a key by a new one with the same name and scopes; the old one is revoked', access: 'keys:manage', response: { status: 201, schema: 'ApiKey' }, idempotent: true, secret: 'key' },
  // Repositories, apps, versions
  { operationId: 'listRepositories', method: 'GET', path: '/repositories', tag: 'repositories', summary: 'Repositories Wharf watches', access: 'repositories:read', response: { status: 200, schema: 'RepositoryPage' }, paginated: true },
  { operationId: 'getRepository', method: 'GET', path: '/repositories/{id}', tag: 'repositories', summary: 'One repository', access: 'repositories:read', response: { status: 200, schema: 'Repository' } },
  { operationId: 'listApps', method: 'GET', path: '/apps', tag: 'repositories', summary: 'Apps (per repository) with their number of environments', access: 'repositories:read', response: { status: 200, schema: 'AppPage' }, paginated: true },
  { operationId: 'listVersions', method: 'GET', path: '/versions', tag: 'versions', summary: 'Versions (one per commit seen), newest first', access: 'repositories:read', query: { repository: id('Only this repository'), valid: { type: 'string', enum: ['true', 'false'] } }, response: { status: 200, schema: 'VersionPage' }, paginated: true },
  { operationId: 'getVersion', method: 'GET', path: '/versions/{id}', tag: 'versions', summary: 'One version with its diagnostics', access: 'repositories:read', response: { status: 200, schema: 'Version' } },
  // Environments
  { operationId: 'listEnvironments', method: 'GET', path: '/environments', tag: 'environments', summary: 'Environments with their status', access: 'environments:read', query: { app: text('Only this app'), name: text('Only environments of this name (production, pr-7, a branch slug)'), repository: id('Only this repository') }, response: { status: 200, schema: 'EnvironmentPage' }, paginated: true },
  { operationId: 'getEnvironment', method: 'GET', path: '/environments/{id}', tag: 'environments', summary: 'One environment', access: 'environments:read', response: { status: 200, schema: 'Environment' } },
  { operationId: 'listEnvironmentHistory', method: 'GET', path: '/environments/{id}/history', tag: 'environments', summary: 'Rollouts, newest first; rollbacks named as such', access: 'environments:read', response: { status: 200, schema: 'RolloutPage' }, paginated: true },
  { operationId: 'getEnvironmentDiff', method: 'GET', path: '/environments/{id}/diff', tag: 'environments', summary: 'What the next rollout would change', access: 'environments:read', response: { status: 200, schema: 'Diff' } },
  { operationId: 'streamEnvironmentLogs', method: 'GET', path: '/environments/{id}/logs', tag: 'environments', summary: "The runtime's output as JSON lines {at, stream, line}; follow=1 keeps the stream open", access: 'logs:read', query: { follow: { type: 'string', enum: ['0', '1', 'true', 'false'] }, lines: { type: 'string', pattern: '^[0-9]{1,5}$' } }, response: { status: 200, stream: 'application/x-ndjson' } },
  { operationId: 'suspendEnvironment', method: 'POST', path: '/environments/{id}/suspend', tag: 'environments', summary: 'Stop reconciling (what runs keeps running)', access: 'environments:deploy', body: 'ActionRequest', response: { status: 200, schema: 'StateChange' }, idempotent: true },
  { operationId: 'resumeEnvironment', method: 'POST', path: '/environments/{id}/resume', tag: 'environments', summary: 'Reconcile again, at once', access: 'environments:deploy', body: 'ActionRequest', response: { status: 200, schema: 'StateChange' }, idempotent: true },
  { operationId: 'redeployEnvironment', method: 'POST', path: '/environments/{id}/redeploy', tag: 'environments', summary: 'Roll out the same version again (a new generation)', access: 'environments:deploy', body: 'ActionRequest', response: { status: 202, schema: 'Redeploy' }, idempotent: true },
  { operationId: 'rollbackEnvironment', method: 'POST', path: '/environments/{id}/rollback', tag: 'environments', summary: 'Roll back to an earlier version through Git', description: 'Local repositories get a commit restoring the tree of that version on the branch; GitHub repositories get a revert pull request. Merging it (or the commit itself) rolls the environment back: Git stays the source of truth.', access: 'environments:deploy', body: 'RollbackRequest', response: { status: 202, schema: 'Rollback' }, idempotent: true },
  // Audit, live updates
  { operationId: 'listAudit', method: 'GET', path: '/audit', tag: 'audit', summary: 'The audit log, newest first', access: 'audit:read', query: { actor: text('Exactly this actor (user:octocat, key:wharf_AbCd, github:octocat)'), action: text('Exactly this action (deploy, rollback, api-key.create, …)'), environment: id('Only entries about this environment'), since: time('From this time'), until: time('Before this time') }, response: { status: 200, schema: 'AuditPage' }, paginated: true },
  { operationId: 'exportAudit', method: 'GET', path: '/audit/export', tag: 'audit', summary: 'The audit log as JSON lines, oldest first', access: 'audit:export', query: { since: time('From this time'), until: time('Before this time') }, response: { status: 200, stream: 'application/x-ndjson' } },
  { operationId: 'streamEvents', method: 'GET', path: '/events', tag: 'events', summary: 'Live updates as Server-Sent Events: environment, rollout, environment.deleted, agent', access: 'environments:read', response: { status: 200, stream: 'text/event-stream' } },
  // Pull agents (docs/agent.md): registration tokens for a pool, the agents that registered with them, revocation.
  { operationId: 'listAgents', method: 'GET', path: '/agents', tag: 'agents', summary: 'Agents: pool, Connected/Stale/Offline, last seen, the environments placed on each', access: 'agents:read', query: { pool: text('Only this pool (the part after the colon of `target: agent:<pool>`)'), revoked: { type: 'string', enum: ['true', 'false'], description: 'true: revoked agents too' } }, response: { status: 200, schema: 'AgentPage' }, paginated: true },
  { operationId: 'getAgent', method: 'GET', path: '/agents/{id}', tag: 'agents', summary: 'One agent', access: 'agents:read', response: { status: 200, schema: 'Agent' } },
  { operationId: 'revokeAgent', method: 'DELETE', path: '/agents/{id}', tag: 'agents', summary: 'Revoke an agent now: every call it makes gets 401; its environments move to another agent of its pool', access: 'agents:manage', response: { status: 204 } },
  { operationId: 'listAgentTokens', method: 'GET', path: '/agent-tokens', tag: 'agents', summary: 'Registration tokens (never the secret)', access: 'agents:read', response: { status: 200, schema: 'AgentTokenPage' }, paginated: true },
  { operationId: 'createAgentToken', method: 'POST', path: '/agent-tokens', tag: 'agents', summary: 'Create a registration token for a pool: the secret is in this answer only', description: 'Multi-use until it expires or is revoked: `wharf agent register --token …` exchanges it for the agent’s own credential.', access: 'agents:manage', body: 'AgentTokenCreate', response: { status: 201, schema: 'AgentToken' }, idempotent: true, secret: 'token' },
  { operationId: 'revokeAgentToken', method: 'DELETE', path: '/agent-tokens/{id}', tag: 'agents', summary: 'Revoke a registration token now (agents that registered with it keep working)', access: 'agents:manage', response: { status: 204 } },
  // Billing (docs/billing.md)
  { operationId: 'getBilling', method: 'GET', path: '/billing', tag: 'billing', summary: 'Plan, billing status, usage against each limit and the projected invoice', access: 'billing:read', response: { status: 200, schema: 'Billing' } },
  { operationId: 'createCheckoutSession', method: 'POST', path: '/billing/checkout', tag: 'billing', summary: 'Upgrade: a Stripe Checkout session for a self-serve plan (with its trial)', description: 'Owners and admins. The plan changes when Stripe reports the subscription (webhook), not when this answers.', access: 'billing:manage', body: 'BillingCheckout', response: { status: 201, schema: 'BillingSession' }, idempotent: true },
  { operationId: 'createPortalSession', method: 'POST', path: '/billing/portal', tag: 'billing', summary: 'A Stripe customer portal session: change seats or plan, update the card, cancel, see invoices', access: 'billing:manage', body: 'BillingPortal', response: { status: 201, schema: 'BillingSession' }, idempotent: true },
  // Sessions (the browser and the CLI)
  { operationId: 'getSession', method: 'GET', path: '/session', tag: 'sessions', summary: 'Who is signed in, their organizations and the CSRF token', access: 'user', response: { status: 200, schema: 'Session' } },
  { operationId: 'signOut', method: 'DELETE', path: '/session', tag: 'sessions', summary: 'Sign out (revokes this session)', access: 'user', response: { status: 204 } },
  { operationId: 'listSessions', method: 'GET', path: '/sessions', tag: 'sessions', summary: "The caller's sessions and CLI tokens", access: 'user', response: { status: 200, schema: 'SessionPage' }, paginated: true },
  { operationId: 'revokeSession', method: 'DELETE', path: '/sessions/{id}', tag: 'sessions', summary: 'Revoke one of the caller’s sessions', access: 'user', response: { status: 204 } },
  { operationId: 'signInWithGitHub', method: 'GET', path: '/auth/github/login', tag: 'sessions', summary: 'Start signing in with GitHub (redirects)', access: 'public', query: { next: text('Where to go after signing in (a path on this Wharf)') }, response: { status: 302 } },
  { operationId: 'gitHubCallback', method: 'GET', path: '/auth/github/callback', tag: 'sessions', summary: 'GitHub sends the browser back here; sets the session cookie', access: 'public', query: { code: text('From GitHub'), state: text('From GitHub') }, response: { status: 302 } },
  { operationId: 'startDeviceLogin', method: 'POST', path: '/auth/device', tag: 'sessions', summary: 'CLI login through GitHub’s device flow: the code to enter', access: 'public', response: { status: 200, schema: 'DeviceCode' } },
  { operationId: 'finishDeviceLogin', method: 'POST', path: '/auth/device/token', tag: 'sessions', summary: 'Poll until the person entered the code; then a CLI user token', access: 'public', body: 'DeviceToken', response: { status: 200, schema: 'UserToken' } },
  // The description itself
  { operationId: 'getOpenApi', method: 'GET', path: '/openapi.json', tag: 'meta', summary: 'This API as OpenAPI 3.1', access: 'public', response: { status: 200, stream: 'application/json' } },
  { operationId: 'getReference', method: 'GET', path: '/docs', tag: 'meta', summary: 'An interactive reference page of this API', access: 'public', response: { status: 200, stream: 'text/html' } },
];

/** The pagination parameters every paginated list takes. */
export const PAGE_QUERY: Record<string, JsonSchema> = {
  limit: { type: 'string', pattern: '^[0-9]{1,3}$', description: 'Items per page, 1–100 (default 50).' },
  cursor: { type: 'string', maxLength: 500, description: 'nextCursor of the previous page.' },
};

export const MAX_PAGE = 100;
export const DEFAULT_PAGE = 50;

/** /environments/{id} → /environments/:id (Fastify). */
export const fastifyPath = (path: string): string => path.replace(/\{([A-Za-z]+)\}/g, ':$1');

export const pathParams = (path: string): string[] => [...path.matchAll(/\{([A-Za-z]+)\}/g)].map((m) => m[1] ?? '');
