/**
 * Usage metering of runtime requests (docs/metering.md): every observation that carries an instance's request
 * counter is recorded for the environment's organization, in the batch the reconciler writes. The reconciler observes
 * each environment on every reconcile and resync, so readings come as often as it looks.
 */
import type { Observation, Target, TargetRef } from '@wharf/contracts';
import type { metering } from '@wharf/store';
import type { TargetResolver } from './targets/registry.js';

type RecordSample = (sample: metering.RuntimeRequestSample) => void;

function samplesOf(ref: TargetRef, o: Observation, at: string): metering.RuntimeRequestSample[] {
  return o.instances.flatMap((i) =>
    typeof i.requestsTotal === 'number' ? [{ tenantId: ref.tenantId, environmentId: ref.id, instance: i.name, total: i.requestsTotal, at }] : [],
  );
}

/** The same resolver, whose targets' observations also go to `record`. */
export function meteredTargets(targets: Pick<TargetResolver, 'resolve'>, record: RecordSample, now: () => Date): Pick<TargetResolver, 'resolve'> {
  const wrapped = new WeakMap<Target, Target>();
  const wrap = (target: Target): Target => {
    let w = wrapped.get(target);
    if (!w) {
      w = new Proxy(target, {
        get(t, prop, receiver) {
          if (prop !== 'observe') {
            const value = Reflect.get(t, prop, receiver) as unknown;
            return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(t) : value;
          }
          return async (ref: TargetRef, ...rest: unknown[]) => {
            const o = await (t.observe as (...a: unknown[]) => Promise<Observation>)(ref, ...rest);
            for (const s of samplesOf(ref, o, now().toISOString())) record(s);
            return o;
          };
        },
      });
      wrapped.set(target, w);
    }
    return w;
  };
  return {
    resolve(name) {
      const r = targets.resolve(name);
      return 'error' in r ? r : { ...r, target: wrap(r.target) };
    },
  };
}

