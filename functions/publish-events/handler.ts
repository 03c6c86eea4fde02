import type { PlanEvent, Plan } from '../../lib/domain/schemas.ts';
import type { PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import type { EventPublisher } from '../../lib/adapters/events/publisher.ts';
import type { DirectoryStore } from '../../lib/adapters/dynamodb/directory-store.ts';
import type { PlanCommandState } from '../../workflows/plan-command/state.ts';
import { lazyStepHandler } from '../../lib/runtime/aws.ts';
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

/**
 * Deliver a plan's outbox: history entries, the provider projections and feed, then the bus.
 * Each part is idempotent, so a redelivery by the sweeper after a partial failure repeats nothing
 * a consumer can see twice (consumers dedupe on the event id).
 */
export async function deliverOutbox(deps: PublishDeps, plan: Plan): Promise<void> {
  const events: PlanEvent[] = [...plan.outbox].sort((a, b) => a.sequence - b.sequence);
  if (events.length === 0) return deps.onPlanSaved?.(plan);
  // Feed entries are keyed by wall time, never a simulated clock: readers page by it (see WebhookStore.feedSettleMs).
  const now = new Date().toISOString();
  for (const event of events) {
    await deps.plans.recordHistory(event);
    if (event.providerId) {
      const data = event.data as Record<string, unknown>;
      const status = STATUS_OF[event.type];
      if (status && typeof data.allocationId === 'string') {
        await deps.plans.projectProviderAllocation({
          providerId: event.providerId,
          allocationId: data.allocationId,
          planRef: event.planId,
          status,
          ...(typeof data.serviceId === 'string' ? { serviceId: data.serviceId } : {}),
          ...(data.needs ? { needs: data.needs } : {}),
          ...(typeof data.respondBy === 'string' ? { respondBy: data.respondBy } : {}),
          ...(typeof data.lead === 'boolean' ? { lead: data.lead } : {}),
          sequence: event.sequence,
          updatedAt: event.time,
        });
      }
      await deps.plans.appendFeed(event.providerId, event, event.id, now);
    }
    const allocationId = (event.data as { allocationId?: unknown }).allocationId;
    if (deps.services && RELEASES_CAPACITY.has(event.type) && typeof allocationId === 'string') {
      const allocation = plan.allocations.find((a) => a.allocationId === allocationId);
      if (allocation && allocation.status !== 'offered' && allocation.status !== 'accepted') await deps.services.release(allocation.serviceId, allocationId);
    }
  }
  await deps.publisher.publish(events);
  await deps.onPlanSaved?.(plan);
  await deps.plans.clearOutbox(plan.planId, events.map((e) => e.id));
}

export function makeHandler(deps: PublishDeps) {
  return async (state: PlanCommandState): Promise<PlanCommandState> => {
    if (!state.plan) return state;
    await deliverOutbox(deps, state.plan);
    return { ...state, plan: { ...state.plan, outbox: [] } };
  };
}

export const handler = lazyStepHandler((deps) => makeHandler({ ...deps, onPlanSaved: factsWriter(new FactStore(deps.plans.client, deps.plans.tableName)) }));
