import { PutEventsCommand, type EventBridgeClient } from '@aws-sdk/client-eventbridge';
import type { PlanEvent } from '../../domain/schemas.ts';
import { toCloudEvent, type EventPublisher } from './publisher.ts';

/** Puts each event on the bus as a CloudEvent; rules route provider events by `providerid`. */
export class EventBridgePublisher implements EventPublisher {
  readonly client: EventBridgeClient;
  readonly busName: string;
  readonly source: string;
  constructor(client: EventBridgeClient, busName: string, source: string) {
    this.client = client;
    this.busName = busName;
    this.source = source;
  }
  async publish(events: readonly PlanEvent[]): Promise<void> {
    for (let i = 0; i < events.length; i += 10) {
      const batch = events.slice(i, i + 10);
      const out = await this.client.send(
        new PutEventsCommand({
          Entries: batch.map((e) => ({ EventBusName: this.busName, Source: this.source, DetailType: e.type, Detail: JSON.stringify(toCloudEvent(e, this.source)), Time: new Date(e.time) })),
        }),
      );
      if ((out.FailedEntryCount ?? 0) > 0) {
        const failed = (out.Entries ?? []).filter((x) => x.ErrorCode).map((x) => x.ErrorCode);
        throw new Error(`EventBridge refused ${out.FailedEntryCount} of ${batch.length} events: ${failed.join(', ')}`);
      }
    }
  }
}
