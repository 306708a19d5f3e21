/**
 * Which fields a built-in kind declares, from the attribute maps of @kubernetes/client-node's generated models
 * (kubernetes-models checks types and required fields but leaves objects open). Used to refuse or prune unknown
 * fields as the API server does: `spec.template.spec.containers[0].imagee` is not a field of a Deployment.
 */
import { isPlainObject } from './objects.js';

interface Attribute {
  baseName: string;
  type: string;
}
interface Model {
  getAttributeTypeMap(): Attribute[];
}
export type ModelIndex = Record<string, unknown>;

export const loadModelIndex = async (): Promise<ModelIndex> => (await import('@kubernetes/client-node')) as unknown as ModelIndex;

/** The client-node model of each built-in kind the fake serves. */
export const MODEL_OF_KIND: Record<string, string> = {
  Namespace: 'V1Namespace',
  ConfigMap: 'V1ConfigMap',
  Secret: 'V1Secret',
  Service: 'V1Service',
  PersistentVolumeClaim: 'V1PersistentVolumeClaim',
  ServiceAccount: 'V1ServiceAccount',
  ResourceQuota: 'V1ResourceQuota',
  LimitRange: 'V1LimitRange',
  Event: 'CoreV1Event',
  Deployment: 'V1Deployment',
  Ingress: 'V1Ingress',
  Lease: 'V1Lease',
  CustomResourceDefinition: 'V1CustomResourceDefinition',
};

function modelOf(index: ModelIndex, type: string): Model | undefined {
  const m = index[type] as Partial<Model> | undefined;
  return typeof m?.getAttributeTypeMap === 'function' ? (m as Model) : undefined;
}

/** Calls `onUnknown` for every field of `value` that the model `type` does not declare. */
export function walkBuiltin(index: ModelIndex, type: string, value: unknown, path: string, onUnknown: (path: string, parent: Record<string, unknown>, key: string) => void): void {
  const array = /^Array<(.+)>$/.exec(type);
  if (array) {
    if (Array.isArray(value)) value.forEach((v, i) => walkBuiltin(index, array[1]!, v, `${path}[${i}]`, onUnknown));
    return;
  }
  const map = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (map) {
    if (isPlainObject(value)) for (const [k, v] of Object.entries(value)) walkBuiltin(index, map[1]!, v, path ? `${path}.${k}` : k, onUnknown);
    return;
  }
  const model = modelOf(index, type);
  if (!model || !isPlainObject(value)) return;
  const attributes = new Map(model.getAttributeTypeMap().map((a) => [a.baseName, a.type]));
  for (const key of Object.keys(value)) {
    const child = path ? `${path}.${key}` : key;
    const t = attributes.get(key);
    if (t === undefined) onUnknown(child, value, key);
    else walkBuiltin(index, t, value[key], child, onUnknown);
  }
}
