import { parseArgs } from 'node:util';
import { RUNTIME_FLAGS } from '@wharf/contracts/runtime-protocol';
import { parseDuration } from './config/parse-duration.js';
import { DEFAULT_LIMITS, type RuntimeLimits } from './limits.js';

export type RuntimeArgs = {
  readonly configFiles: string[];
  /** Directory every config-relative path must stay inside; default: the config files' common directory. */
  readonly configRoot: string | null;
  readonly port: number | undefined;
  readonly host: string | undefined;
  readonly dataDir: string | null;
  readonly digest: string;
  readonly logLevel: string;
  /** Hosts (`host` or `host:port`) a config may connect to; nothing else is reachable. */
  readonly allowHosts: string[];
  readonly limits: RuntimeLimits;
  /** How long to wait for another runtime to release the data dir before refusing to start. */
  readonly dataDirWaitMs: number;
};

export const USAGE =
  'usage: wharf-runtime --config FILE [--config FILE…] [--config-root DIR] [--port N] [--host H] [--data-dir DIR] [--digest D] [--log-level L]\n' +
  '       [--allow-host HOST[:PORT]…] [--max-body-bytes N] [--pipeline-timeout 30s] [--stall-timeout 60s] [--data-dir-wait 3s]';

const flag = (f: string) => f.replace(/^--/, '');

function duration(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === null || ms < 0) throw new Error(`bad --${name} "${text}" (a duration such as 30s, 500ms, 2m)\n${USAGE}`);
  return ms;
}

function positiveInt(name: string, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n <= 0) throw new Error(`bad --${name} "${text}" (a positive integer)\n${USAGE}`);
  return n;
}

/**
 * Reads flags. PORT, WHARF_DIGEST and LOG_LEVEL are fallbacks; everything that widens what a config may reach (the
 * data dir it writes in, the host, allowed hosts, limits, the config root) is a flag only, because an app's own
 * environment variables (which a target passes through) must not loosen them; `WHARF_DATA_DIR` is also Wharf's own
 * data dir setting. Throws with usage on bad input.
 */
export function parseRuntimeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): RuntimeArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      [flag(RUNTIME_FLAGS.config)]: { type: 'string', multiple: true, short: 'c' },
      'config-root': { type: 'string' },
      [flag(RUNTIME_FLAGS.port)]: { type: 'string', short: 'p' },
      [flag(RUNTIME_FLAGS.host)]: { type: 'string' },
      [flag(RUNTIME_FLAGS.dataDir)]: { type: 'string' },
      [flag(RUNTIME_FLAGS.digest)]: { type: 'string' },
      'log-level': { type: 'string' },
      'allow-host': { type: 'string', multiple: true },
      'max-body-bytes': { type: 'string' },
      'pipeline-timeout': { type: 'string' },
      'stall-timeout': { type: 'string' },
      'data-dir-wait': { type: 'string' },
    },
  });
  const str = (name: string): string | undefined => {
    const v = values[name];
    return typeof v === 'string' ? v : undefined;
  };
  const list = (name: string): string[] => {
    const v = values[name];
    return (Array.isArray(v) ? v : []).flatMap((x) => String(x).split(',')).map((x) => x.trim()).filter(Boolean);
  };
  const configFiles = [...list(flag(RUNTIME_FLAGS.config)), ...positionals].filter(Boolean);
  if (!configFiles.length) throw new Error(`no --config given\n${USAGE}`);
  const portText = str(flag(RUNTIME_FLAGS.port)) ?? env.PORT;
  const port = portText === undefined || portText === '' ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new Error(`bad port "${portText}"\n${USAGE}`);
  const pipelineTimeoutMs = duration('pipeline-timeout', str('pipeline-timeout'), DEFAULT_LIMITS.pipelineTimeoutMs);
  const stallTimeoutMs = duration('stall-timeout', str('stall-timeout'), DEFAULT_LIMITS.stallTimeoutMs);
  if (pipelineTimeoutMs <= 0) throw new Error(`--pipeline-timeout must be above zero\n${USAGE}`);
  return {
    configFiles,
    configRoot: str('config-root') ?? null,
    port,
    host: str(flag(RUNTIME_FLAGS.host)),
    dataDir: str(flag(RUNTIME_FLAGS.dataDir)) ?? null,
    digest: str(flag(RUNTIME_FLAGS.digest)) ?? env.WHARF_DIGEST ?? '',
    logLevel: str('log-level') ?? env.LOG_LEVEL ?? 'info',
    allowHosts: list('allow-host'),
    limits: {
      ...DEFAULT_LIMITS,
      maxBodyBytes: positiveInt('max-body-bytes', str('max-body-bytes'), DEFAULT_LIMITS.maxBodyBytes),
      pipelineTimeoutMs,
      stallTimeoutMs,
    },
    dataDirWaitMs: duration('data-dir-wait', str('data-dir-wait'), 3_000),
  };
}
