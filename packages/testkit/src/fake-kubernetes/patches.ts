/** Non-apply patches: JSON merge patch (RFC 7386) and JSON patch (RFC 6902, with fast-json-patch). */
import fastJsonPatch from 'fast-json-patch';
import { badRequest, KubeError } from './status.js';
import { clone, isPlainObject, type KubeObject } from './objects.js';

export const PATCH_TYPES = [
  'application/json-patch+json',
  'application/merge-patch+json',
  'application/strategic-merge-patch+json',
  'application/apply-patch+yaml',
] as const;
export type PatchType = (typeof PATCH_TYPES)[number];

export function mergePatch(target: unknown, patch: unknown): unknown {
  if (!isPlainObject(patch)) return clone(patch);
  const out: Record<string, unknown> = isPlainObject(target) ? { ...target } : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = mergePatch(out[k], v);
  }
  return out;
}

function parseJson(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch (err) {
    throw badRequest(`error decoding patch: ${(err as Error).message}`);
  }
}

/** A strategic merge patch is a merge patch as long as it holds no lists or `$` directives; the fake refuses the rest. */
function hasListsOrDirectives(v: unknown): boolean {
  if (Array.isArray(v)) return true;
  if (!isPlainObject(v)) return false;
  return Object.entries(v).some(([k, x]) => k.startsWith('$') || hasListsOrDirectives(x));
}

export function applyNonApplyPatch(live: KubeObject, type: Exclude<PatchType, 'application/apply-patch+yaml'>, body: string): KubeObject {
  const patch = parseJson(body);
  if (type === 'application/json-patch+json') {
    if (!Array.isArray(patch)) throw badRequest('json: cannot unmarshal object into Go value of type jsonpatch.Patch');
    try {
      return fastJsonPatch.applyPatch(clone(live), patch as fastJsonPatch.Operation[], true, false).newDocument as KubeObject;
    } catch (err) {
      const e = err as Error & { name?: string };
      throw new KubeError({ kind: 'Status', apiVersion: 'v1', metadata: {}, status: 'Failure', message: `the server rejected our request due to an error in our request: ${e.name}: ${e.message.split('\n')[0]}`, reason: 'Invalid', code: 422 });
    }
  }
  if (!isPlainObject(patch)) throw badRequest('json: cannot unmarshal array into Go value of type map[string]interface {}');
  if (type === 'application/strategic-merge-patch+json' && hasListsOrDirectives(patch)) {
    throw badRequest('fake-kubernetes: strategic merge patches with lists or $-directives are not implemented; use application/merge-patch+json or server-side apply');
  }
  return mergePatch(live, patch) as KubeObject;
}
