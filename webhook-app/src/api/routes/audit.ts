/** The audit log: filtered pages, newest first, and the export as JSON lines, oldest first. */
import { Readable } from 'node:stream';
import { audit } from '@wharf/store';
import { actingOf, type Handler, type HandlerContext } from '../handler.js';
import { decodeCursor, pageOf } from '../http/pagination.js';
import { auditView } from '../views.js';

const filterOf = (ctx: HandlerContext): audit.AuditFilter => ({
  ...(ctx.query.actor ? { actor: ctx.query.actor } : {}),
  ...(ctx.query.action ? { action: ctx.query.action } : {}),
  ...(ctx.query.environment ? { subject: `environment:${ctx.query.environment}` } : {}),
  ...(ctx.query.since ? { since: ctx.query.since } : {}),
  ...(ctx.query.until ? { until: ctx.query.until } : {}),
});

const listAudit: Handler = async (ctx) => {
  const cursor = decodeCursor(ctx.query.cursor, ['n']);
  const rows = await audit.listAuditPage(ctx.deps.pool, actingOf(ctx), filterOf(ctx), { ...(cursor ? { beforeId: Number(cursor[0]) } : {}), limit: ctx.limit + 1 });
  return { status: 200, body: pageOf(rows, ctx.limit, auditView, (a) => [a.id]) };
};

const exportAudit: Handler = async (ctx) => {
  const scope = { tenantId: actingOf(ctx).tenantId };
  const filter = filterOf(ctx);
  const pool = ctx.deps.pool;
  async function* lines() {
    let after = 0;
    for (;;) {
      const chunk = await audit.exportAuditChunk(pool, scope, filter, after, 500);
      for (const row of chunk) yield `${JSON.stringify(auditView(row))}\n`;
      if (chunk.length < 500) return;
      after = chunk.at(-1)?.id ?? after;
    }
  }
  await ctx.reply
    .code(200)
    .header('content-disposition', `attachment; filename="wharf-audit-${actingOf(ctx).slug}.jsonl"`)
    .type('application/x-ndjson')
    .send(Readable.from(lines()));
  return { streamed: true };
};

export const auditHandlers = { listAudit, exportAudit } satisfies Record<string, Handler>;
