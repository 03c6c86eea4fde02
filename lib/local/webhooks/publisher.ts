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
  /**
   * How long (wall-clock ms) the answer "has an active subscription or not" is kept per provider.
   * Changes made through the same store object drop it at once; this bounds how late a change made
   * some other way (another process on the same table, an edit by hand) is noticed. Default 5 s.
   */
  subscriptionCacheMs?: number;
}

/** Default bound on the staleness of the publisher's subscription cache (changes made elsewhere). */
export const SUBSCRIPTION_CACHE_MS = 5_000;

/**
 * The embedded stack's event bus: queue one webhook delivery per provider event, in the table, for
 * the delivery loop. It only writes (one conditional put per event) and never calls a receiver, so
 * the Publish events step stays fast whatever the receivers do. Events of a provider without an
 * active subscription are not queued: they stay in its pull feed only, and subscribing later does
 * not send the past (read the feed for that).
 *
 * Whether a provider has an active subscription is kept in memory: dropped when a subscription is
 * created, deleted or disabled through the store this publisher was given (the API and the delivery
 * loop of the same stack share it), and otherwise re-read after `subscriptionCacheMs`. So a change
 * made elsewhere is seen at most that late: events queued meanwhile for a subscription deleted
 * elsewhere are dead-lettered by the delivery loop (it reads the subscription before sending), and
 * events of a subscription created elsewhere stay in the pull feed only.
 */
export class WebhookPublisher implements EventPublisher {
  readonly store: WebhookStore;
  private readonly source: string;
  private readonly now: () => number;
  private readonly onQueued: (providerId: string) => void;
  private readonly cacheMs: number;
  /** Per provider: has an active subscription, and when that was read (wall-clock ms). */
  private readonly subscribed = new Map<string, { active: boolean; readAt: number }>();
  /** Per provider: bumped on every change notice, so a read that raced a change is not kept. */
  private readonly changes = new Map<string, number>();
  constructor(store: WebhookStore, options: WebhookPublisherOptions = {}) {
    this.store = store;
    this.source = options.source ?? 'wraparound';
    this.now = options.now ?? Date.now;
    this.onQueued = options.onQueued ?? (() => undefined);
    this.cacheMs = options.subscriptionCacheMs ?? SUBSCRIPTION_CACHE_MS;
    store.onSubscriptionChange((providerId) => {
      this.changes.set(providerId, (this.changes.get(providerId) ?? 0) + 1);
      this.subscribed.delete(providerId);
    });
  }

  private async hasActiveSubscription(providerId: string): Promise<boolean> {
    const known = this.subscribed.get(providerId);
    const wall = this.now();
    if (known && wall - known.readAt < this.cacheMs) return known.active;
    const changesBefore = this.changes.get(providerId);
    const active = (await this.store.activeSubscription(providerId)) !== undefined;
    if (this.changes.get(providerId) === changesBefore) this.subscribed.set(providerId, { active, readAt: wall });
    return active;
  }

  async publish(events: readonly PlanEvent[]): Promise<void> {
    const byProvider = new Map<string, PlanEvent[]>();
    for (const event of events) if (event.providerId) byProvider.set(event.providerId, [...(byProvider.get(event.providerId) ?? []), event]);
    for (const [providerId, list] of byProvider) {
      if (!(await this.hasActiveSubscription(providerId))) continue;
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
