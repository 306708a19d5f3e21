/** Turns a PVE error answer (status, the message in its status line, per-parameter errors) into an AgentError. */
import { AgentError } from '../errors.js';

export interface PveFailure {
  status: number;
  reason: string;
  errors?: Record<string, string>;
  method: string;
  path: string;
  tokenId: string;
  host: string;
}

export function classifyPveError(f: PveFailure): AgentError {
  const where = `${f.method} ${f.path}`;
  const details = { status: f.status, pveMessage: f.reason, ...(f.errors ? { pveErrors: f.errors } : {}) };
  if (f.status === 401) {
    return new AgentError('ProxmoxAuthFailed', `Proxmox at ${f.host} rejected the API token ${f.tokenId} (401 ${f.reason}): check the token id and secret; not retrying for a while`, { details });
  }
  if (f.status === 403) {
    return new AgentError('PermissionDenied', `the API token ${f.tokenId} lacks a privilege for ${where}: ${f.reason}. Grant it to the token (and, for a privilege-separated token, to its user)`, { details });
  }
  if (f.status >= 595 && f.status <= 599) {
    const node = /^\/nodes\/([^/]+)/.exec(f.path)?.[1];
    return new AgentError('ProxmoxUnreachable', `Proxmox could not reach ${node ? `node ${node}` : 'the node'} for ${where} (${f.status} ${f.reason})`, { details: { ...details, node } });
  }
  if (f.status === 400) {
    const params = Object.entries(f.errors ?? {}).map(([k, v]) => `${k}: ${v}`).join('; ');
    return new AgentError('InvalidRequest', `Proxmox rejected ${where}: ${f.reason}${params ? ` ${params}` : ''}`, { details });
  }
  if (f.status === 501) return new AgentError('InvalidRequest', `Proxmox does not know ${where} (${f.reason}): is this Proxmox VE 8 or newer?`, { details });
  if (/already exists/.test(f.reason)) return new AgentError('VmidTaken', `${where}: ${f.reason}`, { details });
  if (/^Configuration file '.*' does not exist$/.test(f.reason)) return new AgentError('GuestNotFound', `${where}: ${f.reason}`, { details });
  if (/^volume '.*' does not exist$/.test(f.reason)) return new AgentError('TemplateNotFound', `${where}: ${f.reason}`, { details });
  if (/insufficient free space|No space left on device|not enough space/i.test(f.reason)) return new AgentError('StorageFull', `${where}: ${f.reason}`, { details });
  return new AgentError('TaskFailed', `Proxmox failed ${where}: ${f.status} ${f.reason}`, { details });
}
