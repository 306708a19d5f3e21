/**
 * `wharf billing status`: the organization's plan, billing status, usage against each limit and the projected
 * invoice, from a remote Wharf's API (`GET /api/v1/billing`) or, on this machine, from the store (`--org SLUG`, or the
 * only organization; the projected invoice when STRIPE_SECRET_KEY is set).
 * `wharf billing sync-catalog`: creates or updates Stripe's products, prices and meters from the plan table.
 */
import { parseArgs } from 'node:util';
import { COUNTED_LIMITS, loadSettings, StartupError, type CountedLimit } from '@wharf/contracts';
import { billing as billingStore, type DatabasePool } from '@wharf/store';
import { billingServiceFromSettings, createStripeClient, stripeSettings, syncCatalog, type BillingView } from '@wharf/webhook-app';
import pino from 'pino';
import type { CommandIO } from './io.js';

export const billingHelp = `Usage: wharf billing status [--org SLUG] [--json]
       wharf billing sync-catalog

status        The plan, billing status, usage against each limit (previews at once, production environments, agents,
              seats) and the projected invoice. Against a remote Wharf (wharf login, WHARF_URL/WHARF_TOKEN) it reads
              GET /api/v1/billing; here it reads the store of the running Wharf (--org picks the organization).
sync-catalog  Creates or updates Stripe's products, prices (per seat, graduated metered) and billing meters from the
              plan table, by lookup key and meter event name; a second run changes nothing. Needs STRIPE_SECRET_KEY.`;

const LIMIT_NAMES: Record<CountedLimit, string> = {
  previewEnvironments: 'preview environments at once',
  productionEnvironments: 'production environments',
  agents: 'agents',
  seats: 'seats',
};

const money = (cents: number, currency: string) => `${(cents / 100).toFixed(2)} ${currency.toUpperCase()}`;
const day = (iso: string | null) => (iso ? iso.slice(0, 10) : '–');

export function renderBillingStatus(org: string, v: BillingView): string {
  const lines = [`${org}: ${v.planName} (${v.status.replace('_', ' ')})${v.billingEnabled ? '' : ' — billing is not connected to Stripe on this Wharf'}`];
  if (v.period) lines.push(`  period        ${day(v.period.start)} – ${day(v.period.end)}${v.cancelAtPeriodEnd ? ' (cancels at its end)' : ''}`);
  if (v.trialEndsAt) lines.push(`  trial ends    ${day(v.trialEndsAt)}`);
  if (v.pastDueSince) lines.push(`  past due      since ${day(v.pastDueSince)}, grace period until ${day(v.graceEndsAt)}`);
  if (v.banner) lines.push('', `  ! ${v.banner}`);
  lines.push('', `  ${'LIMIT'.padEnd(30)} ${'USED'.padStart(6)} ${'ALLOWED'.padStart(9)}`);
  for (const limit of COUNTED_LIMITS) {
    const u = v.usage.find((x) => x.limit === limit);
    if (!u) continue;
    const over = u.allowed !== null && u.used > u.allowed ? '  over the limit' : u.allowed !== null && u.used === u.allowed ? '  at the limit' : '';
    lines.push(`  ${LIMIT_NAMES[limit].padEnd(30)} ${String(u.used).padStart(6)} ${(u.allowed === null ? 'unlimited' : String(u.allowed)).padStart(9)}${over}`);
  }
  if (v.upcomingInvoice) {
    const inv = v.upcomingInvoice;
    lines.push('', `  projected invoice: ${money(inv.total, inv.currency)}${inv.periodEnd ? ` on ${day(inv.periodEnd)}` : ''}`);
    for (const l of inv.lines) lines.push(`    ${(l.description ?? '').slice(0, 60).padEnd(60)} ${money(l.amount, inv.currency).padStart(14)}`);
  }
  return `${lines.join('\n')}\n`;
}

async function remoteStatus(io: CommandIO, remote: { url: string; token: string; organization?: string }, json: boolean): Promise<number> {
  let res: Response;
  try {
    res = await fetch(`${remote.url}/api/v1/billing`, {
      headers: { authorization: `Bearer ${remote.token}`, accept: 'application/json', ...(remote.organization ? { 'wharf-organization': remote.organization } : {}) },
      signal: AbortSignal.timeout(30_000),
    });
  } catch (err) {
    io.stderr(`wharf billing: cannot reach ${remote.url}: ${(err as Error).message}\n`);
    return 1;
  }
  const body = (await res.json().catch(() => ({}))) as BillingView & { detail?: string; title?: string; code?: string };
  if (!res.ok) {
    io.stderr(`wharf billing: ${remote.url}: ${body.detail ?? body.title ?? `HTTP ${res.status}`}${body.code ? ` (${body.code})` : ''}\n`);
    return 1;
  }
  io.stdout(json ? `${JSON.stringify(body, null, 2)}\n` : renderBillingStatus(remote.organization ?? remote.url, body));
  return 0;
}

async function localStatus(io: CommandIO, pool: DatabasePool, org: string | undefined, json: boolean): Promise<number> {
  const orgs = await billingStore.listOrganizationsOfEveryTenant(pool);
  const chosen = org ? orgs.find((o) => o.slug === org) : orgs.length === 1 ? orgs[0] : undefined;
  if (!chosen) {
    io.stderr(
      org
        ? `wharf billing: no organization ${org} here (there are: ${orgs.map((o) => o.slug).join(', ') || 'none'})\n`
        : `wharf billing: say which organization with --org (there are: ${orgs.map((o) => o.slug).join(', ') || 'none'})\n`,
    );
    return 1;
  }
  const settings = loadSettings({ ...stripeSettings }, io.env);
  const service = billingServiceFromSettings({
    pool,
    log: pino({ level: 'silent' }),
    settings: { ...settings, WHARF_PUBLIC_URL: undefined },
  });
  const view = await service.view({ tenantId: chosen.id });
  io.stdout(json ? `${JSON.stringify(view, null, 2)}\n` : renderBillingStatus(chosen.slug, view));
  return 0;
}

export async function runBilling(argv: string[], io: CommandIO): Promise<number> {
  const [sub, ...rest] = argv;
  if (!sub || sub === '--help' || sub === '-h' || sub === 'help') {
    io.stdout(`${billingHelp}\n`);
    return sub ? 0 : 2;
  }
  if (sub === 'sync-catalog') {
    const settings = loadSettings({ ...stripeSettings }, io.env);
    if (!settings.STRIPE_SECRET_KEY) throw new StartupError('wharf billing sync-catalog needs STRIPE_SECRET_KEY (an sk_test_… key for test mode)');
    const report = await syncCatalog(createStripeClient({ secretKey: settings.STRIPE_SECRET_KEY, apiUrl: settings.STRIPE_API_URL }));
    for (const name of report.created) io.stdout(`created    ${name}\n`);
    for (const name of report.updated) io.stdout(`updated    ${name}\n`);
    io.stdout(`${report.created.length} created, ${report.updated.length} updated, ${report.unchanged.length} unchanged\n`);
    return 0;
  }
  if (sub !== 'status') {
    io.stderr(`wharf billing: unknown subcommand ${sub}\n\n${billingHelp}\n`);
    return 2;
  }
  const { values } = parseArgs({ args: rest, options: { org: { type: 'string' }, json: { type: 'boolean' }, context: { type: 'string' }, help: { type: 'boolean', short: 'h' } }, strict: true });
  if (values.help) {
    io.stdout(`${billingHelp}\n`);
    return 0;
  }
  const { findRemote } = await import('../backend/remote-config.js');
  const remote = await findRemote(io.env, values.context);
  if (remote) return remoteStatus(io, values.org ? { ...remote, organization: values.org } : remote, values.json ?? false);
  const { openStore } = await import('../connect.js');
  const pool = await openStore(io.env, io.cwd);
  try {
    return await localStatus(io, pool, values.org, values.json ?? false);
  } finally {
    await pool.end();
  }
}
