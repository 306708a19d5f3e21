/** The API describes itself: the OpenAPI 3.1 document and an interactive reference page (no external assets). */
import { API_PREFIX, buildOpenApi } from '@wharf/contracts';
import type { Handler } from '../handler.js';
import { REFERENCE_PAGE } from './reference-page.js';

let document: string | undefined;

export const docsHandlers = {
  getOpenApi: async (ctx) => {
    document ??= JSON.stringify(buildOpenApi(API_PREFIX));
    await ctx.reply.code(200).header('cache-control', 'public, max-age=300').type('application/json; charset=utf-8').send(document);
    return { streamed: true };
  },
  getReference: async (ctx) => {
    await ctx.reply
      .code(200)
      .header('content-security-policy', "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
      .type('text/html; charset=utf-8')
      .send(REFERENCE_PAGE);
    return { streamed: true };
  },
} satisfies Record<string, Handler>;
