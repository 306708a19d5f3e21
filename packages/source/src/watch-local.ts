/**
 * Watches a working copy's refs with chokidar. Any event only means "the refs may have changed": `git pack-refs`
 * and `git gc` delete the ref files of live branches, so nothing is read from the event itself. Events are debounced,
 * then every ref is re-read; syncs never overlap (a change during a sync schedules one more).
 */
import path from 'node:path';
import chokidar from 'chokidar';
import type { Logger } from 'pino';

export interface LocalWatcher {
  /** Resolves once the current sync (if any) has finished; further events are ignored. */
  close(): Promise<void>;
  /** Resolves when no sync is running or scheduled (tests, shutdown). */
  idle(): Promise<void>;
}

export interface WatchOptions {
  gitdir: string;
  debounceMs: number;
  log: Logger;
  sync: () => Promise<void>;
}

export async function watchRefs(options: WatchOptions): Promise<LocalWatcher> {
  const { gitdir, log } = options;
  const watcher = chokidar.watch(
    [path.join(gitdir, 'HEAD'), path.join(gitdir, 'refs', 'heads'), path.join(gitdir, 'packed-refs')],
    { ignoreInitial: true, ignored: (p: string) => p.endsWith('.lock') },
  );
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<void> | undefined;
  let again = false;
  let closed = false;
  const waiters: (() => void)[] = [];

  const settle = () => {
    if (running || timer) return;
    for (const w of waiters.splice(0)) w();
  };
  const run = () => {
    timer = undefined;
    if (closed) return settle();
    if (running) {
      again = true;
      return;
    }
    running = options
      .sync()
      .catch((err) => log.error({ err, gitdir }, 'local repository sync failed'))
      .finally(() => {
        running = undefined;
        if (again && !closed) {
          again = false;
          schedule();
        } else settle();
      });
  };
  const schedule = () => {
    if (closed) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(run, options.debounceMs);
  };
  watcher.on('all', schedule);
  watcher.on('error', (err) => log.warn({ err, gitdir }, 'watch error'));
  await new Promise<void>((resolve) => watcher.on('ready', () => resolve()));
  return {
    async close() {
      closed = true;
      if (timer) clearTimeout(timer);
      timer = undefined;
      await watcher.close();
      await running;
    },
    idle: () =>
      new Promise<void>((resolve) => {
        waiters.push(resolve);
        settle();
      }),
  };
}
