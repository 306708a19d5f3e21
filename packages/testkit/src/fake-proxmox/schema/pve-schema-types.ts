/** Shape of the vendored Proxmox VE API description (pve-api.json), as generate-pve-schema.ts writes it. */

export interface PveParam {
  type: 'string' | 'integer' | 'number' | 'boolean' | 'array';
  optional: boolean;
  /** A path parameter ({node}, {vmid}, …): always present, taken from the URL. */
  path?: boolean;
  enum?: string[];
  /** A named PVE format (`pve-vmid`, `urlencoded`, `pve-tag-list`, …) or a property-string format object. */
  format?: string | Record<string, unknown>;
  pattern?: string;
  minimum?: number;
  maximum?: number;
  minLength?: number;
  maxLength?: number;
}

export interface PveOperation {
  description: string;
  params: Record<string, PveParam>;
  /** The return type's name in the model (`string` for UPID-returning operations). */
  returns: string;
  /** PVE's permission check for this operation (prefix notation), when the schema declares one. */
  permissions?: Record<string, unknown>;
  allowtoken: boolean;
}

export type PveMethod = 'GET' | 'POST' | 'PUT' | 'DELETE';

export interface PveApiSchema {
  source: string;
  kept: string[];
  paths: Record<string, Partial<Record<PveMethod, PveOperation>>>;
}
