import type { PlanEvent } from '../../domain/schemas.ts';

/** Where the Publish events step sends a plan's events: EventBridge on AWS, webhooks embedded. */
export interface EventPublisher {
  publish(events: readonly PlanEvent[]): Promise<void>;
}

/** CloudEvents 1.0 structured form of a plan event; `sequence` orders events per plan. */
export function toCloudEvent(event: PlanEvent, source: string) {
  return {
    specversion: '1.0',
    id: event.id,
    source,
    type: event.type,
    subject: event.planId,
    time: event.time,
    datacontenttype: 'application/json',
    sequence: String(event.sequence).padStart(10, '0'),
    ...(event.providerId ? { providerid: event.providerId } : {}),
    data: event.data,
  };
}
export type CloudEvent = ReturnType<typeof toCloudEvent>;
