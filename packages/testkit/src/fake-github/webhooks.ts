/**
 * Signed webhook deliveries built from GitHub's real example payloads (`@octokit/webhooks-examples`), with the
 * fields a scenario needs replaced: installation, repository, pull request number, head commit, fork, sender.
 */
import { createHash, createHmac, randomUUID } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- webhook payloads are deep, event-specific JSON that tests edit freely
export type WebhookPayload = Record<string, any>;

interface ExampleGroup {
  name: string;
  actions: string[];
  examples: Record<string, unknown>[];
}

let examples: ExampleGroup[] | undefined;

function loadExamples(): ExampleGroup[] {
  if (!examples) {
    const require = createRequire(import.meta.url);
    examples = JSON.parse(readFileSync(require.resolve('@octokit/webhooks-examples/api.github.com/index.json'), 'utf8')) as ExampleGroup[];
  }
  return examples;
}

/** A deep copy of a real example payload of this event (and action, when given). */
export function examplePayload(event: string, action?: string): WebhookPayload {
  const group = loadExamples().find((g) => g.name === event);
  if (!group) throw new Error(`no webhook example for event ${event}`);
  const found = group.examples.find((e) => action === undefined || e.action === action) ?? (action ? undefined : group.examples[0]);
  if (!found) throw new Error(`no webhook example for ${event}.${action}`);
  return structuredClone(found) as WebhookPayload;
}

export interface SignedDelivery {
  id: string;
  event: string;
  body: string;
  headers: Record<string, string>;
}

export function signPayload(secret: string, body: string): string {
  return `sha256=${createHmac('sha256', secret).update(body).digest('hex')}`;
}

/** The request GitHub would send: JSON body and the X-GitHub-* headers, signed with the webhook secret. */
export function signedDelivery(secret: string, event: string, payload: unknown, id: string = randomUUID()): SignedDelivery {
  const body = JSON.stringify(payload);
  return {
    id,
    event,
    body,
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/fake',
      'x-github-event': event,
      'x-github-delivery': id,
      'x-github-hook-id': '1',
      'x-github-hook-installation-target-type': 'integration',
      'x-hub-signature-256': signPayload(secret, body),
    },
  };
}

export interface RepoRef {
  /** owner/name */
  fullName: string;
  installationId: number;
  defaultBranch?: string;
}

/** A repository's id as GitHub would give it: stable per full name (a fork has an id of its own). */
export const repositoryId = (fullName: string): number => Number.parseInt(createHash('sha1').update(fullName).digest('hex').slice(0, 8), 16);

function applyRepo(p: WebhookPayload, r: RepoRef): void {
  const [owner, name] = r.fullName.split('/');
  p.installation = { id: r.installationId, node_id: `MDIzOkludGVncmF0aW9uSW5zdGFsbGF0aW9u${r.installationId}` };
  if (p.repository) {
    p.repository.id = repositoryId(r.fullName);
    p.repository.full_name = r.fullName;
    p.repository.name = name;
    p.repository.owner = { ...p.repository.owner, login: owner };
    p.repository.default_branch = r.defaultBranch ?? 'main';
    p.repository.clone_url = `https://github.com/${r.fullName}.git`;
    p.repository.html_url = `https://github.com/${r.fullName}`;
  }
}

const setSender = (p: WebhookPayload, login: string) => {
  p.sender = { ...(p.sender ?? {}), login, type: login.endsWith('[bot]') ? 'Bot' : 'User' };
};

export interface PullRequestInput {
  action: 'opened' | 'synchronize' | 'reopened' | 'ready_for_review' | 'closed' | 'labeled' | 'edited' | 'converted_to_draft';
  number: number;
  headSha: string;
  headRef?: string;
  baseRef?: string;
  /**
   * The head repository when the pull request comes from a fork: as GitHub sends it, a repository of its own (its own
   * id, `fork: true`), whose commits the base repository has only under `refs/pull/<n>/head`.
   */
  forkFullName?: string;
  /** The fork was deleted: GitHub sends `head.repo: null`. */
  forkDeleted?: boolean;
  /** When the event happened on GitHub (`pull_request.updated_at`); default now. */
  at?: string;
  draft?: boolean;
  merged?: boolean;
  mergeCommitSha?: string;
  label?: string;
  sender?: string;
  title?: string;
}

export function pullRequestPayload(repo: RepoRef, input: PullRequestInput): WebhookPayload {
  const p = examplePayload('pull_request', input.action === 'edited' ? 'edited' : input.action);
  applyRepo(p, repo);
  p.action = input.action;
  p.number = input.number;
  const pr = p.pull_request;
  pr.number = input.number;
  pr.title = input.title ?? `Change ${input.number}`;
  pr.state = input.action === 'closed' ? 'closed' : 'open';
  pr.draft = input.draft ?? false;
  pr.merged = input.merged ?? false;
  pr.merge_commit_sha = input.mergeCommitSha ?? null;
  pr.user = { ...(pr.user ?? {}), login: input.sender ?? 'octocat' };
  pr.updated_at = input.at ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  const headRepoName = input.forkFullName ?? repo.fullName;
  const [headOwner, headName] = headRepoName.split('/');
  const fork = input.forkFullName !== undefined || input.forkDeleted === true;
  pr.head = {
    ...pr.head,
    sha: input.headSha,
    ref: input.headRef ?? `feature-${input.number}`,
    label: `${headOwner}:${input.headRef ?? `feature-${input.number}`}`,
    repo: input.forkDeleted
      ? null
      : fork
        ? {
            ...p.repository,
            id: repositoryId(headRepoName),
            full_name: headRepoName,
            name: headName,
            owner: { ...(p.repository?.owner ?? {}), login: headOwner },
            fork: true,
            clone_url: `https://github.com/${headRepoName}.git`,
            html_url: `https://github.com/${headRepoName}`,
          }
        : { ...p.repository },
  };
  pr.base = { ...pr.base, ref: input.baseRef ?? repo.defaultBranch ?? 'main', repo: { ...(pr.base?.repo ?? {}), ...p.repository } };
  if (input.label) p.label = { name: input.label, color: 'ededed' };
  else delete p.label;
  setSender(p, input.sender ?? 'octocat');
  return p;
}

export interface PushInput {
  ref: string;
  before: string;
  after: string;
  message?: string;
  sender?: string;
}

export function pushPayload(repo: RepoRef, input: PushInput): WebhookPayload {
  const p = examplePayload('push');
  applyRepo(p, repo);
  p.ref = input.ref;
  p.before = input.before;
  p.after = input.after;
  p.deleted = /^0+$/.test(input.after);
  p.created = /^0+$/.test(input.before);
  const commit = { id: input.after, tree_id: input.after, message: input.message ?? 'Change', timestamp: new Date().toISOString(), author: { name: 'Octo Cat', email: 'octo@example.com', username: 'octocat' }, added: [], removed: [], modified: [] };
  p.head_commit = p.deleted ? null : commit;
  p.commits = p.deleted ? [] : [commit];
  setSender(p, input.sender ?? 'octocat');
  return p;
}

export function issueCommentPayload(
  repo: RepoRef,
  input: { issueNumber: number; body: string; commentId: number; sender: string; onPullRequest?: boolean; /** When it was written (default now). */ at?: string },
): WebhookPayload {
  const p = examplePayload('issue_comment', 'created');
  applyRepo(p, repo);
  p.issue.number = input.issueNumber;
  if (input.onPullRequest === false) delete p.issue.pull_request;
  else p.issue.pull_request = { url: `https://api.github.com/repos/${repo.fullName}/pulls/${input.issueNumber}` };
  const at = input.at ?? new Date().toISOString().replace(/\.\d{3}Z$/, 'Z');
  p.comment = { ...p.comment, id: input.commentId, body: input.body, created_at: at, updated_at: at, user: { ...(p.comment?.user ?? {}), login: input.sender, type: 'User' } };
  setSender(p, input.sender);
  return p;
}

export function checkRunPayload(repo: RepoRef, input: { action: 'rerequested' | 'requested_action'; name: string; headSha: string; checkRunId: number; identifier?: string; sender?: string; pullRequests?: number[] }): WebhookPayload {
  const p = examplePayload('check_run', input.action);
  applyRepo(p, repo);
  p.check_run = { ...p.check_run, id: input.checkRunId, name: input.name, head_sha: input.headSha, pull_requests: (input.pullRequests ?? []).map((n) => ({ number: n })) };
  if (input.identifier) p.requested_action = { identifier: input.identifier };
  setSender(p, input.sender ?? 'octocat');
  return p;
}

export function checkSuitePayload(repo: RepoRef, input: { action: 'requested' | 'rerequested'; headSha: string; headBranch?: string; sender?: string }): WebhookPayload {
  const p = examplePayload('check_suite', input.action);
  applyRepo(p, repo);
  p.check_suite = { ...p.check_suite, head_sha: input.headSha, head_branch: input.headBranch ?? 'main', pull_requests: [] };
  setSender(p, input.sender ?? 'octocat');
  return p;
}

export function installationPayload(input: { action: 'created' | 'deleted' | 'suspend' | 'unsuspend'; installationId: number; account: string; repositories: string[] }): WebhookPayload {
  const p = examplePayload('installation', input.action);
  p.action = input.action;
  p.installation = { ...p.installation, id: input.installationId, account: { ...(p.installation?.account ?? {}), login: input.account } };
  p.repositories = input.repositories.map((full_name) => ({ id: repositoryId(full_name), name: full_name.split('/')[1], full_name, private: true }));
  setSender(p, 'octocat');
  return p;
}

export function installationRepositoriesPayload(input: { action: 'added' | 'removed'; installationId: number; account: string; added?: string[]; removed?: string[] }): WebhookPayload {
  const p = examplePayload('installation_repositories', input.action);
  p.installation = { ...p.installation, id: input.installationId, account: { ...(p.installation?.account ?? {}), login: input.account } };
  const repos = (names: string[] = []) => names.map((full_name) => ({ id: repositoryId(full_name), name: full_name.split('/')[1], full_name, private: true }));
  p.repositories_added = repos(input.added);
  p.repositories_removed = repos(input.removed);
  setSender(p, 'octocat');
  return p;
}
