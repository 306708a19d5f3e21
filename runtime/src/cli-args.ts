import { parseArgs } from 'node:util';

export type RuntimeArgs = {
  readonly configFiles: string[];
  readonly port: number | undefined;
  readonly host: string | undefined;
  readonly dataDir: string | null;
  readonly digest: string;
  readonly logLevel: string;
};

export const USAGE = 'usage: wharf-runtime --config FILE [--config FILE…] [--port N] [--host H] [--data-dir DIR] [--digest D] [--log-level L]';

/** Reads flags, with PORT, WHARF_DIGEST, WHARF_DATA_DIR and LOG_LEVEL as fallbacks; throws with usage on bad input. */
export function parseRuntimeArgs(argv: readonly string[], env: Readonly<Record<string, string | undefined>>): RuntimeArgs {
  const { values, positionals } = parseArgs({
    args: [...argv],
    allowPositionals: true,
    options: {
      config: { type: 'string', multiple: true, short: 'c' },
      port: { type: 'string', short: 'p' },
      host: { type: 'string' },
      'data-dir': { type: 'string' },
      digest: { type: 'string' },
      'log-level': { type: 'string' },
    },
  });
  const configFiles = [...(values.config ?? []).flatMap((c) => c.split(',')), ...positionals].filter(Boolean);
  if (!configFiles.length) throw new Error(`no --config given\n${USAGE}`);
  const portText = values.port ?? env.PORT;
  const port = portText === undefined || portText === '' ? undefined : Number(portText);
  if (port !== undefined && (!Number.isInteger(port) || port < 0 || port > 65535)) throw new Error(`bad port "${portText}"\n${USAGE}`);
  return {
    configFiles,
    port,
    host: values.host ?? env.HOST,
    dataDir: values['data-dir'] ?? env.WHARF_DATA_DIR ?? null,
    digest: values.digest ?? env.WHARF_DIGEST ?? '',
    logLevel: values['log-level'] ?? env.LOG_LEVEL ?? 'info',
  };
}
