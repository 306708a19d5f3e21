/**
 * Where the CLI finds a remote Wharf, like kubectl's contexts: WHARF_URL and WHARF_TOKEN (CI) first, then the
 * current context of the config file (`wharf login` writes it; WHARF_CONFIG, else $XDG_CONFIG_HOME/wharf/config.json,
 * else ~/.config/wharf/config.json; mode 600). No remote: the commands read the local store (`wharf up`).
 */
import { chmod, mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';

export interface Context {
  url: string;
  token: string;
  organization?: string;
}

export interface CliConfig {
  currentContext: string | null;
  contexts: Record<string, Context>;
}

export interface Remote extends Context {
  /** The context's name, or `env` for WHARF_URL. */
  name: string;
}

export function configPath(env: Record<string, string | undefined>): string | null {
  if (env.WHARF_CONFIG) return env.WHARF_CONFIG;
  const base = env.XDG_CONFIG_HOME ?? (env.HOME ? path.join(env.HOME, '.config') : undefined);
  return base ? path.join(base, 'wharf', 'config.json') : null;
}

export async function readConfig(env: Record<string, string | undefined>): Promise<CliConfig> {
  const file = configPath(env);
  if (!file) return { currentContext: null, contexts: {} };
  try {
    const parsed = JSON.parse(await readFile(file, 'utf8')) as Partial<CliConfig>;
    return { currentContext: parsed.currentContext ?? null, contexts: parsed.contexts ?? {} };
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return { currentContext: null, contexts: {} };
    throw new Error(`cannot read ${file}: ${(err as Error).message}`);
  }
}

export async function writeConfig(env: Record<string, string | undefined>, config: CliConfig): Promise<string> {
  const file = configPath(env);
  if (!file) throw new Error('no place for the config file: set HOME or WHARF_CONFIG');
  await mkdir(path.dirname(file), { recursive: true, mode: 0o700 });
  const tmp = `${file}.${process.pid}.tmp`;
  await writeFile(tmp, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 });
  await chmod(tmp, 0o600);
  await rename(tmp, file);
  return file;
}

/** The remote Wharf this command talks to, or null for the local one. `context` names one explicitly. */
export async function findRemote(env: Record<string, string | undefined>, context?: string): Promise<Remote | null> {
  if (!context && env.WHARF_URL) {
    if (!env.WHARF_TOKEN) throw new Error('WHARF_URL is set but WHARF_TOKEN is not: set it to an API key (wharf_…)');
    return { name: 'env', url: env.WHARF_URL.replace(/\/$/, ''), token: env.WHARF_TOKEN, ...(env.WHARF_ORGANIZATION ? { organization: env.WHARF_ORGANIZATION } : {}) };
  }
  const config = await readConfig(env);
  const name = context ?? config.currentContext;
  if (!name || name === 'local') return null;
  const found = config.contexts[name];
  if (!found) throw new Error(`no context named ${name}: see \`wharf context\``);
  return { name, ...found };
}
