/** `GET /api/v1/events`: Server-Sent Events of the caller's organization (bounded per organization and per process). */
import type { Handler } from '../handler.js';
import { actingOf } from '../handler.js';
import { ProblemError } from '../http/problem-error.js';

export const MAX_STREAMS_PER_ORGANIZATION = 2_000;
export const MAX_STREAMS = 10_000;
const HEARTBEAT_MS = 15_000;

const streamEvents: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  const hub = ctx.deps.live;
  if (!hub) throw new ProblemError('not-implemented', 'live updates need DATABASE_URL (LISTEN/NOTIFY)');
  if (hub.count(acting.tenantId) >= MAX_STREAMS_PER_ORGANIZATION || hub.count() >= MAX_STREAMS) {
    throw new ProblemError('too-many-streams', `at most ${MAX_STREAMS_PER_ORGANIZATION} open streams per organization`, { headers: { 'retry-after': '5' } });
  }
  const raw = ctx.reply.raw;
  ctx.reply.hijack();
  raw.writeHead(200, {
    'content-type': 'text/event-stream; charset=utf-8',
    'cache-control': 'no-store',
    connection: 'keep-alive',
    'x-accel-buffering': 'no',
    'x-request-id': ctx.requestId,
    ...Object.fromEntries(Object.entries(ctx.reply.getHeaders()).map(([k, v]) => [k, String(v)])),
  });
  let seq = 0;
  const send = (event: string, json: string) => {
    seq += 1;
    raw.write(`id: ${seq}\nevent: ${event}\ndata: ${json}\n\n`);
  };
  raw.write('retry: 3000\n\n');
  send('ready', JSON.stringify({ organization: acting.slug }));
  const unsubscribe = hub.subscribe({ tenantId: acting.tenantId, repositoryIds: acting.repositoryIds, send });
  const heartbeat = setInterval(() => raw.write(': keep-alive\n\n'), HEARTBEAT_MS);
  heartbeat.unref();
  const end = () => raw.end();
  const close = () => {
    clearInterval(heartbeat);
    unsubscribe();
    ctx.closing.removeEventListener('abort', end);
  };
  ctx.req.raw.on('close', close);
  raw.on('error', close);
  // The server is stopping: end the stream (the page reconnects with its backoff) instead of holding the close up.
  if (ctx.closing.aborted) end();
  else ctx.closing.addEventListener('abort', end, { once: true });
  return { streamed: true };
};

export const eventHandlers = { streamEvents } satisfies Record<string, Handler>;
