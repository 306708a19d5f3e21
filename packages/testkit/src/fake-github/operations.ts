/** The GitHub REST operations the fake keeps state for, by operation id. Bodies were already schema-checked. */
import { createHash } from 'node:crypto';
import type { FakeGitHubState, FakeInstallation } from './state.js';

export interface OperationContext {
  state: FakeGitHubState;
  params: Record<string, string>;
  query: URLSearchParams;
  body: Record<string, unknown>;
  installation: FakeInstallation | undefined;
  baseUrl: string;
  /** The App the fake serves: its id and slug (its bot user is `<slug>[bot]`). */
  app: { id: number; slug: string };
  issueToken(installationId: number): { token: string; expires_at: string };
}

export interface Reply {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

type Operation = (ctx: OperationContext) => Reply;

const DOCS = 'https://docs.github.com/rest';
const notFound = (): Reply => ({ status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } });
const unprocessable = (message: string, errors?: unknown[]): Reply => ({
  status: 422,
  body: { message, errors, documentation_url: DOCS, status: '422' },
});
const repoOf = (p: Record<string, string>) => `${p.owner}/${p.repo}`;
/** A GitHub user as the API shows one; `<slug>[bot]` logins are an App's bot user (type Bot). */
const user = (login: string) => ({ login, id: Number.parseInt(createHash('sha1').update(login).digest('hex').slice(0, 6), 16), type: login.endsWith('[bot]') ? 'Bot' : 'User' });
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);
const htmlBase = 'https://github.com';

function checkRunView(ctx: OperationContext, id: number): Reply {
  const run = ctx.state.checkRuns.find((c) => c.id === id);
  if (!run) return notFound();
  return {
    status: 200,
    body: {
      id: run.id,
      name: run.name,
      head_sha: run.head_sha,
      status: run.status,
      conclusion: run.conclusion,
      details_url: run.details_url ?? null,
      external_id: run.external_id ?? null,
      html_url: `${htmlBase}/${run.repo}/runs/${run.id}`,
      url: `${ctx.baseUrl}/repos/${run.repo}/check-runs/${run.id}`,
      output: { title: run.output.title, summary: run.output.summary, text: run.output.text, annotations_count: run.output.annotations.length },
    },
  };
}

function applyCheckRunBody(ctx: OperationContext, id: number): void {
  const run = ctx.state.checkRuns.find((c) => c.id === id);
  if (!run) return;
  const b = ctx.body;
  if (str(b.name)) run.name = str(b.name) ?? run.name;
  if (str(b.details_url)) run.details_url = str(b.details_url);
  if (str(b.external_id)) run.external_id = str(b.external_id);
  if (str(b.status)) run.status = str(b.status) ?? run.status;
  if (str(b.conclusion)) {
    run.conclusion = str(b.conclusion) ?? null;
    run.status = 'completed';
  }
  const output = b.output as { title?: string; summary?: string; text?: string; annotations?: never[] } | undefined;
  if (output) {
    if (output.title !== undefined) run.output.title = output.title;
    if (output.summary !== undefined) run.output.summary = output.summary;
    if (output.text !== undefined) run.output.text = output.text;
    // GitHub appends annotations across updates of the same run.
    if (output.annotations?.length) {
      run.output.annotations.push(...output.annotations);
      run.annotationRequests += 1;
    }
  }
  if (Array.isArray(b.actions)) run.actions = b.actions as never[];
}

function commentView(ctx: OperationContext, id: number): Reply {
  const c = ctx.state.comments.find((x) => x.id === id);
  if (!c) return notFound();
  return {
    status: 200,
    body: {
      id: c.id,
      body: c.body,
      user: user(c.user),
      // GitHub names the App a comment was written through (null for a person's comment).
      performed_via_github_app: c.viaApp ? { id: c.viaApp, slug: ctx.app.slug, name: ctx.app.slug, owner: user('acme') } : null,
      html_url: `${htmlBase}/${c.repo}/pull/${c.issue}#issuecomment-${c.id}`,
      issue_url: `${ctx.baseUrl}/repos/${c.repo}/issues/${c.issue}`,
      url: `${ctx.baseUrl}/repos/${c.repo}/issues/comments/${c.id}`,
    },
  };
}

function deploymentView(ctx: OperationContext, id: number): Reply {
  const d = ctx.state.deployments.find((x) => x.id === id);
  if (!d) return notFound();
  return {
    status: 201,
    body: {
      id: d.id,
      sha: d.sha,
      ref: d.ref,
      environment: d.environment,
      description: d.description,
      transient_environment: d.transient_environment,
      production_environment: d.production_environment,
      payload: d.payload,
      url: `${ctx.baseUrl}/repos/${d.repo}/deployments/${d.id}`,
      statuses_url: `${ctx.baseUrl}/repos/${d.repo}/deployments/${d.id}/statuses`,
    },
  };
}

const botLogin = (ctx: OperationContext) => `${ctx.app.slug}[bot]`;

export const operations: Record<string, Operation> = {
  'apps/create-installation-access-token': (ctx) => {
    const id = Number(ctx.params.installation_id);
    if (!ctx.state.installations.has(id)) return notFound();
    const { token, expires_at } = ctx.issueToken(id);
    return { status: 201, body: { token, expires_at, permissions: {}, repository_selection: 'selected' } };
  },
  'apps/get-authenticated': (ctx) => ({ status: 200, body: { id: ctx.app.id, slug: ctx.app.slug, name: ctx.app.slug, owner: user('acme') } }),
  'apps/create-from-manifest': (ctx) => {
    const app = ctx.state.manifestConversions.get(ctx.params.code ?? '');
    if (!app) return notFound();
    ctx.state.manifestConversions.delete(ctx.params.code ?? '');
    return { status: 201, body: app };
  },

  // ---- checks -----------------------------------------------------------------------------------------------
  'checks/create': (ctx) => {
    const id = ctx.state.id();
    ctx.state.checkRuns.push({
      id,
      repo: repoOf(ctx.params),
      name: String(ctx.body.name),
      head_sha: String(ctx.body.head_sha),
      status: 'queued',
      conclusion: null,
      output: { title: null, summary: null, text: null, annotations: [] },
      actions: [],
      annotationRequests: 0,
    });
    applyCheckRunBody(ctx, id);
    return { ...checkRunView(ctx, id), status: 201 };
  },
  'checks/update': (ctx) => {
    const id = Number(ctx.params.check_run_id);
    const run = ctx.state.checkRuns.find((c) => c.id === id && c.repo === repoOf(ctx.params));
    if (!run) return notFound();
    applyCheckRunBody(ctx, id);
    return checkRunView(ctx, id);
  },
  'checks/get': (ctx) => checkRunView(ctx, Number(ctx.params.check_run_id)),
  'checks/list-for-ref': (ctx) => {
    const runs = ctx.state.checkRuns.filter((c) => c.repo === repoOf(ctx.params) && c.head_sha === ctx.params.ref);
    return { status: 200, body: { total_count: runs.length, check_runs: runs.map((r) => checkRunView(ctx, r.id).body) } };
  },

  // ---- deployments ------------------------------------------------------------------------------------------
  'repos/create-deployment': (ctx) => {
    const repo = repoOf(ctx.params);
    const ref = String(ctx.body.ref);
    const sha = /^[0-9a-f]{40}$/.test(ref) ? ref : (ctx.state.refs.get(`${repo}:refs/heads/${ref}`) ?? ref);
    // GitHub verifies every commit status context unless required_contexts is given, and answers 409 when one fails.
    if (ctx.body.required_contexts === undefined) {
      const failing = ctx.state.checkRuns.filter((c) => c.repo === repo && c.head_sha === sha && c.conclusion === 'failure');
      if (failing.length > 0) {
        return { status: 409, body: { message: 'Conflict: Commit status checks failed for ' + ref + '.', documentation_url: DOCS, status: '409' } };
      }
    }
    const environment = str(ctx.body.environment) ?? 'production';
    const id = ctx.state.id();
    ctx.state.deployments.push({
      id,
      repo,
      ref,
      sha,
      environment,
      description: str(ctx.body.description) ?? null,
      auto_merge: ctx.body.auto_merge as boolean | undefined,
      required_contexts: ctx.body.required_contexts as string[] | undefined,
      transient_environment: ctx.body.transient_environment === true,
      production_environment: ctx.body.production_environment === true || (ctx.body.production_environment === undefined && environment === 'production'),
      payload: ctx.body.payload ?? {},
      statuses: [],
    });
    return deploymentView(ctx, id);
  },
  'repos/list-deployments': (ctx) => {
    const list = ctx.state.deployments
      .filter((d) => d.repo === repoOf(ctx.params))
      .filter((d) => !ctx.query.get('environment') || d.environment === ctx.query.get('environment'))
      .filter((d) => !ctx.query.get('sha') || d.sha === ctx.query.get('sha'))
      .reverse();
    return { status: 200, body: list.map((d) => ({ ...(deploymentView(ctx, d.id).body as object) })) };
  },
  'repos/get-deployment': (ctx) => ({ ...deploymentView(ctx, Number(ctx.params.deployment_id)), status: 200 }),
  'repos/create-deployment-status': (ctx) => {
    const d = ctx.state.deployments.find((x) => x.id === Number(ctx.params.deployment_id) && x.repo === repoOf(ctx.params));
    if (!d) return notFound();
    const status = {
      id: ctx.state.id(),
      state: String(ctx.body.state),
      environment_url: str(ctx.body.environment_url),
      log_url: str(ctx.body.log_url),
      description: str(ctx.body.description),
      environment: str(ctx.body.environment),
      auto_inactive: ctx.body.auto_inactive as boolean | undefined,
    };
    d.statuses.push(status);
    // auto_inactive (default true): a success marks earlier deployments of the same environment inactive.
    if (status.state === 'success' && status.auto_inactive !== false) {
      for (const other of ctx.state.deployments) {
        if (other !== d && other.repo === d.repo && other.environment === d.environment && other.id < d.id) {
          const last = other.statuses.at(-1);
          if (last && last.state !== 'inactive') other.statuses.push({ id: ctx.state.id(), state: 'inactive' });
        }
      }
    }
    return { status: 201, body: { id: status.id, state: status.state, environment_url: status.environment_url ?? '', description: status.description ?? '' } };
  },
  'repos/list-deployment-statuses': (ctx) => {
    const d = ctx.state.deployments.find((x) => x.id === Number(ctx.params.deployment_id) && x.repo === repoOf(ctx.params));
    if (!d) return notFound();
    return { status: 200, body: [...d.statuses].reverse() };
  },

  // ---- comments and reactions -------------------------------------------------------------------------------
  'issues/create-comment': (ctx) => {
    const id = ctx.state.id();
    ctx.state.comments.push({
      id,
      repo: repoOf(ctx.params),
      issue: Number(ctx.params.issue_number),
      body: String(ctx.body.body),
      user: botLogin(ctx),
      reactions: [],
      edits: 0,
      viaApp: ctx.app.id,
    });
    return { ...commentView(ctx, id), status: 201 };
  },
  'issues/update-comment': (ctx) => {
    const c = ctx.state.comments.find((x) => x.id === Number(ctx.params.comment_id) && x.repo === repoOf(ctx.params));
    if (!c) return notFound();
    c.body = String(ctx.body.body);
    c.edits += 1;
    return commentView(ctx, c.id);
  },
  'issues/get-comment': (ctx) => commentView(ctx, Number(ctx.params.comment_id)),
  'issues/list-comments': (ctx) => {
    const page = Number(ctx.query.get('page') ?? '1');
    const perPage = Number(ctx.query.get('per_page') ?? '30');
    const all = ctx.state.commentsOn(repoOf(ctx.params), Number(ctx.params.issue_number));
    const slice = all.slice((page - 1) * perPage, page * perPage);
    return { status: 200, body: slice.map((c) => commentView(ctx, c.id).body) };
  },
  'reactions/create-for-issue-comment': (ctx) => {
    const c = ctx.state.comments.find((x) => x.id === Number(ctx.params.comment_id) && x.repo === repoOf(ctx.params));
    if (!c) return notFound();
    const content = String(ctx.body.content);
    const existed = c.reactions.includes(content);
    if (!existed) c.reactions.push(content);
    return { status: existed ? 200 : 201, body: { id: ctx.state.id(), content, user: user(botLogin(ctx)) } };
  },
  'repos/get-collaborator-permission-level': (ctx) => {
    const permission = ctx.state.permissions.get(`${repoOf(ctx.params)}#${(ctx.params.username ?? '').toLowerCase()}`) ?? 'read';
    const role = { admin: 'admin', maintain: 'maintain', write: 'write', triage: 'triage', read: 'read', none: 'read' }[permission] ?? 'read';
    return { status: 200, body: { permission, role_name: role, user: user(ctx.params.username ?? '') } };
  },

  // ---- repositories, git data and pull requests -------------------------------------------------------------
  'repos/get': (ctx) => ({
    status: 200,
    body: { id: 1, name: ctx.params.repo, full_name: repoOf(ctx.params), default_branch: 'main', private: true, owner: user(ctx.params.owner ?? '') },
  }),
  'git/get-commit': (ctx) => {
    const c = ctx.state.commits.get(`${repoOf(ctx.params)}@${ctx.params.commit_sha}`);
    if (!c) return notFound();
    return { status: 200, body: { sha: c.sha, message: c.message, tree: { sha: c.tree }, parents: c.parents.map((sha) => ({ sha })) } };
  },
  'git/create-commit': (ctx) => {
    const repo = repoOf(ctx.params);
    const tree = String(ctx.body.tree);
    const parents = (ctx.body.parents as string[] | undefined) ?? [];
    const message = String(ctx.body.message);
    const sha = createHash('sha1').update(`${repo}\0${tree}\0${parents.join(',')}\0${message}\0${ctx.state.id()}`).digest('hex');
    ctx.state.addCommit(repo, { sha, tree, parents, message });
    return { status: 201, body: { sha, message, tree: { sha: tree }, parents: parents.map((p) => ({ sha: p })) } };
  },
  'git/get-ref': (ctx) => {
    const sha = ctx.state.refs.get(`${repoOf(ctx.params)}:refs/${ctx.params.ref}`);
    if (!sha) return notFound();
    return { status: 200, body: { ref: `refs/${ctx.params.ref}`, object: { sha, type: 'commit' } } };
  },
  'git/create-ref': (ctx) => {
    const key = `${repoOf(ctx.params)}:${String(ctx.body.ref)}`;
    if (!String(ctx.body.ref).startsWith('refs/')) return unprocessable('Reference name must start with refs/');
    if (ctx.state.refs.has(key)) return unprocessable('Reference already exists');
    ctx.state.refs.set(key, String(ctx.body.sha));
    return { status: 201, body: { ref: String(ctx.body.ref), object: { sha: String(ctx.body.sha), type: 'commit' } } };
  },
  'pulls/create': (ctx) => {
    const repo = repoOf(ctx.params);
    const head = String(ctx.body.head);
    if (!ctx.state.refs.has(`${repo}:refs/heads/${head}`)) return unprocessable('Validation Failed', [{ resource: 'PullRequest', field: 'head', code: 'invalid' }]);
    if (ctx.state.pulls.some((p) => p.repo === repo && p.head === head && p.state === 'open')) {
      return unprocessable('Validation Failed', [{ resource: 'PullRequest', code: 'custom', message: `A pull request already exists for ${ctx.params.owner}:${head}.` }]);
    }
    const number = 1000 + ctx.state.pulls.length + 1;
    ctx.state.pulls.push({ number, repo, title: String(ctx.body.title ?? ''), body: String(ctx.body.body ?? ''), head, base: String(ctx.body.base), state: 'open' });
    return { status: 201, body: { number, html_url: `${htmlBase}/${repo}/pull/${number}`, state: 'open', title: ctx.body.title, head: { ref: head }, base: { ref: ctx.body.base } } };
  },
  'pulls/list': (ctx) => {
    const repo = repoOf(ctx.params);
    const head = ctx.query.get('head')?.split(':').pop();
    const list = ctx.state.pulls.filter((p) => p.repo === repo && (!head || p.head === head) && (ctx.query.get('state') === 'all' || p.state === 'open'));
    return { status: 200, body: list.map((p) => ({ number: p.number, html_url: `${htmlBase}/${repo}/pull/${p.number}`, state: p.state, head: { ref: p.head }, base: { ref: p.base } })) };
  },
  'pulls/get': (ctx) => {
    const p = ctx.state.pulls.find((x) => x.repo === repoOf(ctx.params) && x.number === Number(ctx.params.pull_number));
    if (!p) return notFound();
    return { status: 200, body: { number: p.number, state: p.state, title: p.title, head: { ref: p.head }, base: { ref: p.base } } };
  },
};
