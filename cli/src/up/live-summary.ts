import path from 'node:path';
import { type DatabasePool, environmentViews } from '@wharf/store';
import { environmentState, formatState } from '@wharf/contracts';
import { friendlyLabel } from '@wharf/reconciler';

export interface LiveSummary {
  /** Prints the table now if it changed since the last print. */
  refresh(): Promise<void>;
  close(): void;
}

/**
 * The path-style URL of an environment on the router: `/<app>/<env>/` for the local owner's friendly host
 * (`<env>--<app>.localhost`), `/<label>/` for every other.
 */
export function routerPathUrl(routerUrl: string, e: { app: string; name: string; url: string | null }): string {
  const label = e.url ? new URL(e.url).hostname.replace(/\.localhost$/, '') : null;
  if (!label || label === friendlyLabel(e.app, e.name)) return `${routerUrl}/${e.app}/${e.name}/`;
  return `${routerUrl}/${label}/`;
}

/**
 * The short live view `wharf up` keeps printing: each environment with its version, state and URL, reprinted
 * whenever any of it changes (checked every `intervalMs`, and on demand).
 */
export function startLiveSummary(options: {
  pool: DatabasePool;
  tenantId: number;
  repoPath: string;
  cwd: string;
  routerUrl: string;
  print: (text: string) => void;
  intervalMs?: number;
}): LiveSummary {
  let last = '';
  let busy = false;
  let hintShown = false;
  const refresh = async () => {
    if (busy) return;
    busy = true;
    try {
      const rows = await environmentViews.listEnvironments(options.pool, { tenantId: options.tenantId });
      const lines = rows.map((e) => {
        const s = environmentState({ conditions: e.conditions, suspended: e.suspended, deletionRequested: e.deletion_requested });
        const state = formatState(s);
        const message = s.message;
        const sha = (e.observed_sha ?? e.desired_sha ?? '').slice(0, 7) || '-';
        // The local router serves only the local target's environments (an agent's answer on its guest).
        const pathUrl = e.target === 'local' ? routerPathUrl(options.routerUrl, e) : null;
        const detail = message && s.state !== 'Ready' ? `\n      ${message.split('\n')[0]}` : '';
        return `  ${e.app.padEnd(12)} ${e.name.padEnd(22)} ${sha.padEnd(8)} ${state.padEnd(12)} ${e.url ?? pathUrl ?? '-'}${e.url && pathUrl ? `  (or ${pathUrl})` : ''}${detail}`;
      });
      const text = lines.length
        ? `  ${'APP'.padEnd(12)} ${'ENV'.padEnd(22)} ${'VERSION'.padEnd(8)} ${'STATE'.padEnd(12)} URL\n${lines.join('\n')}`
        : '  (no environments yet: waiting for the first version)';
      if (text === last) return;
      last = text;
      const stamp = new Date().toISOString().slice(11, 19);
      options.print(`\n[${stamp}] environments\n${text}\n`);
      if (!hintShown && rows.length > 0) {
        hintShown = true;
        const rel = path.relative(options.cwd, options.repoPath) || '.';
        options.print(
          `\nTry it: cd ${rel} && git checkout -b try && $EDITOR workflow.yaml && git commit -am "try a change"\n` +
            '        a preview environment for the branch appears here; merge it into main to deploy production.\n',
        );
      }
    } finally {
      busy = false;
    }
  };
  const timer = setInterval(() => void refresh().catch(() => undefined), options.intervalMs ?? 500);
  timer.unref();
  return { refresh, close: () => clearInterval(timer) };
}
