/**
 * The runtime contract: what every target (local processes, the Kubernetes operator's Deployment, a pull
 * agent's systemd unit) hands a Workflow runtime and asks of it. Imported by the reference runtime through the
 * dependency-free subpath `@wharf/contracts/runtime-protocol`, so the runtime bundle stays small: this file
 * imports nothing.
 */

/**
 * Wharf's own health and digest check. Reserved: apps keep `/healthz` and every other path for themselves.
 * Answers `{"status":"ok","digest":"…"}` with 200 once the config is served.
 */
export const RUNTIME_HEALTH_PATH = '/.wharf/healthz' as const;

/**
 * Request header of a health check that wants one digest (the Kubernetes readiness probe sends it): the runtime
 * answers RUNTIME_HEALTH_PATH with 503 when it serves another digest. A runtime that ignores it still answers 200.
 */
export const RUNTIME_EXPECT_DIGEST_HEADER = 'x-wharf-expect-digest' as const;

/** Every path under this prefix belongs to Wharf, never to an app's routes. */
export const RUNTIME_RESERVED_PREFIX = '/.wharf/' as const;

/** Flags a target appends to the runtime command line (the runtime also reads the env fallbacks). */
export const RUNTIME_FLAGS = {
  /** Workflow config file; repeatable. */
  config: '--config',
  /** Port to listen on; 0 picks a free one (the runtime prints `listening http://HOST:PORT`). */
  port: '--port',
  /** Interface to bind. Targets always pass one; the runtime's own default is 127.0.0.1, never all interfaces. */
  host: '--host',
  /** The environment's stable data directory (SQLite files, uploads): kept across rollouts and restarts. */
  dataDir: '--data-dir',
  /** The digest the runtime reports on RUNTIME_HEALTH_PATH. */
  digest: '--digest',
  /** The environment's config directory: config files and config-relative paths stay inside it. */
  configRoot: '--config-root',
  /** A host (`host` or `host:port`) the config may connect to; repeatable. Nothing else is reachable. */
  allowHost: '--allow-host',
  /**
   * How long a runtime that reports `stateful` waits for the previous runtime to release the data dir (a duration such
   * as `15000ms`): a target may start the next version while the old one drains, and the new one takes over the data
   * dir the moment the old one exits.
   */
  dataDirWait: '--data-dir-wait',
} as const;

/**
 * Environment variables an app may not set for its runtime: they change how the runtime process itself starts
 * (load code, preload libraries, open a debugger, lift a memory limit, pick another program) rather than what the
 * app reads. `NODE_OPTIONS=--import=data:…` would run any code inside the runtime; `LD_PRELOAD` any library;
 * `BASH_ENV` makes a shell-script runtime source a file. Targets refuse a WorkflowApp that sets one.
 */
const RESERVED_ENV_PREFIXES = ['LD_', 'DYLD_', 'NODE_', 'UV_', 'PYTHON', 'PERL5', 'RUBY', 'JAVA_', '_JAVA_', 'JDK_', 'BASH_FUNC_'] as const;
const RESERVED_ENV_NAMES = new Set(['PATH', 'BASH_ENV', 'ENV', 'SHELLOPTS', 'BASHOPTS', 'PS4', 'IFS', 'GOMEMLIMIT', 'GOGC', 'GODEBUG', 'GOMAXPROCS', 'GOTRACEBACK', 'GOFLAGS', 'PORT']);

/** Harmless names under a reserved prefix: read by libraries, never by the process loader. */
const ALLOWED_ENV_NAMES = new Set(['NODE_ENV']);

export function isReservedRuntimeEnvVar(name: string): boolean {
  const upper = name.toUpperCase();
  if (ALLOWED_ENV_NAMES.has(upper)) return false;
  return RESERVED_ENV_NAMES.has(upper) || RESERVED_ENV_PREFIXES.some((p) => upper.startsWith(p)) || upper.startsWith('WHARF_');
}

/** The line a runtime prints on stdout once it accepts requests. */
export const RUNTIME_LISTENING_PREFIX = 'listening ' as const;
