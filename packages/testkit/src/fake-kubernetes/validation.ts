/**
 * Object validation as kube-apiserver words it: ObjectMeta rules (names, labels, annotations), the kind's schema,
 * and the few kind-specific rules an operator trips over (immutable ConfigMaps and Secrets, a Deployment selector
 * that must match its template and never change, base64 Secret data, CRD names). Answers 422 Invalid with
 * `details.causes`, or 400 when the body could not even be decoded into the kind (a wrong type).
 */
import { badRequest, invalid, type StatusCause } from './status.js';
import type { ResourceType, SchemaProblem } from './resource-types.js';
import { deepEqual, isPlainObject, type KubeObject } from './objects.js';

const SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1035 = /^[a-z]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?$/;
const QUALIFIED_NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

const MSG = {
  subdomain:
    "a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end with an alphanumeric character (e.g. 'example.com', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')",
  label:
    "a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
  dns1035:
    "a DNS-1035 label must consist of lower case alphanumeric characters or '-', start with an alphabetic character, and end with an alphanumeric character (e.g. 'my-name',  or 'abc-123', regex used for validation is '[a-z]([-a-z0-9]*[a-z0-9])?')",
  labelValue:
    "a valid label must be an empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')",
  qualifiedName:
    "name part must consist of alphanumeric characters, '-', '_' or '.', and must start and end with an alphanumeric character (e.g. 'MyName',  or 'my.name',  or '123-abc', regex used for validation is '([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
} as const;

/** How Go prints a value in `Invalid value: …` (strings quoted, objects by their JSON type name). */
export function goValue(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'number' || typeof v === 'boolean') return String(v);
  if (v === null || v === undefined) return 'null';
  return JSON.stringify(Array.isArray(v) ? 'array' : 'object');
}

const jsonType = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v === 'number' ? (Number.isInteger(v) ? 'integer' : 'number') : typeof v);

const cause = (reason: string, field: string, message: string): StatusCause => ({ reason, message, field });
const invalidValue = (field: string, value: unknown, detail: string) => cause('FieldValueInvalid', field, `Invalid value: ${goValue(value)}: ${detail}`);

export function nameCauses(name: string, rule: ResourceType['nameRule'], field = 'metadata.name'): StatusCause[] {
  const causes: StatusCause[] = [];
  if (rule === 'label' || rule === 'dns1035') {
    if (name.length > 63) causes.push(invalidValue(field, name, 'must be no more than 63 characters'));
    if (!(rule === 'label' ? LABEL : DNS1035).test(name)) causes.push(invalidValue(field, name, MSG[rule]));
  } else {
    if (name.length > 253) causes.push(invalidValue(field, name, 'must be no more than 253 characters'));
    if (!SUBDOMAIN.test(name)) causes.push(invalidValue(field, name, MSG.subdomain));
  }
  return causes;
}

function keyCauses(key: string, field: string): StatusCause[] {
  const parts = key.split('/');
  const name = parts.length === 2 ? parts[1]! : parts[0]!;
  const causes: StatusCause[] = [];
  if (parts.length > 2 || (parts.length === 2 && !SUBDOMAIN.test(parts[0]!))) causes.push(invalidValue(field, key, 'prefix part ' + MSG.subdomain));
  if (name.length > 63) causes.push(invalidValue(field, key, 'name part must be no more than 63 characters'));
  if (!QUALIFIED_NAME.test(name)) causes.push(invalidValue(field, key, MSG.qualifiedName));
  return causes;
}

function metadataCauses(obj: KubeObject, type: ResourceType): StatusCause[] {
  const meta = obj.metadata ?? {};
  const causes: StatusCause[] = [];
  if (!meta.name) causes.push(cause('FieldValueRequired', 'metadata.name', 'Required value: name or generateName is required'));
  else causes.push(...nameCauses(meta.name, type.nameRule === 'crd' ? 'subdomain' : type.nameRule));
  for (const [k, v] of Object.entries(meta.labels ?? {})) {
    causes.push(...keyCauses(k, 'metadata.labels'));
    if (typeof v !== 'string' || v.length > 63) causes.push(invalidValue('metadata.labels', v, 'must be no more than 63 characters'));
    else if (!LABEL_VALUE.test(v)) causes.push(invalidValue('metadata.labels', v, MSG.labelValue));
  }
  for (const k of Object.keys(meta.annotations ?? {})) causes.push(...keyCauses(k, 'metadata.annotations'));
  const annotationBytes = Object.entries(meta.annotations ?? {}).reduce((n, [k, v]) => n + k.length + String(v).length, 0);
  if (annotationBytes > 256 * 1024) causes.push(cause('FieldValueTooLong', 'metadata.annotations', 'Too long: must have at most 262144 bytes'));
  for (const [i, ref] of (meta.ownerReferences ?? []).entries()) {
    for (const f of ['apiVersion', 'kind', 'name', 'uid'] as const) {
      if (!ref[f]) causes.push(cause('FieldValueRequired', `metadata.ownerReferences[${i}].${f}`, 'Required value'));
    }
  }
  if ((meta.ownerReferences ?? []).filter((r) => r.controller).length > 1) {
    causes.push(cause('FieldValueInvalid', 'metadata.ownerReferences', 'Invalid value: only one reference can have Controller set to true'));
  }
  return causes;
}

/** Schema problems: a wrong type cannot be decoded (400); the rest are field errors (422). */
function schemaCauses(problems: SchemaProblem[]): { decode: string[]; causes: StatusCause[] } {
  const decode: string[] = [];
  const causes: StatusCause[] = [];
  for (const p of problems) {
    if (p.kind === 'required') causes.push(cause('FieldValueRequired', p.field, 'Required value'));
    else if (p.kind === 'type') decode.push(`${p.field}: ${p.message}, got ${jsonType(p.value)}`);
    else if (p.kind === 'enum') causes.push(cause('FieldValueNotSupported', p.field, `Unsupported value: ${goValue(p.value)}`));
    else causes.push(invalidValue(p.field, p.value, p.message));
  }
  return { decode, causes };
}

/** CRD validation errors in the words of kube-openapi (`spec.replicas in body should be …`). */
function crdCauses(problems: SchemaProblem[]): StatusCause[] {
  return problems.map((p) => {
    if (p.kind === 'required') return cause('FieldValueRequired', p.field, 'Required value');
    if (p.kind === 'type') {
      const t = jsonType(p.value);
      return cause('FieldValueTypeInvalid', p.field, `Invalid value: "${t}": ${p.field} in body ${p.message}: "${t}"`);
    }
    if (p.kind === 'enum') return cause('FieldValueNotSupported', p.field, `Unsupported value: ${goValue(p.value)}`);
    return invalidValue(p.field, p.value, `${p.field} in body ${kubeOpenApiWording(p.message)}`);
  });
}

/** ajv's English → kube-openapi's (`must be >= 0` → `should be greater than or equal to 0`). */
function kubeOpenApiWording(message: string): string {
  const rules: [RegExp, (m: RegExpMatchArray) => string][] = [
    [/^must be >= (.+)$/, (m) => `should be greater than or equal to ${m[1]}`],
    [/^must be <= (.+)$/, (m) => `should be less than or equal to ${m[1]}`],
    [/^must be > (.+)$/, (m) => `should be greater than ${m[1]}`],
    [/^must be < (.+)$/, (m) => `should be less than ${m[1]}`],
    [/^must NOT have fewer than (\d+) characters$/, (m) => `should be at least ${m[1]} chars long`],
    [/^must NOT have more than (\d+) characters$/, (m) => `should be at most ${m[1]} chars long`],
    [/^must NOT have fewer than (\d+) items$/, (m) => `should have at least ${m[1]} items`],
    [/^must NOT have more than (\d+) items$/, (m) => `should have at most ${m[1]} items`],
    [/^must match pattern "(.+)"$/, (m) => `should match '${m[1]}'`],
    [/^must match exactly one schema in oneOf$/, () => 'must validate one and only one schema (oneOf)'],
  ];
  for (const [re, fmt] of rules) {
    const m = message.match(re);
    if (m) return fmt(m);
  }
  return message;
}

function deploymentCauses(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  const spec = (obj.spec ?? {}) as { selector?: { matchLabels?: Record<string, string> }; template?: { metadata?: { labels?: Record<string, string> } } };
  const causes: StatusCause[] = [];
  const match = spec.selector?.matchLabels ?? {};
  const labels = spec.template?.metadata?.labels ?? {};
  if (Object.keys(match).length === 0 && !(spec.selector as { matchExpressions?: unknown[] } | undefined)?.matchExpressions?.length) {
    causes.push(cause('FieldValueInvalid', 'spec.selector', 'Invalid value: "null": empty selector is invalid for deployment'));
  }
  if (Object.entries(match).some(([k, v]) => labels[k] !== v)) {
    causes.push(cause('FieldValueInvalid', 'spec.template.metadata.labels', `Invalid value: ${JSON.stringify(labels)}: \`selector\` does not match template \`labels\``));
  }
  const oldSelector = (old?.spec as { selector?: unknown } | undefined)?.selector;
  if (old && !deepEqual(oldSelector, spec.selector)) causes.push(cause('FieldValueInvalid', 'spec.selector', `Invalid value: ${JSON.stringify(spec.selector)}: field is immutable`));
  return causes;
}

function immutableDataCauses(obj: KubeObject, old: KubeObject | undefined): StatusCause[] {
  if (!old || old.immutable !== true) return [];
  const causes: StatusCause[] = [];
  if (obj.immutable !== true) causes.push(cause('FieldValueForbidden', 'immutable', 'Forbidden: field is immutable when `immutable` is set'));
  if (!deepEqual(old.data ?? {}, obj.data ?? {}) || !deepEqual(old.binaryData ?? {}, obj.binaryData ?? {})) {
    causes.push(cause('FieldValueForbidden', 'data', 'Forbidden: field is immutable when `immutable` is set'));
  }
  return causes;
}

export interface ValidateInput {
  obj: KubeObject;
  old: KubeObject | undefined;
  type: ResourceType;
}

/** Throws the Status the real API server answers for an invalid object; returns when it is valid. */
export function validateObject({ obj, old, type }: ValidateInput): void {
  const name = obj.metadata?.name ?? '';
  const { decode, causes: schema } = type.crdName ? { decode: [] as string[], causes: crdCauses(type.schemaProblems(obj)) } : schemaCauses(type.schemaProblems(obj));
  if (decode.length) throw badRequest(`${type.kind} in version "${type.version}" cannot be handled as a ${type.kind}: ${decode.join('; ')}`);
  const causes = [...metadataCauses(obj, type), ...schema];
  if (type.kind === 'Deployment' && !type.crdName) causes.push(...deploymentCauses(obj, old));
  if ((type.kind === 'ConfigMap' || type.kind === 'Secret') && !type.crdName) causes.push(...immutableDataCauses(obj, old));
  if (type.kind === 'Secret' && !type.crdName && isPlainObject(obj.data)) {
    for (const [k, v] of Object.entries(obj.data)) {
      if (typeof v !== 'string' || !BASE64.test(v)) throw badRequest(`Secret in version "v1" cannot be handled as a Secret: illegal base64 data at input byte 0 (data.${k})`);
    }
  }
  if (type.kind === 'CustomResourceDefinition' && !type.crdName) {
    const spec = obj.spec as { group?: string; names?: { plural?: string } } | undefined;
    const expected = `${spec?.names?.plural}.${spec?.group}`;
    if (name && name !== expected) causes.push(invalidValue('metadata.name', name, 'must be spec.names.plural+"."+spec.group'));
  }
  if (causes.length) throw invalid(type.kind, type.group, name, causes);
}
