/**
 * Config-level diff of two sets of workflow files of one app: which files, modules, pipelines, workflows,
 * routes and triggers were added, removed or changed, by name. Pure; a file that does not parse is still
 * compared as a file.
 */
import { parse } from 'yaml';
import type { WorkflowFile } from '../workflow-app.js';

export const CONFIG_ITEM_KINDS = ['file', 'module', 'pipeline', 'workflow', 'route', 'trigger'] as const;
export type ConfigItemKind = (typeof CONFIG_ITEM_KINDS)[number];

export const CONFIG_CHANGE_KINDS = ['added', 'removed', 'changed'] as const;
export type ConfigChangeKind = (typeof CONFIG_CHANGE_KINDS)[number];

export interface ConfigChange {
  kind: ConfigItemKind;
  /** File path, module name, pipeline name, workflow key, `METHOD /path` of a route, trigger key. */
  name: string;
  change: ConfigChangeKind;
}

export interface ConfigDiff {
  app: string;
  changes: ConfigChange[];
}

type Items = Map<string, string>;
type Inventory = Record<ConfigItemKind, Items>;

const stable = (value: unknown): string =>
  JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b)))
      : v,
  );

const isRecord = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function routeKey(route: unknown): string | undefined {
  if (!isRecord(route)) return undefined;
  const method = typeof route.method === 'string' ? route.method.toUpperCase() : '*';
  return typeof route.path === 'string' ? `${method} ${route.path}` : undefined;
}

function addDocument(inv: Inventory, doc: unknown): void {
  if (!isRecord(doc)) return;
  if (Array.isArray(doc.modules)) {
    for (const m of doc.modules) if (isRecord(m) && typeof m.name === 'string') inv.module.set(m.name, stable(m));
  }
  if (isRecord(doc.pipelines)) {
    for (const [name, p] of Object.entries(doc.pipelines)) inv.pipeline.set(name, stable(p));
  }
  if (isRecord(doc.triggers)) {
    for (const [name, p] of Object.entries(doc.triggers)) inv.trigger.set(name, stable(p));
  }
  if (isRecord(doc.workflows)) {
    for (const [name, w] of Object.entries(doc.workflows)) {
      const routes = isRecord(w) && Array.isArray(w.routes) ? w.routes : [];
      for (const r of routes) {
        const key = routeKey(r);
        if (key) inv.route.set(key, stable(r));
      }
      // A workflow "changed" for reasons other than its routes; route changes are listed on their own.
      inv.workflow.set(name, stable(isRecord(w) ? { ...w, routes: undefined } : w));
    }
  }
}

function inventory(files: readonly WorkflowFile[]): Inventory {
  const inv: Inventory = {
    file: new Map(),
    module: new Map(),
    pipeline: new Map(),
    workflow: new Map(),
    route: new Map(),
    trigger: new Map(),
  };
  for (const f of files) {
    inv.file.set(f.path, f.content);
    try {
      addDocument(inv, parse(f.content));
    } catch {
      // Unparseable files are validated elsewhere; here they only count as files.
    }
  }
  return inv;
}

/** `before` null means nothing is deployed yet: everything in `after` is added. */
export function diffConfig(
  app: string,
  before: readonly WorkflowFile[] | null,
  after: readonly WorkflowFile[] | null,
): ConfigDiff {
  const a = inventory(before ?? []);
  const b = inventory(after ?? []);
  const changes: ConfigChange[] = [];
  for (const kind of CONFIG_ITEM_KINDS) {
    const names = [...new Set([...a[kind].keys(), ...b[kind].keys()])].sort();
    for (const name of names) {
      const was = a[kind].get(name);
      const is = b[kind].get(name);
      if (was === undefined) changes.push({ kind, name, change: 'added' });
      else if (is === undefined) changes.push({ kind, name, change: 'removed' });
      else if (was !== is) changes.push({ kind, name, change: 'changed' });
    }
  }
  return { app, changes };
}
