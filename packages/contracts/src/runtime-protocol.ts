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
} as const;

/** The line a runtime prints on stdout once it accepts requests. */
export const RUNTIME_LISTENING_PREFIX = 'listening ' as const;
