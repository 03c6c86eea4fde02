import { providerAllocationNeeds, type PlanEvent, type Plan } from '../../lib/domain/schemas.ts';
import type { PlanRepository, ProviderAllocationRecord } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { EventPublisher } from '../../lib/adapters/events/publisher.ts';
import type { DirectoryStore } from '../../lib/adapters/dynamodb/directory-store.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';
import { purgeInstructionsOf } from '../../lib/domain/provider-views.ts';
import { withheldFromProvider } from '../../lib/domain/consent.ts';
import { metricFactsKey } from '../../lib/runtime/step-deps.ts';
import { FactStore } from '../../lib/metrics/fact-store.ts';
import { factsWriter } from '../../lib/metrics/index.ts';

export interface PublishDeps {
  plans: PlanRepository;
  publisher: EventPublisher;
  /** Capacity holds are given back when the events saying an allocation ended are delivered. */
  services?: DirectoryStore;
  clock?: () => string;
  /** Projections of the saved plan (the commissioner metrics); a failure leaves the outbox for the sweeper to retry. */
  onPlanSaved?: (plan: Plan) => Promise<void>;
  /**
   * Whether every plan's stored facts are of the current schema (on AWS, the metrics marker; see
   * FactStore.completeness). Until they are, the digest cannot say the stored facts are current: after
   * a deploy that changed the facts schema they are of the older one (or missing), so they are written
   * whatever the digest says. Without it (the embedded stack rebuilds every plan's facts at start) the
   * digest is trusted.
   */
  factsComplete?: () => Promise<boolean>;
}

/** Events after which an allocation no longer holds a place on its service. */
const RELEASES_CAPACITY = new Set(['allocation.declined.v1', 'allocation.expired.v1', 'allocation.withdrawn.v1', 'allocation.ended.v1', 'plan.consent-withdrawn.v1']);

/** Provider allocation status carried by each allocation event, for the provider's own view. */
const STATUS_OF: Record<string, string> = {
  'allocation.offered.v1': 'offered',
  'allocation.accepted.v1': 'accepted',
  'allocation.declined.v1': 'declined',
  'allocation.expired.v1': 'expired',
  'allocation.withdrawn.v1': 'withdrawn',
  'allocation.ended.v1': 'ended',
  'plan.consent-withdrawn.v1': 'withdrawn',
};

/** Changes no status: the view keeps the allocation's own and gains the instruction to delete. */
const NARROWED = 'plan.consent-narrowed.v1';

export interface DeliveryOptions {
  /**
   * The plan item was written from this very plan (the Publish events step, right after Save plan):
   * an empty outbox then has no index entry to drop. Unset (the sweeper), an empty outbox still
   * indexed, left by a clear that failed half-way on an older path, is taken out of the index.
   */
  justSaved?: boolean;
  /** The plan's metric facts are those already stored (see metricFactsKey): no facts write. */
  factsUnchanged?: boolean;
}

/**
 * Deliver a plan's outbox: history entries, the provider projections and feed, then the bus.
 * Each part is idempotent, so a redelivery by the sweeper after a partial failure repeats nothing
 * a consumer can see twice (consumers dedupe on the event id).
 */
export async function deliverOutbox(deps: PublishDeps, plan: Plan, options: DeliveryOptions = {}): Promise<void> {
  const events: PlanEvent[] = [...plan.outbox].sort((a, b) => a.sequence - b.sequence);
  const project = options.factsUnchanged ? undefined : deps.onPlanSaved;
  if (events.length === 0) {
    await project?.(plan);
    if (!options.justSaved) await deps.plans.unindexEmptyOutbox(plan.planId);
    return;
  }
  // Feed entries are keyed by wall time, never a simulated clock: readers page by it (see WebhookStore.feedSettleMs).
  const now = new Date().toISOString();
  // Provider views are conditional (an older event never overwrites a newer one), so one put each,
  // and only the latest event of each allocation in this outbox.
  const views = new Map<string, ProviderAllocationRecord>();
  for (const event of events) {
    const data = event.data as Record<string, unknown>;
    const allocation = plan.allocations.find((a) => a.allocationId === data.allocationId && a.providerId === event.providerId);
    const status = event.type === NARROWED ? allocation?.status : STATUS_OF[event.type];
    if (!event.providerId || !status || typeof data.allocationId !== 'string') continue;
    // The view is replaced whole, and the events that close an allocation carry little more than its id:
    // what they leave out (service, needs, lead) is the plan's. A consent withdrawal is sent for every
    // allocation the provider ever had, so its status is the allocation's own (an accepted one ended, a
    // declined one stays declined), not "withdrawn" for all.
    const serviceId = typeof data.serviceId === 'string' ? data.serviceId : allocation?.serviceId;
    const needs = providerAllocationNeeds(data.needs ?? allocation?.needs);
    const lead = typeof data.lead === 'boolean' ? data.lead : allocation?.lead;
    // An offer still open keeps its deadline when an event that carries none (a narrowing) replaces its view.
    const respondBy = typeof data.respondBy === 'string' ? data.respondBy : status === 'offered' ? allocation?.respondBy : undefined;
    const purgeInstructions = allocation ? purgeInstructionsOf(plan, allocation) : [];
    views.set(`${event.providerId} ${data.allocationId}`, {
      providerId: event.providerId,
      allocationId: data.allocationId,
      planRef: event.planId,
      status: event.type === 'plan.consent-withdrawn.v1' && allocation ? allocation.status : status,
      ...(serviceId ? { serviceId } : {}),
      ...(needs ? { needs } : {}),
      ...(respondBy ? { respondBy } : {}),
      ...(lead !== undefined ? { lead } : {}),
      // What the provider was told to delete, so its caseload and offers say it (as GET /allocations/{id} does).
      ...(purgeInstructions.length > 0 ? { purgeInstructions } : {}),
      sequence: event.sequence,
      updatedAt: event.time,
    });
  }
  // History and feed, provider views and metric facts are independent idempotent writes: sent at
  // once, so the step waits for the slowest rather than their sum. All are stored before the bus
  // hears of the events (a provider told of an allocation finds it in its view and feed).
  await Promise.all([deps.plans.recordEvents(events, now), ...[...views.values()].map((view) => deps.plans.projectProviderAllocation(view)), project?.(plan)]);
  for (const event of events) {
    const allocationId = (event.data as { allocationId?: unknown }).allocationId;
    if (deps.services && RELEASES_CAPACITY.has(event.type) && typeof allocationId === 'string') {
      const allocation = plan.allocations.find((a) => a.allocationId === allocationId);
      if (allocation && allocation.status !== 'offered' && allocation.status !== 'accepted') await deps.services.release(allocation.serviceId, allocationId);
    }
  }
  // Her consent as it stands now: an event carrying her needs still in the outbox (its first publish failed)
  // is not sent to a provider her consent has since stopped covering. It stays in her history and the
  // provider's feed, which leaves it out when read (functions/api-providers).
  await deps.publisher.publish(events.filter((e) => !e.providerId || withheldFromProvider(e.type, plan.consent, e.providerId) === undefined));
  await deps.plans.clearOutbox(plan.planId, events.map((e) => e.id));
}

export function makeHandler(deps: PublishDeps) {
  return async (state: PlanCommandState): Promise<PlanCommandState> => {
    if (!state.plan) return state;
    const sameFacts = state.factsBefore !== undefined && state.factsBefore === metricFactsKey(state.plan);
    const factsUnchanged = sameFacts && (deps.factsComplete ? await deps.factsComplete() : true);
    await deliverOutbox(deps, state.plan, { justSaved: true, factsUnchanged });
    const { factsBefore: _factsBefore, ...rest } = state;
    return { ...rest, plan: { ...state.plan, outbox: [] } };
  };
}

export const handler = lazyStepHandler((deps) => {
  const facts = new FactStore(deps.plans.client, deps.plans.tableName);
  return makeHandler({ ...deps, onPlanSaved: factsWriter(facts), factsComplete: facts.completeness() });
});
