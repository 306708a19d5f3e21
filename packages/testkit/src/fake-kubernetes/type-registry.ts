/** The kinds being served: the built-in ones plus one per served version of each established CRD. */
import { crdResourceType, type CrdSpec } from './crd-types.js';
import { apiVersionOf, builtinResourceTypes, type ResourceType } from './resource-types.js';
import type { KubeObject } from './objects.js';
import type { ModelIndex } from './builtin-fields.js';

export const resourceKey = (t: Pick<ResourceType, 'group' | 'plural'>) => `${t.group}/${t.plural}`;

export class TypeRegistry {
  private readonly builtins: ResourceType[];
  private custom: ResourceType[] = [];

  constructor(models: ModelIndex) {
    this.builtins = builtinResourceTypes(models);
  }

  all(): ResourceType[] {
    return [...this.builtins, ...this.custom];
  }

  /** The type at /api(s)/<group>/<version>/<plural>. */
  byResource(group: string, version: string, plural: string): ResourceType | undefined {
    return this.all().find((t) => t.group === group && t.version === version && t.plural === plural);
  }

  byKind(apiVersion: string, kind: string): ResourceType | undefined {
    return this.all().find((t) => apiVersionOf(t) === apiVersion && t.kind === kind);
  }

  /** Group versions served, each with its types, in a stable order (core first). */
  groupVersions(): { group: string; version: string; types: ResourceType[] }[] {
    const out = new Map<string, { group: string; version: string; types: ResourceType[] }>();
    for (const t of this.all()) {
      const key = apiVersionOf(t);
      const slot = out.get(key) ?? { group: t.group, version: t.version, types: [] };
      slot.types.push(t);
      out.set(key, slot);
    }
    return [...out.values()];
  }

  /** Re-reads the served kinds from the stored CRDs (called after every CRD write). */
  syncCrds(crds: KubeObject[]): void {
    this.custom = [];
    for (const crd of crds) {
      if (crd.metadata?.deletionTimestamp) continue;
      const spec = crd.spec as CrdSpec;
      for (const v of spec.versions ?? []) if (v.served) this.custom.push(crdResourceType(crd.metadata!.name!, spec, v));
    }
  }
}
