/**
 * The container images, as far as they can be proven without a Docker engine (there is none here): both Dockerfiles
 * lint clean (dockerfile-utils, the linter of VS Code's Docker extension), are multi-stage, pin their base image, run
 * as a numeric non-root user, and copy only paths that exist; and their commands run: the runtime image's entry
 * point, laid out as its last stage lays it out, serves an app with the arguments the operator gives its
 * Deployment (and its readiness check refuses another digest); the operator's bundle, built as the control-plane
 * image builds it, runs with the chart's command.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { copyFile, mkdir, readFile, symlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { RUNTIME_EXPECT_DIGEST_HEADER, RUNTIME_HEALTH_PATH } from '@wharf/contracts';
import { ensureRuntimeBundle } from '@wharf/runtime';
import { REPO_ROOT, tempDir, waitFor } from '@wharf/testkit';
import { validate, ValidationSeverity } from 'dockerfile-utils';
import t from 'tap';
import { desiredChildren } from '../src/index.js';
import { buildOperatorBundle } from '../src/operator/bundle.js';
import { CHILDREN_CONFIG, specFor, startKube } from './kube-helpers.js';

const DOCKERFILES = ['docker/runtime.Dockerfile', 'docker/control-plane.Dockerfile'];

interface Instruction {
  keyword: string;
  args: string;
}

/** Instructions of a Dockerfile, continuation lines joined, comments dropped. */
function instructions(text: string): Instruction[] {
  return text
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l && !l.startsWith('#'))
    .map((l) => {
      const [keyword, ...rest] = l.split(/\s+/);
      return { keyword: keyword!.toUpperCase(), args: rest.join(' ') };
    });
}

const lastStage = (ins: Instruction[]) => ins.slice(ins.map((i) => i.keyword).lastIndexOf('FROM'));
const execForm = (i: Instruction | undefined) => (i ? (JSON.parse(i.args) as string[]) : []);

for (const file of DOCKERFILES) {
  t.test(`${file}: lints clean, multi-stage, pinned, non-root, exec form, copies what exists`, async (t) => {
    const text = await readFile(path.join(REPO_ROOT, file), 'utf8');
    const problems = validate(text).filter((d) => d.severity === ValidationSeverity.ERROR || d.severity === ValidationSeverity.WARNING);
    t.same(problems.map((d) => `${d.range.start.line + 1}: ${d.message}`), [], 'dockerfile-utils finds nothing');
    const ins = instructions(text);
    const froms = ins.filter((i) => i.keyword === 'FROM');
    t.ok(froms.length >= 2, 'multi-stage');
    const base = /^ARG NODE_IMAGE=(\S+)$/m.exec(text)?.[1];
    t.match(base, /^node:\d+\.\d+\.\d+-bookworm-slim$/, 'a pinned, slim base image');
    const final = lastStage(ins);
    const user = final.find((i) => i.keyword === 'USER')?.args ?? '';
    t.match(user, /^[1-9]\d*:[1-9]\d*$/, 'runs as a numeric non-root user (runAsNonRoot can check it)');
    t.ok(execForm(final.find((i) => i.keyword === 'ENTRYPOINT')).length > 0, 'ENTRYPOINT in exec form');
    t.notOk(ins.some((i) => i.keyword === 'ADD'), 'no ADD (no remote downloads)');
    for (const copy of ins.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='))) {
      const parts = copy.args.split(/\s+/).filter((p) => !p.startsWith('--'));
      for (const src of parts.slice(0, -1)) t.ok(existsSync(path.join(REPO_ROOT, src)), `COPY ${src} exists`);
    }
    const workspaces = (JSON.parse(await readFile(path.join(REPO_ROOT, 'package.json'), 'utf8')) as { workspaces: string[] }).workspaces;
    for (const w of workspaces) t.match(text, `COPY ${w}/package.json ${w}/`, `npm ci sees workspace ${w}`);
    const ignore = await readFile(path.join(REPO_ROOT, '.dockerignore'), 'utf8');
    t.match(ignore, /\*\*\/node_modules/, '.dockerignore keeps the local node_modules out');
  });
}

t.test("the runtime image's entry point serves an app with the operator's arguments; readiness refuses another digest", async (t) => {
  const text = await readFile(path.join(REPO_ROOT, 'docker/runtime.Dockerfile'), 'utf8');
  const entrypoint = execForm(lastStage(instructions(text)).find((i) => i.keyword === 'ENTRYPOINT'));
  t.equal(entrypoint[0], 'node');
  // The last stage's layout: /app/wharf-runtime.mjs (the bundle stage 1 builds) and /app/node_modules.
  const root = await tempDir(t);
  const app = path.join(root, 'app');
  await mkdir(app);
  await copyFile(await ensureRuntimeBundle(), path.join(app, 'wharf-runtime.mjs'));
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(app, 'node_modules'));

  const hello = await readFile(path.join(REPO_ROOT, 'examples/hello-api/workflow.yaml'), 'utf8');
  const spec = specFor('hello-api', 'production', 'v1', { files: [{ path: 'workflow.yaml', content: hello }] });
  const children = desiredChildren(
    { apiVersion: 'wharf.dev/v1alpha1', kind: 'WorkflowApp', metadata: { name: 'hello', namespace: 'wharf-t1', uid: 'u1', generation: 1 }, spec },
    CHILDREN_CONFIG,
  );
  const pod = (children.deployment.spec as { template: { spec: { containers: { args: string[]; env: { name: string; value?: string }[] }[]; volumes: { name: string; configMap?: { items: { key: string; path: string }[] } }[] } } }).template.spec;
  const container = pod.containers[0]!;
  // The ConfigMap's files where the volume puts them, the data volume, and the mount paths mapped onto them.
  const configDir = path.join(root, 'config');
  const dataDir = path.join(root, 'data');
  await mkdir(dataDir);
  const data = children.configMap.data as Record<string, string>;
  for (const item of pod.volumes.find((v) => v.name === 'config')!.configMap!.items) {
    await mkdir(path.dirname(path.join(configDir, item.path)), { recursive: true });
    await writeFile(path.join(configDir, item.path), data[item.key]!);
  }
  const args = container.args.map((a) => a.replace('/etc/wharf/config', configDir).replace('/var/lib/wharf/data', dataDir)).map((a, i, all) => (all[i - 1] === '--port' ? '0' : a));
  t.same(args.slice(args.indexOf('--host'), args.indexOf('--host') + 2), ['--host', '0.0.0.0'], 'it listens beyond loopback, as a container must');
  const env = Object.fromEntries(container.env.map((e) => [e.name, e.value ?? '']));
  const child = spawn(entrypoint[0]!, [...entrypoint.slice(1).map((a) => a.replace('/app/', `${app}/`)), ...args], { env: { PATH: process.env.PATH, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const port = await waitFor('the listening line', async () => /listening http:\/\/[^:]+:(\d+)/.exec(out)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(err)) : undefined), 30_000);
  const base = `http://127.0.0.1:${port}`;
  const ok = await fetch(`${base}${RUNTIME_HEALTH_PATH}`, { headers: { [RUNTIME_EXPECT_DIGEST_HEADER]: spec.version.digest } });
  t.equal(ok.status, 200, 'ready with the digest the probe expects');
  t.match(await ok.json(), { status: 'ok', digest: spec.version.digest });
  const wrong = await fetch(`${base}${RUNTIME_HEALTH_PATH}`, { headers: { [RUNTIME_EXPECT_DIGEST_HEADER]: 'sha256:other' } });
  t.equal(wrong.status, 503, 'not ready when serving another digest');
  t.match(await (await fetch(`${base}/hello`)).text(), /Hello from Wharf/, 'the app answers');
  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0, 'stops cleanly on SIGTERM');
});

t.test("the control-plane image runs the operator as the chart starts it: the bundle its first stage builds, with plain node", async (t) => {
  const text = await readFile(path.join(REPO_ROOT, 'docker/control-plane.Dockerfile'), 'utf8');
  const ins = instructions(text);
  const final = lastStage(ins);
  t.same(execForm(final.find((i) => i.keyword === 'ENTRYPOINT')), ['node', '--import', 'tsx'], 'the server and the reconciler run their sources through tsx');
  const chart = await readFile(path.join(REPO_ROOT, 'charts/wharf/templates/operator.yaml'), 'utf8');
  const command = JSON.parse(/command: (\[.*\])/.exec(chart)![1]!) as string[];
  t.equal(command[0], 'node', 'the chart overrides the entry point: no TypeScript loader');
  t.notOk(command.includes('--import'), 'no loader flag');
  const bundlePath = command[1]!;
  t.ok(
    final.some((i) => i.keyword === 'COPY' && i.args.includes('--from=bundle') && i.args.endsWith(` ${bundlePath}`)),
    `the final stage copies ${bundlePath} from the bundle stage`,
  );
  t.ok(ins.some((i) => i.keyword === 'RUN' && i.args.includes('reconciler/src/operator/bundle.ts')), 'the bundle stage builds it with the repository\'s bundler');
  // The bundle stage's step, laid out as WORKDIR /app has it: a directory holding only the bundle and node_modules, so
  // nothing the bundle needs may come from the repository's sources.
  const app = await tempDir(t);
  await buildOperatorBundle(path.join(app, bundlePath));
  await symlink(path.join(REPO_ROOT, 'node_modules'), path.join(app, 'node_modules'));
  const args = command.slice(1);
  const { fake, kubeconfig } = await startKube(t, { namespaces: ['default', 'wharf-system'] });
  // In-cluster credentials become the fake's kubeconfig.
  const child = spawn(command[0]!, args, {
    cwd: app,
    env: { PATH: process.env.PATH, WHARF_KUBECONFIG: kubeconfig, WHARF_OPERATOR_HOST: '127.0.0.1', WHARF_OPERATOR_PORT: '0', WHARF_OPERATOR_LEASE_NAMESPACE: 'wharf-system', WHARF_OPERATOR_ID: 'wharf-operator-0' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.teardown(() => child.kill('SIGKILL'));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString()));
  let err = '';
  child.stderr.on('data', (c: Buffer) => (err += c.toString()));
  const health = await waitFor('operator running', async () => /"health":"(http:[^"]+)"/.exec(out)?.[1] ?? (child.exitCode !== null ? Promise.reject(new Error(err)) : undefined), 60_000);
  t.equal((await fetch(`${health}/healthz`)).status, 200);
  await waitFor('the Lease', async () => fake.get('coordination.k8s.io/v1', 'Lease', 'wharf-system', 'wharf-operator'));
  t.match(fake.get('coordination.k8s.io/v1', 'Lease', 'wharf-system', 'wharf-operator')!.spec, { holderIdentity: 'wharf-operator-0' });
  await waitFor('ready', async () => (await fetch(`${health}/readyz`)).status === 200);
  child.kill('SIGTERM');
  t.equal(await new Promise((r) => child.once('exit', r)), 0, 'stops on SIGTERM');
  t.match(fake.get('coordination.k8s.io/v1', 'Lease', 'wharf-system', 'wharf-operator')!.spec, { holderIdentity: '' }, 'and releases the Lease');
});
