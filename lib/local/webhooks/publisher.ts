import { toCloudEvent, type EventPublisher } from '../../adapters/events/publisher.ts';
import { deliveryIdOf, type Delivery, type WebhookStore } from '../../adapters/dynamodb/webhook-store.ts';
import type { PlanEvent } from '../../domain/schemas.ts';

export interface WebhookPublisherOptions {
  /** CloudEvents `source` (the AWS stack's EVENT_SOURCE). */
  source?: string;
  /** Wall-clock milliseconds: deliveries are timed in real time whatever the plans' clock says. */
  now?: () => number;
  /** Told which provider has new deliveries, so the loop looks at once. */
  onQueued?: (providerId: string) => void;
}

/**
 * The embedded stack's event bus: queue one webhook delivery per provider event, in the table, for
 * the delivery loop. It only writes (one read of the subscription and one conditional put per
 * event) and never calls a receiver, so the Publish events step stays fast whatever the receivers
 * do. Events of a provider without an active subscription are not queued: they stay in its pull
 * feed only, and subscribing later does not send the past (read the feed for that).
 */
export class WebhookPublisher implements EventPublisher {
  readonly store: WebhookStore;
  private readonly source: string;
  private readonly now: () => number;
  private readonly onQueued: (providerId: string) => void;
  constructor(store: WebhookStore, options: WebhookPublisherOptions = {}) {
    this.store = store;
    this.source = options.source ?? 'wraparound';
    this.now = options.now ?? Date.now;
    this.onQueued = options.onQueued ?? (() => undefined);
  }

  async publish(events: readonly PlanEvent[]): Promise<void> {
    const byProvider = new Map<string, PlanEvent[]>();
    for (const event of events) if (event.providerId) byProvider.set(event.providerId, [...(byProvider.get(event.providerId) ?? []), event]);
    for (const [providerId, list] of byProvider) {
      const subscription = await this.store.activeSubscription(providerId);
      if (!subscription) continue;
      const at = new Date(this.now()).toISOString();
      let queued = 0;
      // In sequence order, so a lane never holds event n+1 without event n already in it.
      for (const event of [...list].sort((a, b) => a.planId.localeCompare(b.planId) || a.sequence - b.sequence)) {
        const delivery: Delivery = {
          deliveryId: deliveryIdOf(event.planId, event.sequence),
          providerId,
          planId: event.planId,
          sequence: event.sequence,
          eventId: event.id,
          eventType: event.type,
          body: JSON.stringify(toCloudEvent(event, this.source)),
          status: 'pending',
          attempts: 0,
          replays: 0,
          createdAt: at,
          nextAttemptAt: at,
          log: [],
        };
        if (await this.store.enqueue(delivery)) queued += 1;
      }
      if (queued > 0) this.onQueued(providerId);
    }
  }
}
