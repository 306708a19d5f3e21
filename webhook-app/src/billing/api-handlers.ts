/** The REST API's billing routes (contracts' API_ROUTES: getBilling, createCheckoutSession, createPortalSession). */
import { AUDIT_ACTIONS, type BillingPlanId } from '@wharf/contracts';
import { audit } from '@wharf/store';
import { actingOf, auditEntry, type Handler, type HandlerContext } from '../api/handler.js';
import { ProblemError } from '../api/http/problem-error.js';
import { BillingError, type BillingService } from './billing-service.js';

async function run<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call();
  } catch (err) {
    if (err instanceof BillingError) throw new ProblemError(err.code, err.message);
    throw err;
  }
}

function service(ctx: HandlerContext): BillingService {
  return ctx.deps.billing;
}

const getBilling: Handler = async (ctx) => ({ status: 200, body: await run(() => service(ctx).view(actingOf(ctx))) });

const createCheckoutSession: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  const plan = ctx.body.plan as BillingPlanId;
  const session = await run(() =>
    service(ctx).checkout(acting, {
      plan,
      ...(typeof ctx.body.seats === 'number' ? { seats: ctx.body.seats } : {}),
      ...(typeof ctx.body.successUrl === 'string' ? { successUrl: ctx.body.successUrl } : {}),
      ...(typeof ctx.body.cancelUrl === 'string' ? { cancelUrl: ctx.body.cancelUrl } : {}),
    }),
  );
  await audit.recordAudit(ctx.deps.pool, [auditEntry(ctx, { action: AUDIT_ACTIONS.billingCheckout, subject: `organization:${acting.tenantId}`, details: { plan, session: session.id } })]);
  return { status: 201, body: session };
};

const createPortalSession: Handler = async (ctx) => {
  const acting = actingOf(ctx);
  const session = await run(() => service(ctx).portal(acting, typeof ctx.body.returnUrl === 'string' ? { returnUrl: ctx.body.returnUrl } : {}));
  await audit.recordAudit(ctx.deps.pool, [auditEntry(ctx, { action: AUDIT_ACTIONS.billingPortal, subject: `organization:${acting.tenantId}`, details: { session: session.id } })]);
  return { status: 201, body: session };
};

export const billingHandlers = { getBilling, createCheckoutSession, createPortalSession } satisfies Record<string, Handler>;
