/**
 * The agent's loop, three parts that never wait on each other:
 *   - the poller long-polls the agent's documents (`since` = the last set hash), so a change reaches it at once, and
 *     backs off with jitter while the control plane is unreachable (what runs keeps running: nothing is torn down for
 *     want of the control plane);
 *   - the worker applies documents, a few environments at once and one operation at a time per environment: a new
 *     document hash (or a teardown) is applied as soon as it arrives, a failure is retried with backoff (slowly when a
 *     person must act first), and every environment is checked again each resync period;
 *   - the reporter sends the latest report of each environment in batches, retrying until the control plane has it.
 * The documents last received are kept on disk, so a restart while the control plane is away still knows them; the
 * agent's view (control plane contact, each environment's state) is written to status.json for `wharf agent status`.
 */
import { backoffDelay, type AgentDocument, type AgentStatusReport, type BackoffPolicy } from '@wharf/contracts';
import { AgentError, isAgentError } from '../errors.js';
import type { EnvironmentAgent } from '../environment/environment-agent.js';
import type { ControlPlaneClient } from '../control-plane/control-plane-client.js';
import { ControlPlaneError } from '../control-plane/control-plane-client.js';
import { environmentKey } from '../proxmox/guest-identity.js';
import type { RuntimePackage } from '../runtime-package/runtime-package.js';
import { sleep } from '../sleep.js';
import type { StateStore } from '../state/agent-state.js';
import { applyDocument, failureReport, refOf, uidOf } from './apply-document.js';
import type { AgentView, EnvironmentView, LoopFiles } from './loop-files.js';

export interface AgentLog {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

export interface AgentLoopOptions {
  client: ControlPlaneClient;
  environments: EnvironmentAgent;
  state: StateStore;
  files: LoopFiles;
  runtime: () => Promise<RuntimePackage>;
  log: AgentLog;
  identity: { agentId: number; name: string; pool: string; controlPlaneUrl: string };
  concurrency?: number;
  /** Every applied environment is checked again this often (default 5 min). */
  resyncMs?: number;
  /** Failures that may pass: retried after about 2 s doubling to 5 min. */
  retryPolicy?: BackoffPolicy;
  /** Failures that need a person (a missing template, a changed host key): tried again this often (default 10 min). */
  userChangeRetryMs?: number;
  /** Control plane unreachable: about 1 s doubling to 30 s. */
  pollPolicy?: BackoffPolicy;
  random?: () => number;
  now?: () => number;
}

interface Work {
  doc: AgentDocument;
  running: boolean;
  failures: number;
  nextTryAt: number;
  view: EnvironmentView;
}

/** The hash of a teardown the agent decided itself (an environment no longer in its set): never reported. */
const LOCAL_TEARDOWN = 'local-teardown:';

export function createAgentLoop(options: AgentLoopOptions) {
  const { client, log, state, files } = options;
  const now = options.now ?? Date.now;
  const random = options.random ?? Math.random;
  const concurrency = options.concurrency ?? 4;
  const resyncMs = options.resyncMs ?? 5 * 60_000;
  const retryPolicy = options.retryPolicy ?? { baseMs: 2_000, maxMs: 5 * 60_000, jitter: 'proportional' };
  const pollPolicy = options.pollPolicy ?? { baseMs: 1_000, maxMs: 30_000, jitter: 'equal' };
  const userChangeRetryMs = options.userChangeRetryMs ?? 10 * 60_000;

  const abort = new AbortController();
  const work = new Map<number, Work>();
  const pending = new Map<number, AgentStatusReport>();
  let setHash: string | undefined;
  let fetchedOnce = false;
  let running = 0;
  let wake: (() => void) | undefined;
  let reporterWake: (() => void) | undefined;
  const view: AgentView = {
    agent: { id: options.identity.agentId, name: options.identity.name, pool: options.identity.pool },
    controlPlane: { url: options.identity.controlPlaneUrl, state: 'connecting', lastContactAt: null, lastError: null },
    environments: [],
    updatedAt: new Date(now()).toISOString(),
  };
  const tasks = new Set<Promise<void>>();
  abort.signal.addEventListener('abort', () => {
    wake?.();
    reporterWake?.();
  });

  const writeView = () => {
    view.environments = [...work.values()].map((w) => w.view).sort((a, b) => a.environmentId - b.environmentId);
    view.updatedAt = new Date(now()).toISOString();
    void files.writeView(view).catch((err: unknown) => log.warn({ err }, 'writing status.json failed'));
  };

  const kick = () => wake?.();
  const queueReport = (report: AgentStatusReport) => {
    pending.set(report.environmentId, report);
    reporterWake?.();
  };

  const viewOf = (doc: AgentDocument, prev?: EnvironmentView): EnvironmentView => ({
    environmentId: doc.environmentId,
    app: doc.workflowApp?.spec.app ?? prev?.app ?? '',
    env: doc.workflowApp?.spec.environment ?? prev?.env ?? '',
    documentHash: doc.hash,
    generation: doc.generation,
    digest: doc.workflowApp?.spec.version.digest ?? null,
    state: doc.deleting ? 'TearingDown' : 'Applying',
    reason: null,
    message: '',
    url: prev?.url ?? null,
    guest: prev?.guest ?? null,
    updatedAt: new Date(now()).toISOString(),
  });

  /** Takes a new set of documents: new hashes are due now; environments no longer in the set are torn down. */
  const accept = (documents: readonly AgentDocument[], fromControlPlane: boolean) => {
    const ids = new Set(documents.map((d) => d.environmentId));
    const take = (doc: AgentDocument) => {
      const w = work.get(doc.environmentId);
      if (!w) {
        work.set(doc.environmentId, { doc, running: false, failures: 0, nextTryAt: 0, view: viewOf(doc) });
        return;
      }
      if (w.doc.hash === doc.hash) {
        w.doc = doc;
        return;
      }
      // A new document for an environment, maybe while the old one is being applied: it goes next, once that is done.
      Object.assign(w, { doc, failures: 0, nextTryAt: 0, view: viewOf(doc, w.view) });
    };
    for (const doc of documents) take(doc);
    if (fromControlPlane) {
      // Environments this agent runs that the control plane no longer gives it (deleted, or moved to another agent).
      const local = Object.values(state.read().environments).flatMap((e) => (e.uid?.startsWith('environment:') ? [Number(e.uid.slice('environment:'.length))] : []));
      for (const id of new Set([...local, ...work.keys()])) {
        if (ids.has(id)) continue;
        const w = work.get(id);
        if (w?.view.state === 'Deleted' && !local.includes(id)) {
          work.delete(id);
          continue;
        }
        if (w?.doc.hash === `${LOCAL_TEARDOWN}${id}`) continue;
        take({ environmentId: id, hash: `${LOCAL_TEARDOWN}${id}`, generation: 0, deleting: true });
      }
    }
    writeView();
    kick();
  };

  const settle = (w: Work, report: AgentStatusReport | null, err?: AgentError) => {
    const t = now();
    w.view.updatedAt = new Date(t).toISOString();
    if (err) {
      w.failures += 1;
      w.nextTryAt = t + (err.retry === 'user-change' ? userChangeRetryMs : backoffDelay(w.failures, random, retryPolicy));
      w.view = { ...w.view, state: 'Failed', reason: err.reason, message: err.message, guest: report?.guest ?? w.view.guest };
    } else {
      w.failures = 0;
      w.nextTryAt = t + resyncMs;
      w.view = { ...w.view, state: w.doc.deleting ? 'Deleted' : 'Ready', reason: null, message: '', url: report?.url ?? null, guest: report?.guest ?? null };
    }
    const local = w.doc.hash.startsWith(LOCAL_TEARDOWN);
    if (report && !local) queueReport(report);
    if (w.doc.deleting && !err) {
      // Gone: nothing more to do for it until the control plane says otherwise.
      w.nextTryAt = Number.POSITIVE_INFINITY;
      if (local) work.delete(w.doc.environmentId);
    }
    writeView();
  };

  const runOne = async (w: Work) => {
    const doc = w.doc;
    w.running = true;
    running += 1;
    w.view = { ...w.view, state: doc.deleting ? 'TearingDown' : 'Applying', updatedAt: new Date(now()).toISOString() };
    writeView();
    try {
      const report = await applyDocument(doc, { environments: options.environments, state, runtime: options.runtime });
      if (w.doc.hash === doc.hash) settle(w, report);
      log.info({ environmentId: doc.environmentId, hash: doc.hash, deleting: doc.deleting }, doc.deleting ? 'environment torn down' : 'environment applied');
    } catch (e) {
      const err = isAgentError(e) ? e : new AgentError('DeployFailed', (e as Error).message, { cause: e });
      log.warn({ environmentId: doc.environmentId, reason: err.reason, retry: err.retry, err: err.message }, 'applying a document failed');
      if (w.doc.hash === doc.hash) settle(w, failureReport(doc, state, err), err);
    } finally {
      w.running = false;
      running -= 1;
      if (w.doc.hash !== doc.hash) w.nextTryAt = 0;
      kick();
    }
  };

  const needsWork = (w: Work): boolean => !w.running && w.nextTryAt <= now();

  const worker = async () => {
    while (!abort.signal.aborted) {
      for (const w of work.values()) {
        if (running >= concurrency) break;
        if (!needsWork(w)) continue;
        const task = runOne(w);
        tasks.add(task);
        void task.finally(() => tasks.delete(task));
      }
      const next = Math.min(...[...work.values()].filter((w) => !w.running).map((w) => w.nextTryAt), now() + 60_000);
      await new Promise<void>((resolve) => {
        const timer = setTimeout(done, Math.max(10, next - now()));
        function done() {
          clearTimeout(timer);
          wake = undefined;
          resolve();
        }
        wake = done;
      });
    }
  };

  const reporter = async () => {
    let failures = 0;
    while (!abort.signal.aborted || pending.size > 0) {
      if (pending.size === 0) {
        if (abort.signal.aborted) break;
        await new Promise<void>((resolve) => {
          reporterWake = () => {
            reporterWake = undefined;
            resolve();
          };
        });
        continue;
      }
      const batch = [...pending.values()].slice(0, 100);
      try {
        await client.report(batch);
        failures = 0;
        for (const r of batch) {
          if (pending.get(r.environmentId) === r) pending.delete(r.environmentId);
        }
      } catch (err) {
        if (abort.signal.aborted) break;
        failures += 1;
        const delay = err instanceof ControlPlaneError && err.retryAfterMs ? err.retryAfterMs : backoffDelay(failures, random, pollPolicy);
        log.warn({ err: (err as Error).message, retryInMs: delay }, 'sending reports failed; retrying');
        await sleep(delay, abort.signal).catch(() => undefined);
      }
    }
  };

  const poller = async () => {
    let failures = 0;
    while (!abort.signal.aborted) {
      try {
        // The first poll of a process is answered at once (it names no set), so contact shows at once.
        const res = await client.desired(fetchedOnce ? setHash : undefined, abort.signal);
        failures = 0;
        view.controlPlane = { ...view.controlPlane, state: 'connected', lastContactAt: new Date(now()).toISOString(), lastError: null };
        if (res.changed || !fetchedOnce) {
          setHash = res.hash;
          if (res.changed) {
            await files.writeDesired({ hash: res.hash, documents: res.documents }).catch((err: unknown) => log.warn({ err }, 'keeping the documents on disk failed'));
            accept(res.documents, true);
          }
          fetchedOnce = true;
        }
        writeView();
      } catch (err) {
        if (abort.signal.aborted) break;
        failures += 1;
        const refused = err instanceof ControlPlaneError && !err.retryable;
        const delay =
          err instanceof ControlPlaneError && err.retryAfterMs ? err.retryAfterMs : refused ? 5 * 60_000 : backoffDelay(failures, random, pollPolicy);
        view.controlPlane = { ...view.controlPlane, state: refused ? 'refused' : 'unreachable', lastError: (err as Error).message };
        writeView();
        (refused ? log.error : log.warn).call(log, { err: (err as Error).message, retryInMs: delay }, refused ? 'the control plane refuses this agent; what runs keeps running' : 'the control plane is unreachable; what runs keeps running');
        await sleep(delay, abort.signal).catch(() => undefined);
      }
    }
  };

  let loops: Promise<unknown> | undefined;
  return {
    view: () => structuredClone(view),
    async start(): Promise<void> {
      const saved = await files.readDesired();
      if (saved) {
        setHash = saved.hash;
        accept(saved.documents, false);
        log.info({ environments: saved.documents.length }, 'resuming with the documents last received');
      }
      loops = Promise.all([poller(), worker(), reporter()]);
    },
    /** Stops polling and applying (what runs keeps running), waits for applies in flight, sends what it can. */
    async stop(timeoutMs = 30_000): Promise<void> {
      abort.abort(new Error('agent stopping'));
      kick();
      await Promise.race([Promise.allSettled([...tasks]), sleep(timeoutMs)]);
      await Promise.race([loops, sleep(5_000)]);
      writeView();
      await files.flush();
    },
    /** For tests: the environments' keys on this agent. */
    keyOf: (environmentId: number) => environmentKey({ app: '', env: '', uid: uidOf(environmentId) }),
    refOf: (doc: AgentDocument) => refOf(doc, state),
  };
}

export type AgentLoop = ReturnType<typeof createAgentLoop>;
