/**
 * The command line and environment a runtime starts with. Everything that bounds the runtime comes from Wharf's
 * settings, never from the app: the memory limit, the interface, the config root, the hosts it may reach.
 *
 * Memory: the reference runtime starts as `node --max-old-space-size=<MB> <bundle>`. A custom WHARF_RUNTIME_COMMAND
 * whose program is node gets the same flag after it; any other program gets `GOMEMLIMIT` (the upstream engine is
 * Go: a soft limit for its garbage collector) and `NODE_OPTIONS` (node scripts started through a shebang). Neither
 * is a hard limit of the process: that takes cgroups (the Kubernetes and agent targets).
 */
import path from 'node:path';
import { isReservedRuntimeEnvVar, REASONS, RUNTIME_FLAGS, type TargetEnvironment } from '@wharf/contracts';
import { StalledError } from '../../errors.js';

export const DEFAULT_RUNTIME_MEMORY_MB = 256;
const HEAP_FLAG = '--max-old-space-size';

export interface LaunchCommand {
  argv: string[];
  /** Environment variables every runtime of this command gets (the memory hints of a program that is not node). */
  env: Record<string, string>;
}

const isNode = (program: string) => program === process.execPath || /^(node|nodejs)(\d+)?$/.test(path.basename(program));

/** The reference runtime with its heap limit, or the operator's command with the limit applied where possible. */
export async function launchCommand(custom: readonly string[] | undefined, memoryMb: number): Promise<LaunchCommand> {
  if (custom?.length) {
    const [program = '', ...rest] = custom;
    if (isNode(program)) {
      return { argv: [program, `${HEAP_FLAG}=${memoryMb}`, ...rest.filter((a) => !a.startsWith(`${HEAP_FLAG}=`))], env: {} };
    }
    return { argv: [...custom], env: { GOMEMLIMIT: `${memoryMb}MiB`, NODE_OPTIONS: `${HEAP_FLAG}=${memoryMb}` } };
  }
  const specifier = '@wharf/runtime';
  const mod = (await import(specifier).catch(() => ({}))) as { RUNTIME_BIN?: string; runtimeLaunchCommand?: (o: { maxOldSpaceMb?: number }) => Promise<string[]> };
  // The bundled runtime starts with plain node, a second faster than through the TypeScript loader.
  if (mod.runtimeLaunchCommand) return { argv: await mod.runtimeLaunchCommand({ maxOldSpaceMb: memoryMb }), env: {} };
  if (!mod.RUNTIME_BIN) {
    throw new StalledError('no runtime command configured and @wharf/runtime does not export RUNTIME_BIN', { reason: REASONS.ApplyFailed });
  }
  return { argv: [process.execPath, `${HEAP_FLAG}=${memoryMb}`, '--import', import.meta.resolve('tsx'), mod.RUNTIME_BIN], env: {} };
}

export interface RuntimeArgsInput {
  configs: readonly string[];
  configDir: string;
  port: number;
  dataDir: string;
  digest: string;
  allowHosts: readonly string[];
}

/** The flags appended to the command: what the runtime serves, where, and what it may reach. */
export function runtimeArgs(o: RuntimeArgsInput): string[] {
  return [
    ...o.configs.flatMap((c) => [RUNTIME_FLAGS.config, c]),
    '--config-root',
    o.configDir,
    RUNTIME_FLAGS.host,
    '127.0.0.1',
    RUNTIME_FLAGS.port,
    String(o.port),
    RUNTIME_FLAGS.dataDir,
    o.dataDir,
    RUNTIME_FLAGS.digest,
    o.digest,
    ...o.allowHosts.flatMap((h) => ['--allow-host', h]),
  ];
}

/**
 * The runtime's environment: PATH and Wharf's base variables, the app's own variables (secrets resolved), then
 * Wharf's (`WHARF_APP`, `WHARF_ENVIRONMENT`, `WHARF_DIGEST`, `PORT`) and the command's memory hints. An app variable
 * that would change how the runtime process itself starts (`NODE_OPTIONS`, `LD_PRELOAD`, `PATH`, …) is refused: a
 * committed config must not load code into the runtime or lift its limits.
 */
export function runtimeEnv(
  env: TargetEnvironment,
  port: number,
  o: { baseEnv?: Record<string, string>; launchEnv: Record<string, string>; resolveSecret?(ref: { name: string; key: string }): string | undefined },
): Record<string, string> {
  const out: Record<string, string> = { PATH: '/usr/local/bin:/usr/bin:/bin', ...o.baseEnv };
  for (const v of env.spec.env ?? []) {
    if (isReservedRuntimeEnvVar(v.name)) {
      throw new StalledError(`env var ${v.name} is reserved: it would change how the runtime process starts; remove it from wharf.yaml`, {
        reason: REASONS.Forbidden,
      });
    }
    if (v.value !== undefined) out[v.name] = v.value;
    else if (v.secretRef) {
      const value = o.resolveSecret?.(v.secretRef);
      if (value === undefined) {
        throw new StalledError(`secret ${v.secretRef.name}/${v.secretRef.key} for ${v.name} is not available`, { reason: REASONS.SecretMissing });
      }
      out[v.name] = value;
    }
  }
  return { ...out, ...o.launchEnv, WHARF_APP: env.app, WHARF_ENVIRONMENT: env.name, WHARF_DIGEST: env.digest, PORT: String(port) };
}
