/**
 * A custom resource kind from a CustomResourceDefinition: its structural schema is checked with ajv (after turning
 * the OpenAPI v3 dialect into JSON Schema), unknown fields are found or pruned the way the API server prunes them,
 * and `x-kubernetes-list-type` / `-list-map-keys` decide how server-side apply merges its lists.
 */
import { Ajv, type ValidateFunction } from 'ajv';
import { ajvProblem, type ListType, type PrinterColumn, type ResourceType, type SchemaProblem } from './resource-types.js';
import { isPlainObject, type KubeObject } from './objects.js';

export interface OpenApiSchema {
  type?: string;
  properties?: Record<string, OpenApiSchema>;
  items?: OpenApiSchema;
  additionalProperties?: OpenApiSchema | boolean;
  required?: string[];
  nullable?: boolean;
  'x-kubernetes-preserve-unknown-fields'?: boolean;
  'x-kubernetes-int-or-string'?: boolean;
  'x-kubernetes-embedded-resource'?: boolean;
  'x-kubernetes-list-type'?: 'atomic' | 'set' | 'map';
  'x-kubernetes-list-map-keys'?: string[];
  [key: string]: unknown;
}

export interface CrdVersion {
  name: string;
  served: boolean;
  storage: boolean;
  schema?: { openAPIV3Schema?: OpenApiSchema };
  subresources?: { status?: object; scale?: object };
  additionalPrinterColumns?: PrinterColumn[];
}

export interface CrdSpec {
  group: string;
  scope: 'Namespaced' | 'Cluster';
  names: { kind: string; plural: string; singular?: string; listKind?: string; shortNames?: string[]; categories?: string[] };
  versions: CrdVersion[];
}

const OPENAPI_ONLY = new Set(['nullable', 'example', 'externalDocs', 'xml', 'discriminator', 'readOnly', 'writeOnly', 'deprecated']);

/** OpenAPI v3.0 schema → JSON Schema draft-07 for ajv: drops vendor extensions, maps `nullable` and int-or-string. */
export function toJsonSchema(schema: OpenApiSchema): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if (key.startsWith('x-kubernetes-') || OPENAPI_ONLY.has(key) || key === 'format' || key === 'default') continue;
    if (key === 'properties' && isPlainObject(value)) {
      out.properties = Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toJsonSchema(v as OpenApiSchema)]));
    } else if ((key === 'items' || key === 'additionalProperties' || key === 'not') && isPlainObject(value)) {
      out[key] = toJsonSchema(value as OpenApiSchema);
    } else if ((key === 'oneOf' || key === 'anyOf' || key === 'allOf') && Array.isArray(value)) {
      out[key] = value.map((v) => toJsonSchema(v as OpenApiSchema));
    } else {
      out[key] = value;
    }
  }
  if (schema['x-kubernetes-int-or-string']) {
    delete out.type;
    out.anyOf = [{ type: 'integer' }, { type: 'string' }];
  }
  if (schema.nullable && typeof out.type === 'string') out.type = [out.type, 'null'];
  if (schema['x-kubernetes-embedded-resource']) out.type = 'object';
  return out;
}

function declaresFields(schema: OpenApiSchema): boolean {
  return !schema['x-kubernetes-preserve-unknown-fields'] && !schema['x-kubernetes-embedded-resource'] && schema.additionalProperties === undefined;
}

/** Walks `value` with `schema` and calls `onUnknown(path, parent, key)` for each field the schema does not declare. */
function walkUnknown(value: unknown, schema: OpenApiSchema | undefined, path: string, onUnknown: (path: string, parent: Record<string, unknown>, key: string) => void): void {
  if (!schema) return;
  if (Array.isArray(value)) {
    value.forEach((item, i) => walkUnknown(item, schema.items, `${path}[${i}]`, onUnknown));
    return;
  }
  if (!isPlainObject(value)) return;
  for (const key of Object.keys(value)) {
    const child = path ? `${path}.${key}` : key;
    if (path === '' && (key === 'apiVersion' || key === 'kind' || key === 'metadata')) continue;
    const sub = schema.properties?.[key];
    if (sub) {
      walkUnknown(value[key], sub, child, onUnknown);
    } else if (isPlainObject(schema.additionalProperties)) {
      walkUnknown(value[key], schema.additionalProperties, child, onUnknown);
    } else if (declaresFields(schema)) {
      onUnknown(child, value, key);
    }
  }
}

function schemaAt(root: OpenApiSchema | undefined, path: readonly string[]): OpenApiSchema | undefined {
  let cur = root;
  for (const field of path) {
    if (!cur) return undefined;
    while (cur?.type === 'array' || (cur?.items && !cur.properties)) cur = cur.items;
    cur = cur?.properties?.[field] ?? (isPlainObject(cur?.additionalProperties) ? (cur!.additionalProperties as OpenApiSchema) : undefined);
  }
  return cur;
}

const ajv = new Ajv({ allErrors: true, strict: false, validateFormats: false });
const compiled = new WeakMap<OpenApiSchema, ValidateFunction>();

export function crdResourceType(crdName: string, spec: CrdSpec, version: CrdVersion): ResourceType {
  const root = version.schema?.openAPIV3Schema;
  let validate: ValidateFunction | undefined;
  if (root) {
    validate = compiled.get(root);
    if (!validate) {
      // metadata is checked by the ObjectMeta rules, not by the CRD schema.
      const { metadata: _m, ...props } = root.properties ?? {};
      validate = ajv.compile(toJsonSchema({ ...root, properties: props }));
      compiled.set(root, validate);
    }
  }
  const schemaProblems = (obj: KubeObject): SchemaProblem[] => {
    if (!validate || validate(obj)) return [];
    // Errors inside oneOf/anyOf branches are noise: the branch keyword reports the failure itself.
    return (validate.errors ?? []).filter((e) => !/\/(oneOf|anyOf)\/\d+\//.test(e.schemaPath)).map((e) => ajvProblem(e, obj));
  };
  return {
    group: spec.group,
    version: version.name,
    kind: spec.names.kind,
    listKind: spec.names.listKind ?? `${spec.names.kind}List`,
    plural: spec.names.plural,
    singular: spec.names.singular ?? spec.names.kind.toLowerCase(),
    namespaced: spec.scope === 'Namespaced',
    shortNames: spec.names.shortNames ?? [],
    categories: spec.names.categories ?? [],
    statusSubresource: Boolean(version.subresources?.status),
    nameRule: 'subdomain',
    schemaProblems,
    unknownFields: (obj) => {
      const found: string[] = [];
      walkUnknown(obj, root, '', (p) => found.push(p));
      return found;
    },
    prune: (obj) => walkUnknown(obj, root, '', (_p, parent, key) => delete parent[key]),
    listType: (path): ListType => {
      const s = schemaAt(root, path);
      const t = s?.['x-kubernetes-list-type'];
      if (t === 'map') return { type: 'map', keys: s?.['x-kubernetes-list-map-keys'] ?? [] };
      if (t === 'set') return { type: 'set' };
      if (path.length === 2 && path[0] === 'metadata' && path[1] === 'ownerReferences') return { type: 'map', keys: ['uid'] };
      if (path.length === 2 && path[0] === 'metadata' && path[1] === 'finalizers') return { type: 'set' };
      return { type: 'atomic' };
    },
    printerColumns: version.additionalPrinterColumns ?? [],
    crdName,
  };
}
