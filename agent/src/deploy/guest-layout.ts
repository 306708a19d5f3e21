/**
 * Where an environment lives on its guest, under the login user's home:
 *   ~/wharf/<envKey>/releases/<id>/   runtime bundle + config files, immutable, named by content
 *   ~/wharf/<envKey>/data/            the runtime's stable data directory (kept across releases)
 *   ~/wharf/<envKey>/slots/{a,b}/     run.sh, runtime.log: the two slots versions alternate between
 *   ~/wharf/<envKey>/proxy/           proxy.mjs, active (the live slot's port), proxy log
 *   ~/wharf/runtimes/<id>/            a runtime (runtime.mjs and its support files), shared by every release using it
 */
import { createHash } from 'node:crypto';

export const SLOTS = ['a', 'b'] as const;
export type Slot = (typeof SLOTS)[number];

export interface GuestLayout {
  base: string;
  releases: string;
  data: string;
  slot(slot: Slot): string;
  proxy: string;
  activeFile: string;
  /** Where a runtime package with this id lives (shared by the guest's environments). */
  runtime(id: string): string;
}

export function guestLayout(home: string, envKey: string): GuestLayout {
  if (!/^[0-9a-f]{12}$/.test(envKey)) throw new Error(`environment key must be 12 hex digits, got ${envKey}`);
  const base = `${home.replace(/\/+$/, '')}/wharf/${envKey}`;
  return {
    base,
    releases: `${base}/releases`,
    data: `${base}/data`,
    slot: (s) => `${base}/slots/${s}`,
    proxy: `${base}/proxy`,
    activeFile: `${base}/proxy/active`,
    runtime: (id) => `${home.replace(/\/+$/, '')}/wharf/runtimes/${id}`,
  };
}

/**
 * Loopback ports of the two slots, fixed per environment (10000–29999, below Linux's ephemeral range) so a
 * restarted slot comes back where the proxy expects it.
 */
export function slotPorts(envKey: string): Record<Slot, number> {
  const n = Number.parseInt(createHash('sha256').update(envKey).digest('hex').slice(0, 8), 16) % 9999;
  return { a: 10_000 + n * 2, b: 10_001 + n * 2 };
}
