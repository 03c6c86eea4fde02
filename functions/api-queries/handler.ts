import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import { apiHandler, type Logger, type RouteContext } from '../../lib/api/handler-kit.ts';
import { HttpProblem, json, parseWith, problem } from '../../lib/api/http.ts';
import { openApiDocument } from '../../lib/api/openapi.ts';
import { AuditQuery, EscalationQuery, PlanListQuery, type AccessPurpose } from '../../lib/api/request-schemas.ts';
import { accessPurpose, auditAccess, auditRefusedCaller } from '../../lib/api/audit-access.ts';
import { wholeDaysTooLong, AuditRangeTooLong, type DynamoAuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { AllocationId, PlanId, ProviderId, type Plan } from '../../lib/domain/schemas.ts';
import { providerAllocationView } from '../../lib/domain/provider-views.ts';
import { participantShareDecision, providerParticipantView } from '../../lib/domain/participant-share.ts';
import { planIdOfAllocation } from '../../lib/adapters/dynamodb/keys.ts';
import { allocationHeldBy, noSuchAllocation } from '../../lib/api/provider-allocation-access.ts';
import type { WorklistName } from '../../lib/adapters/dynamodb/worklist-cursor.ts';
import type { Stage } from '../../lib/domain/lifecycle.ts';
import { byUrgency, historyView, planSummary, planView } from '../../lib/domain/views.ts';
import { dueHorizon } from '../../lib/domain/worklist.ts';
import { awsDeps } from '../../lib/runtime/aws.ts';

export interface QueryApiDeps {
  plans: PlanRepository;
  audit: DynamoAuditLog;
  clock?: () => string;
  /** Where an unexpected error is logged (default console.error): the embedded stack tells its stop's doing apart. */
  logger?: Logger;
}

const WORKLIST_STAGES = ['referred', 'assessment', 'allocating', 'active', 'exited'] as const;

/** How many times one page of a due list reads on to fill itself (see worklistPage): bounds a request's reads. */
const WORKLIST_READS_PER_PAGE = 4;

export function makeHandler(deps: QueryApiDeps) {
  let openapi: unknown;
  const clock = deps.clock ?? (() => new Date().toISOString());

  /**
   * A page of the escalated plans and, with `dueBy`, then of those due by then. The pages follow the
   * indexes' order (the longest-open escalation first, then the soonest due), the one order a cursor
   * can keep over pages without reading every plan; each page is put in urgency order (byUrgency),
   * which keeps escalated plans before the others. A page that comes back short (plans left out by
   * the stage filter, or gone from the index since it was read) reads on to fill itself, a few times
   * at most: a request makes at most WORKLIST_READS_PER_PAGE calls of PlanRepository.worklistPage, each
   * reading at most limit + 1 entries a shard of byAlert and, for a due list, of byWork. `escalatedOnly`:
   * the team leads' escalations list, the overdue list's escalated plans without those merely past due.
   * `stage`: only plans in that stage; the cursor records it, so it is not read with another.
   */
  async function worklistPage(list: WorklistName, now: string, limit: number, cursor: string | undefined, stage?: Stage, escalatedOnly = false) {
    const dueBy = escalatedOnly ? undefined : dueHorizon(now, list);
    const plans: Plan[] = [];
    let next = cursor;
    for (let read = 0; read < WORKLIST_READS_PER_PAGE; read++) {
      const page = await deps.plans.worklistPage(list, dueBy, limit - plans.length, next, stage);
      // A plan whose identity was erased while its follow-ups were to come (an older release let that
      // happen) is nobody's work: its next follow-up timer closes it (decide.ts), and until then it is not listed.
      plans.push(...page.items.filter((plan) => !plan.identityErasedAt && (!stage || plan.stage === stage)));
      next = page.nextCursor;
      if (!next || plans.length >= limit) break;
    }
    return { plans: plans.sort(byUrgency), nextCursor: next ?? null };
  }

  async function escalations(ctx: RouteContext) {
    const query = parseWith(EscalationQuery, ctx.event.queryStringParameters ?? {}, 'query');
    const now = clock();
    const { plans, nextCursor } = await worklistPage('overdue', now, query.limit, query.cursor, undefined, true);
    return json(200, { items: plans.map((p) => ({ ...planSummary(p, now), escalations: p.escalations.filter((e) => !e.resolvedAt) })), nextCursor });
  }

  async function listPlans(ctx: RouteContext) {
    const query = parseWith(PlanListQuery, ctx.event.queryStringParameters ?? {}, 'query');
    const now = clock();
    if (query.due) {
      // Plans with an open escalation are always on the list; each list adds what falls due before its horizon (worklist.ts).
      // PlanListQuery has checked a cursor against the due list and the stage filter (a 400 naming it).
      const { plans, nextCursor } = await worklistPage(query.due, now, query.limit, query.cursor, query.stage);
      return json(200, { items: plans.map((p) => planSummary(p, now)), nextCursor });
    }
    if (query.stage) {
      let page;
      try {
        page = await deps.plans.listByStage(query.stage, query.limit, query.cursor);
      } catch (error) {
        if (error instanceof SyntaxError || (error as Error).message === 'cursor is not a key' || (error as Error).name === 'ValidationException')
          throw problem(400, 'cursor: is not a cursor this API returned', [{ path: 'cursor', message: 'is not a cursor this API returned' }]);
        throw error;
      }
      return json(200, { items: page.items.map((p) => planSummary(p, now)), nextCursor: page.nextCursor ?? null });
    }
    // A cursor belongs to the list that gave it: a stage's or a due list's, never the list of every open stage (one page, no cursor).
    if (query.cursor)
      throw problem(400, 'The query is not valid: cursor: only valid with the stage or due list that returned it', [
        { path: 'cursor', message: 'only valid with the stage or due list that returned it' },
      ]);
    const pages = await Promise.all(WORKLIST_STAGES.map((s) => deps.plans.listByStage(s, query.limit)));
    const items = pages.flatMap((p) => p.items).sort((a, b) => b.updatedAt.localeCompare(a.updatedAt)).slice(0, query.limit);
    return json(200, { items: items.map((p) => planSummary(p, now)), nextCursor: null });
  }

  async function getPlan(ctx: RouteContext) {
    const planId = parseWith(PlanId, ctx.params.planId, 'plan id in the path', 'planId');
    const plan = await deps.plans.getPlan(planId, false);
    if (!plan) throw problem(404, `No plan ${planId}.`);
    // Coordinators work with the person; team leads oversee plans and do not need her identity.
    const withIdentity = ctx.principal?.role === 'coordinator' && !plan.identityErasedAt;
    await auditAccess(deps.audit, ctx, withIdentity ? 'read-plan-and-identity' : 'read-plan', { planId, ...(withIdentity ? { participantId: plan.participantId } : {}) }, clock(), 'support-planning');
    // With its revision, read consistently: a correction sent with it (If-Match) is refused if someone else's landed since.
    const record = withIdentity ? await deps.plans.getIdentityRecord(plan.participantId) : undefined;
    return json(200, { ...planView(plan, clock(), record?.identity), ...(record ? { participantRevision: record.revision } : {}) });
  }

  async function history(ctx: RouteContext) {
    const planId = parseWith(PlanId, ctx.params.planId, 'plan id in the path', 'planId');
    const plan = await deps.plans.getPlan(planId, false);
    if (!plan) throw problem(404, `No plan ${planId}.`);
    await auditAccess(deps.audit, ctx, 'read-history', { planId }, clock(), 'support-planning');
    const events = await deps.plans.history(planId);
    // Events still in the outbox are part of the history too, even before delivery.
    const recorded = new Set(events.map((e) => e.id));
    const all = [...events, ...plan.outbox.filter((e) => !recorded.has(e.id))].sort((a, b) => a.sequence - b.sequence);
    return json(200, { planId, items: historyView(all) });
  }

  /** The detail an offer event links to: read at the moment of asking, so consent as it is now applies. */
  async function allocation(ctx: RouteContext) {
    const allocationId = parseWith(AllocationId, ctx.params.allocationId, 'allocation id in the path', 'allocationId');
    const plan = await deps.plans.getPlan(planIdOfAllocation(allocationId) as string, false);
    const held = plan?.allocations.find((a) => a.allocationId === allocationId);
    if (!plan || !held) throw noSuchAllocation(allocationId);
    // Another provider's allocation is answered as an unknown one: a provider cannot count the others on her plan.
    if (ctx.principal?.role === 'provider') allocationHeldBy(plan, allocationId, ctx.principal.providerId);
    await auditAccess(deps.audit, ctx, 'read-allocation', { planId: plan.planId, allocationId, providerId: held.providerId }, clock(), 'delivering-the-allocated-service');
    return json(200, providerAllocationView(plan, allocationId));
  }

  /**
   * Who she is and how to reach her safely, for the provider holding an accepted allocation, as far
   * as her consent goes (lib/domain/participant-share.ts). Every attempt is audited before anything
   * is read or given, refused ones too (with the reason), so a governance lead sees who tried.
   */
  async function participantForProvider(ctx: RouteContext) {
    const routePurpose = 'contacting-the-participant';
    const refused = (reason: string, resource: { planId?: string; allocationId?: string }, why: AccessPurpose) =>
      auditAccess(deps.audit, ctx, `read-participant-contact-refused:${reason}`, resource, clock(), routePurpose, why);
    // A purpose that is not one of the codes is refused like any other attempt: recorded first (with
    // the route's purpose as the why, never the text sent), then answered 400 naming the header.
    let why: AccessPurpose = routePurpose;
    let purposeRefused: HttpProblem | undefined;
    try {
      why = accessPurpose(ctx, routePurpose);
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      purposeRefused = error;
    }
    let allocationId: string;
    try {
      allocationId = parseWith(AllocationId, ctx.params.allocationId, 'allocation id in the path', 'allocationId');
    } catch (error) {
      if (!(error instanceof HttpProblem)) throw error;
      // An attempt like any other, recorded first; it names no allocation, and the text sent is kept
      // in no form: it is the caller's free text (her name or number could be typed there, or line
      // breaks and escape codes, at any length), a prefix of it could still hold them, and a hash of
      // a phone number is confirmed by hashing every number.
      await refused('malformed-allocation-id', {}, why);
      throw error;
    }
    // Read consistently: a consent withdrawn, an allocation ended or a plan closed a moment ago must
    // already refuse (an eventually consistent read may still return the plan from before).
    const plan = await deps.plans.getPlan(planIdOfAllocation(allocationId) as string);
    const decision = participantShareDecision(plan, allocationId, ctx.principal?.providerId);
    // The plan is named in the audit record only when the allocation is on it (another provider's is,
    // though that provider is answered as for an unknown one).
    const planOf = (known: boolean) => (plan && known ? { planId: plan.planId } : {});
    if (purposeRefused) {
      await refused('unknown-purpose', { ...planOf(decision.allowed || decision.reason !== 'unknown-allocation'), allocationId }, routePurpose);
      throw purposeRefused;
    }
    if (!decision.allowed) {
      await refused(decision.reason, { ...planOf(decision.reason !== 'unknown-allocation'), allocationId }, why);
      throw problem(decision.status, decision.detail);
    }
    const held = plan as NonNullable<typeof plan>;
    await auditAccess(deps.audit, ctx, 'read-participant-contact', { planId: held.planId, participantId: held.participantId, allocationId }, clock(), routePurpose, why);
    const identity = await deps.plans.getIdentity(held.participantId);
    if (!identity) throw problem(404, `No identity is held for allocation ${allocationId}.`);
    return json(200, providerParticipantView(held, allocationId, identity));
  }

  /**
   * A request for her contact details that authorisation refused before participantForProvider ran:
   * a signed-in coordinator, team lead or commissioner (this route is for providers), or a provider
   * token naming no provider (403). Recorded like the route's own refusals, with the allocation and,
   * when the allocation is on it, the plan, so a governance lead sees who tried in "Who has seen this
   * plan"; a malformed id is not kept (it is the caller's free text). A 401 (no token, or one with no
   * Wraparound role) is not recorded: there is nobody to name, anyone could fill the log with them,
   * and on AWS the JWT authorizer answers them before this function runs (API Gateway's access log has them).
   */
  async function participantRefusedBeforeRoute(ctx: RouteContext) {
    if (!ctx.principal) return;
    const reason = ctx.principal.roles.includes('provider') ? 'no-provider-in-token' : 'role-not-allowed';
    const id = AllocationId.safeParse(ctx.params.allocationId);
    let resource: { planId?: string; allocationId?: string } = {};
    if (id.success) {
      const plan = await deps.plans.getPlan(planIdOfAllocation(id.data) as string);
      resource = { ...(plan?.allocations.some((a) => a.allocationId === id.data) ? { planId: plan.planId } : {}), allocationId: id.data };
    }
    await auditRefusedCaller(deps.audit, ctx, `read-participant-contact-refused:${reason}`, resource, clock(), 'contacting-the-participant');
  }

  async function auditLog(ctx: RouteContext) {
    const query = parseWith(AuditQuery, ctx.event.queryStringParameters ?? {}, 'query');
    // The days a plan query reads whole are bounded by where the plan index starts, which only the
    // table knows: refused here, like the query's other faults, before the read is recorded.
    const tooLong = query.planId ? wholeDaysTooLong(query.from, query.to, await deps.audit.planIndexFrom()) : undefined;
    if (tooLong) throw auditRangeProblem(new AuditRangeTooLong(tooLong));
    await auditAccess(deps.audit, ctx, 'read-audit', query.planId ? { planId: query.planId } : {}, clock(), 'oversight');
    // AuditQuery has checked the cursor (a 400 naming it, before anything is recorded).
    return json(200, await deps.audit.query(query.from, query.to, { planId: query.planId, limit: query.limit, cursor: query.cursor }));
  }

  async function offers(ctx: RouteContext) {
    const providerId = parseWith(ProviderId, ctx.params.providerId, 'provider id in the path', 'providerId');
    if (ctx.principal?.providerId !== providerId) throw problem(403, `This token is for provider ${ctx.principal?.providerId}; it cannot read ${providerId}'s offers.`);
    await auditAccess(deps.audit, ctx, 'read-provider-offers', { providerId }, clock(), 'answering-offers');
    const records = await deps.plans.providerAllocations(providerId, 'offered');
    const items = records.sort((a, b) => String(a.respondBy).localeCompare(String(b.respondBy)));
    return json(200, { items });
  }

  return apiHandler({
    'GET /health': async () => json(200, { status: 'ok' }),
    'GET /openapi.json': async () => json(200, (openapi ??= openApiDocument())),
    'GET /plans': listPlans,
    'GET /plans/{planId}': getPlan,
    'GET /plans/{planId}/history': history,
    'GET /providers/{providerId}/offers': offers,
    'GET /escalations': escalations,
    'GET /audit': auditLog,
    'GET /allocations/{allocationId}': allocation,
    'GET /allocations/{allocationId}/participant': participantForProvider,
  }, deps.logger, { 'GET /allocations/{allocationId}/participant': participantRefusedBeforeRoute });
}

let built: ReturnType<typeof makeHandler> | undefined;
export const handler = (...args: Parameters<ReturnType<typeof makeHandler>>) => {
  built ??= makeHandler(awsDeps());
  return built(...args);
};

/**
 * A plan query reaching too far before the plan index's start: a 400 naming `from`, with the earliest
 * day it may be (earliestFrom) and the index's first day (planIndexFrom, once the table has one), so a
 * client such as the audit page can ask again from there.
 */
function auditRangeProblem(refused: AuditRangeTooLong): HttpProblem {
  const p = problem(400, `The query is not valid: from: ${refused.message}`, [{ path: 'from', message: refused.message }]);
  p.extensions = { earliestFrom: refused.earliestFrom, ...(refused.planIndexFrom !== undefined ? { planIndexFrom: refused.planIndexFrom } : {}) };
  return p;
}
