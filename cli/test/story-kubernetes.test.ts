/**
 * The Kubernetes story, with real processes: `wharf up` with the GitHub App and WHARF_KUBECONFIG, `wharf operator`,
 * the strict fake GitHub, a real Git remote over smart HTTP, the strict fake Kubernetes API server. An app whose
 * manifest says `target: kubernetes` is pushed: its WorkflowApp appears with the right spec, the operator creates the
 * children with owner references, the fake marks the Deployment available, Ready flows back to Wharf (`wharf status`,
 * the GitHub deployment). A revert rolls back by applying the earlier digest. A pull request's preview runs as its
 * own WorkflowApp; closing it and deleting its branch deletes the WorkflowApp and, through garbage collection, its
 * children.
 */
import { execFile } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { chmod, cp, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import {
  createTestDatabase,
  installationPayload,
  publishPullHead,
  pullRequestPayload,
  pushPayload,
  REPO_ROOT,
  type RepoRef,
  signedDelivery,
  startFakeGitHub,
  startFakeKubernetes,
  startGitHttpServer,
  startWharf,
  TSX_LOADER,
  WHARF_BIN,
} from '@wharf/testkit';
import t from 'tap';

// Four processes (wharf up, wharf operator, the fake API server, runtimes) and real kubectl: up to 110 s on a loaded
// 2-core machine, so this file gets more than the suite's 120 s.
t.setTimeout(300_000);

const run = promisify(execFile);
const SECRET = 'story-webhook-secret';
const APP_ID = 778;
const INSTALLATION = 9002;
const REPO: RepoRef = { fullName: 'acme/shop', installationId: INSTALLATION, defaultBranch: 'main' };
const WA = ['wharf.dev/v1alpha1', 'WorkflowApp'] as const;

t.test('target: kubernetes: WorkflowApp, operator, Ready back to Wharf and GitHub, rollback by digest, preview deleted with its children', async (t) => {
  const db = await createTestDatabase(t);
  const { privateKey, publicKey } = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });
  const github = await startFakeGitHub({ appId: APP_ID, publicKey, installations: [{ id: INSTALLATION, account: 'acme', repositories: [REPO.fullName] }] });
  t.teardown(() => github.close());
  const kube = await startFakeKubernetes({ crdFiles: [path.join(REPO_ROOT, 'crds/workflowapps.wharf.dev.yaml')], namespaces: ['default', 'wharf-system'] });
  t.teardown(() => kube.close());

  const dir = await mkdtemp(path.join(tmpdir(), 'wharf-story-k8s-'));
  await chmod(dir, 0o755);
  const kubeconfig = await kube.writeKubeconfig(path.join(dir, 'kubeconfig'));
  const remotes = path.join(dir, 'remotes');
  const work = path.join(dir, 'work');
  await mkdir(path.join(remotes, 'acme'), { recursive: true });
  const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 'Ada', GIT_AUTHOR_EMAIL: 'ada@example.test', GIT_COMMITTER_NAME: 'Ada', GIT_COMMITTER_EMAIL: 'ada@example.test' };
  const git = async (cwd: string, ...args: string[]) => (await run('git', args, { cwd, env: gitEnv })).stdout.trim();
  await git(path.join(remotes, 'acme'), 'init', '-q', '--bare', '-b', 'main', 'shop.git');
  await git(dir, 'clone', '-q', path.join(remotes, 'acme', 'shop.git'), 'work');
  await git(work, 'checkout', '-q', '-b', 'main');
  await cp(path.join(REPO_ROOT, 'examples/hello-api/workflow.yaml'), path.join(work, 'workflow.yaml'));
  await writeFile(path.join(work, 'wharf.yaml'), 'productionBranch: main\napps:\n  - name: shop\n    files: [workflow.yaml]\n    target: kubernetes\n    replicas: 2\n');
  const gitServer = await startGitHttpServer(remotes);
  t.teardown(() => gitServer.close());
  const push = async (branch: string) => {
    await git(work, 'push', '-q', '--force', 'origin', branch);
    const sha = await git(work, 'rev-parse', 'HEAD');
    github.state.refs.set(`${REPO.fullName}:refs/heads/${branch}`, sha);
    const parents = (await git(work, 'rev-list', '--parents', '-n', '1', 'HEAD')).split(' ').slice(1);
    github.state.addCommit(REPO.fullName, { sha, tree: await git(work, 'rev-parse', 'HEAD^{tree}'), parents, message: await git(work, 'log', '-1', '--format=%s') });
    return sha;
  };
  const commit = async (branch: string, message: string, edit: (text: string) => string) => {
    const file = path.join(work, 'workflow.yaml');
    await writeFile(file, edit(await readFile(file, 'utf8')));
    await git(work, 'commit', '-qam', message);
    return push(branch);
  };
  await git(work, 'add', '-A');
  await git(work, 'commit', '-qm', 'First version');
  const base = await push('main');

  const wharf = startWharf(['up'], {
    cwd: dir,
    env: {
      DATABASE_URL: db.url,
      WHARF_PORT: '0',
      WHARF_ROUTER_PORT: '0',
      WHARF_DATA_DIR: path.join(dir, '.wharf'),
      GITHUB_APP_ID: String(APP_ID),
      GITHUB_PRIVATE_KEY: privateKey,
      GITHUB_WEBHOOK_SECRET: SECRET,
      GITHUB_API_URL: github.url,
      GITHUB_GIT_URL: gitServer.url,
      WHARF_PUBLIC_URL: 'https://wharf.example.test',
      WHARF_KUBECONFIG: kubeconfig,
      WHARF_KUBERNETES_BASE_DOMAIN: 'apps.example.test',
    },
  });
  const operator = startWharf(['operator'], {
    cwd: dir,
    env: { WHARF_KUBECONFIG: kubeconfig, WHARF_OPERATOR_HOST: '127.0.0.1', WHARF_OPERATOR_PORT: '0', WHARF_OPERATOR_LEASE_NAMESPACE: 'wharf-system', WHARF_OPERATOR_LEASE_SECONDS: '10' },
  });
  t.teardown(async () => {
    for (const p of [wharf, operator]) p.child.kill('SIGTERM');
    await Promise.all([wharf.exited, operator.exited]);
    await rm(dir, { recursive: true, force: true });
  });
  const [, url] = await wharf.waitFor(/Wharf is up at (http:\/\/\S+)/, 60_000);
  await operator.waitFor(/operator running/, 60_000);
  const deliver = async (event: string, payload: unknown) => {
    const d = signedDelivery(SECRET, event, payload);
    const res = await fetch(`${url}/api/github/webhooks`, { method: 'POST', headers: d.headers, body: d.body });
    t.equal(res.status, 202, `${event} delivery stored and acknowledged`);
  };
  const eventually = async <T>(what: string, check: () => T | undefined | false | Promise<T | undefined | false>): Promise<T> => {
    const until = Date.now() + 60_000;
    while (Date.now() < until) {
      const v = await check();
      if (v !== undefined && v !== false) {
        t.pass(what);
        return v;
      }
      await new Promise((r) => setTimeout(r, 100));
    }
    t.fail(`${what}: not within 60 s\nwharf: ${wharf.output().slice(-1500)}\noperator: ${operator.output().slice(-1500)}`);
    throw new Error(what);
  };
  const workflowApp = (env: string) => kube.list(...WA).find((w) => w.metadata.labels?.['wharf.dev/app'] === 'shop' && w.metadata.labels?.['wharf.dev/environment'] === env);
  const lastStatus = (environment: string) => github.state.deploymentsFor(REPO.fullName, environment).at(-1)?.statuses.at(-1);
  /** The kubelet's part: once the operator's Deployment runs this WorkflowApp's digest, its pods are ready. */
  const podsReady = async (env: string, digest: string) => {
    const wa = await eventually(`the WorkflowApp of ${env} asks for ${digest.slice(7, 19)}`, () => {
      const w = workflowApp(env);
      return (w?.spec as { version: { digest: string } } | undefined)?.version.digest === digest && w;
    });
    await eventually(`the Deployment of ${env} runs ${digest.slice(7, 19)}`, () => {
      const d = kube.get('apps/v1', 'Deployment', wa.metadata.namespace, wa.metadata.name);
      return (d?.spec as { template: { metadata: { annotations: Record<string, string> } } } | undefined)?.template.metadata.annotations['wharf.dev/digest'] === digest;
    });
    kube.markDeploymentAvailable(wa.metadata.namespace!, wa.metadata.name);
    return wa;
  };
  const wharfStatus = async () => {
    const { stdout } = await run(process.execPath, ['--import', TSX_LOADER, WHARF_BIN, 'status'], { cwd: dir, env: { ...process.env, NODE_OPTIONS: '', DATABASE_URL: db.url } }).catch((err: { stdout: string; stderr: string }) => ({
      stdout: `${err.stdout}${err.stderr}`,
    }));
    return stdout;
  };

  await deliver('installation', installationPayload({ action: 'created', installationId: INSTALLATION, account: 'acme', repositories: [REPO.fullName] }));
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: '0'.repeat(40), after: base }));

  // The WorkflowApp appears with the right spec.
  const first = await eventually('the production WorkflowApp appears', () => workflowApp('production'));
  const spec = first.spec as { app: string; environment: string; version: { sha: string; digest: string }; replicas: number; files: { path: string; content: string }[] };
  t.match(spec, { app: 'shop', environment: 'production', version: { sha: base }, replicas: 2, files: [{ path: 'workflow.yaml', content: /Hello from Wharf/ }] });
  t.match(first.metadata.namespace, /^wharf-t\d+$/, 'in the tenant namespace');
  const firstDigest = spec.version.digest;

  // The operator makes its children, owned by it.
  await podsReady('production', firstDigest);
  const owned = (kind: string, apiVersion: string) => kube.list(apiVersion, kind, first.metadata.namespace).filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === first.metadata.uid && r.controller));
  t.equal(owned('Deployment', 'apps/v1').length, 1, 'a Deployment owned by the WorkflowApp');
  t.equal(owned('Service', 'v1').length, 1, 'a Service');
  t.equal(owned('ConfigMap', 'v1').length, 1, 'a ConfigMap of the files');
  await eventually('an Ingress for its URL', () => owned('Ingress', 'networking.k8s.io/v1').length === 1);

  // Status flows back: GitHub's deployment succeeds with the URL, `wharf status` says Ready.
  await eventually('the GitHub deployment of production succeeds', () => lastStatus('production')?.state === 'success');
  t.match(lastStatus('production')?.environment_url ?? '', /^https:\/\/production--shop--t\d+\.apps\.example\.test\/$/);
  await eventually('wharf status: production Ready', async () => /shop\s+production\s+\S+\s+Ready/.test(await wharfStatus()));

  // A change, then its revert: the revert applies the earlier digest again, and GitHub hears it is a rollback.
  const changed = await commit('main', 'New greeting', (s) => s.replace('Hello from Wharf', 'Hello from Kubernetes'));
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: base, after: changed }));
  const second = await eventually('the WorkflowApp moves to the new digest', () => {
    const d = (workflowApp('production')?.spec as typeof spec | undefined)?.version.digest;
    return d !== firstDigest && d;
  });
  await podsReady('production', second);
  await eventually('the change deploys', () => github.state.deploymentsFor(REPO.fullName, 'production').at(-1)?.sha === changed && lastStatus('production')?.state === 'success');
  await git(work, 'revert', '--no-edit', 'HEAD');
  const reverted = await push('main');
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/main', before: changed, after: reverted }));
  await podsReady('production', firstDigest);
  t.pass('the revert applied the earlier digest');
  await eventually('GitHub hears the rollback succeed', () => {
    const d = github.state.deploymentsFor(REPO.fullName, 'production').at(-1);
    return d?.sha === reverted && d.statuses.at(-1)?.state === 'success' && (d.description ?? '').includes(`rollback to ${base.slice(0, 7)}`);
  });

  // A pull request preview is its own WorkflowApp; closing the PR and deleting the branch deletes it and its children.
  await git(work, 'checkout', '-q', '-b', 'feature-1');
  const head = await commit('feature-1', 'Preview greeting', (s) => s.replace('Hello from Wharf', 'Hello from PR 1'));
  // GitHub keeps every pull request's head at refs/pull/<n>/head; Wharf fetches it from there.
  await publishPullHead({ base: path.join(remotes, 'acme', 'shop.git'), fork: work, branch: 'feature-1', number: 1 });
  await deliver('pull_request', pullRequestPayload(REPO, { action: 'opened', number: 1, headSha: head, headRef: 'feature-1' }));
  const preview = await eventually('the preview WorkflowApp appears', () => workflowApp('pr-1'));
  await podsReady('pr-1', (preview.spec as typeof spec).version.digest);
  await eventually('the preview deployment succeeds', () => lastStatus('preview/pr-1')?.state === 'success');
  await deliver('pull_request', pullRequestPayload(REPO, { action: 'closed', number: 1, headSha: head, headRef: 'feature-1', merged: false }));
  await git(work, 'push', '-q', 'origin', '--delete', 'feature-1');
  github.state.refs.delete(`${REPO.fullName}:refs/heads/feature-1`);
  await deliver('push', pushPayload(REPO, { ref: 'refs/heads/feature-1', before: head, after: '0'.repeat(40) }));
  await eventually('the preview WorkflowApp is gone', () => !workflowApp('pr-1'));
  await kube.settle();
  const left = ['apps/v1/Deployment', 'v1/Service', 'v1/ConfigMap', 'networking.k8s.io/v1/Ingress'].flatMap((k) => {
    const kind = k.split('/').at(-1)!;
    return kube.list(k.slice(0, -kind.length - 1), kind, preview.metadata.namespace).filter((o) => o.metadata.ownerReferences?.some((r) => r.uid === preview.metadata.uid));
  });
  t.same(left.map((o) => o.metadata.name), [], 'its children were garbage-collected');
  await eventually('the preview deployment is inactive', () => lastStatus('preview/pr-1')?.state === 'inactive');
  t.ok(workflowApp('production'), 'production is untouched');
  t.same(github.problems, [], 'GitHub saw only requests it would accept');
  t.same(kube.problems, [], 'Kubernetes saw only requests it would accept');
});
