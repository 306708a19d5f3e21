/**
 * The only way targets are built. TARGET_FACTORIES lists every kind Wharf can run environments on; adding a target is
 * a folder under targets/ that exports a TargetFactory, and one line here. The registry builds the kinds it is given
 * settings for and resolves `environments.target` names (`local`, `kubernetes:eu-1`, `agent:edge`) to a built target
 * and its qualifier.
 */
import { parseTargetName, type Target } from '@wharf/contracts';
import { agentTargetFactory } from './agent/index.js';
import { kubernetesTargetFactory } from './kubernetes/index.js';
import { localTargetFactory } from './local/index.js';
import type { TargetDeps, TargetFactory } from './target-factory.js';

export const TARGET_FACTORIES = {
  local: localTargetFactory,
  agent: agentTargetFactory,
  kubernetes: kubernetesTargetFactory,
} as const;

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- factories of any settings (checked per key below)
type AnyFactory = TargetFactory<any, Target>;
export type TargetFactories = Record<string, AnyFactory>;
type SettingsOf<F> = F extends TargetFactory<infer S, Target> ? S : never;
type TargetOf<F> = F extends TargetFactory<unknown, infer T> ? T : F extends TargetFactory<never, infer T> ? T : Target;

/** Settings per kind; a kind without settings is not built, and names of that kind resolve to nothing. */
export type TargetsConfig<F extends TargetFactories> = { [K in keyof F]?: SettingsOf<F[K]> };

export interface ResolvedTarget {
  target: Target;
  /** The pool of `agent:edge`, the cluster of `kubernetes:eu-1`; null for `local`. */
  qualifier: string | null;
}

/** What the reconciler needs of a registry. */
export type TargetResolver = Pick<TargetRegistry<TargetFactories>, 'resolve' | 'built'>;

export interface TargetRegistry<F extends TargetFactories = typeof TARGET_FACTORIES> {
  /** The target an environment's `target` names, or why there is none. */
  resolve(name: string): ResolvedTarget | { error: string };
  /** The built target of one kind (e.g. the local target's router for `wharf up`). */
  get<K extends keyof F & string>(kind: K): TargetOf<F[K]> | undefined;
  /** Every built target, by kind. */
  readonly built: ReadonlyMap<string, Target>;
  /** Closes every built target, the last built first. */
  close(): Promise<void>;
}

export function createTargetRegistry(config: TargetsConfig<typeof TARGET_FACTORIES>, deps: TargetDeps): Promise<TargetRegistry>;
export function createTargetRegistry<F extends TargetFactories>(config: TargetsConfig<F>, deps: TargetDeps, factories: F): Promise<TargetRegistry<F>>;
export async function createTargetRegistry(
  config: Record<string, unknown>,
  deps: TargetDeps,
  factories: TargetFactories = TARGET_FACTORIES,
): Promise<TargetRegistry<TargetFactories>> {
  const built = new Map<string, Target>();
  const close = async () => {
    for (const target of [...built.values()].reverse()) await target.close().catch((err) => deps.log.warn({ err, target: target.name }, 'target close failed'));
  };
  try {
    for (const [kind, settings] of Object.entries(config)) {
      if (settings === undefined) continue;
      const factory = factories[kind];
      if (!factory) throw new Error(`no target kind "${kind}" (known: ${Object.keys(factories).join(', ')})`);
      built.set(kind, await factory.create(settings, { log: deps.log.child({ target: kind }) }));
    }
  } catch (err) {
    await close();
    throw err;
  }
  return {
    built,
    // The overloads type each kind's target from its factory; the map itself holds them as plain Targets.
    get: (kind) => built.get(kind) as never,
    resolve(name) {
      const parsed = parseTargetName(name);
      if (!parsed) return { error: `"${name}" is not a target name (local, kubernetes[:<cluster>], agent:<pool>)` };
      const factory = factories[parsed.kind];
      const target = built.get(parsed.kind);
      if (!factory || !target) return { error: `no target named "${parsed.kind}" is configured` };
      if (factory.qualifier === 'none' && parsed.qualifier !== null) return { error: `the ${parsed.kind} target takes no ":${parsed.qualifier}"` };
      if (factory.qualifier === 'required' && parsed.qualifier === null) return { error: `the ${parsed.kind} target needs a name: ${parsed.kind}:<name>` };
      return { target, qualifier: parsed.qualifier };
    },
    close,
  };
}
