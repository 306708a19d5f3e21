/**
 * Leader election on a coordination.k8s.io/v1 Lease, as client-go's leaderelection does it: the holder renews the
 * Lease every third of its duration with a conditional update (resourceVersion), a standby looks every half duration
 * and takes the Lease over once `renewTime + leaseDurationSeconds` has passed, and a leader that could not renew for a
 * whole duration steps down. On stop the leader releases the Lease so a standby takes over at once.
 */
import type { TargetLog } from '@wharf/contracts';
import type { KubeApi } from '../kubernetes/kube-api.js';
import { isConflict } from '../kubernetes/kube-errors.js';
import { FIELD_MANAGERS } from '../kubernetes/labels.js';
import { KINDS, type KubeObject } from '../kubernetes/resources.js';

export interface LeaderElectionOptions {
  api: KubeApi;
  namespace: string;
  name: string;
  identity: string;
  leaseSeconds: number;
  log: TargetLog;
  onStartedLeading: () => void;
  onStoppedLeading: () => void;
  now?: () => number;
  random?: () => number;
}

export interface LeaderElection {
  start(): void;
  readonly isLeader: boolean;
  stop(): Promise<void>;
}

interface LeaseSpec {
  holderIdentity?: string | null;
  leaseDurationSeconds?: number;
  acquireTime?: string | null;
  renewTime?: string | null;
  leaseTransitions?: number;
}

/** RFC 3339 with microseconds (a Lease's MicroTime). */
export const microTime = (ms: number) => new Date(ms).toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');

export function createLeaderElection(o: LeaderElectionOptions): LeaderElection {
  const now = o.now ?? Date.now;
  const random = o.random ?? Math.random;
  const leaseMs = o.leaseSeconds * 1000;
  let leader = false;
  let stopped = false;
  let lease: (KubeObject & { spec?: LeaseSpec }) | null = null;
  let lastRenew = 0;
  let timer: NodeJS.Timeout | undefined;
  let current: Promise<void> = Promise.resolve();
  /** The last renewal failed: a leader tries again soon (client-go's retry period) rather than a third of the duration later. */
  let failed = false;

  const become = (next: boolean) => {
    if (next === leader) return;
    leader = next;
    o.log.info({ identity: o.identity, lease: `${o.namespace}/${o.name}` }, next ? 'became the leader' : 'stopped leading');
    (next ? o.onStartedLeading : o.onStoppedLeading)();
  };

  const write = async (spec: LeaseSpec): Promise<void> => {
    const body: KubeObject = lease
      ? { ...lease, spec: { ...lease.spec, ...spec } }
      : { metadata: { name: o.name, namespace: o.namespace }, spec };
    lease = lease
      ? await o.api.replace<KubeObject & { spec?: LeaseSpec }>(KINDS.Lease, body, FIELD_MANAGERS.operator)
      : await o.api.create<KubeObject & { spec?: LeaseSpec }>(KINDS.Lease, body, FIELD_MANAGERS.operator);
  };

  const attempt = async () => {
    const t = now();
    try {
      // The holder renews from the Lease it wrote last; anyone else (or after a conflict) reads it first.
      if (!leader || !lease) lease = await o.api.get(KINDS.Lease, o.namespace, o.name);
      const spec = lease?.spec ?? {};
      const renewed = spec.renewTime ? Date.parse(spec.renewTime) : 0;
      const expired = !spec.holderIdentity || renewed + (spec.leaseDurationSeconds ?? o.leaseSeconds) * 1000 < t;
      if (lease && spec.holderIdentity !== o.identity && !expired) {
        become(false);
        return;
      }
      const taking = !lease || spec.holderIdentity !== o.identity;
      await write({
        holderIdentity: o.identity,
        leaseDurationSeconds: o.leaseSeconds,
        renewTime: microTime(t),
        ...(taking ? { acquireTime: microTime(t), leaseTransitions: (spec.leaseTransitions ?? -1) + 1 } : {}),
      });
      lastRenew = t;
      failed = false;
      become(true);
    } catch (err) {
      failed = true;
      if (isConflict(err)) lease = null;
      else o.log.warn({ err, lease: `${o.namespace}/${o.name}` }, 'lease request failed');
      if (leader && now() - lastRenew > leaseMs) become(false);
    }
  };

  const schedule = () => {
    if (stopped) return;
    const delay = leader ? (failed ? Math.min(2_000, leaseMs / 10) : leaseMs / 3) : (leaseMs / 2) * (0.8 + 0.4 * random());
    timer = setTimeout(() => {
      current = attempt().finally(schedule);
    }, delay);
  };

  return {
    start() {
      current = attempt().finally(schedule);
    },
    get isLeader() {
      return leader;
    },
    async stop() {
      stopped = true;
      clearTimeout(timer);
      await current.catch(() => undefined);
      if (leader && lease) {
        await write({ holderIdentity: '', leaseDurationSeconds: 1, renewTime: microTime(now()) }).catch((err) => o.log.warn({ err }, 'lease release failed'));
        become(false);
      }
    },
  };
}
