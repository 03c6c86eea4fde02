import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import { mockClient } from 'aws-sdk-client-mock';
import { afterAll, beforeEach, describe, expect, it } from 'vitest';
import { EventBridgePublisher } from '../../lib/adapters/events/eventbridge-publisher.ts';
import type { PlanEvent } from '../../lib/domain/schemas.ts';
import { planInStage } from '../support/domain-fixtures.ts';

const BUS = 'wraparound-events';
const SOURCE = 'org.newchance.wraparound';
const eb = mockClient(EventBridgeClient);

beforeEach(() => eb.reset());
afterAll(() => eb.restore());

const publisher = () => new EventBridgePublisher(new EventBridgeClient({ region: 'eu-west-2' }), BUS, SOURCE);

/** Every event of a plan taken to closed: 19 events, some addressed to a provider. */
const EVENTS: PlanEvent[] = planInStage('closed').events;

const sentEntries = () => eb.commandCalls(PutEventsCommand).map((c) => c.args[0].input.Entries ?? []);

describe('EventBridgePublisher', () => {
  it('puts at most 10 entries per PutEvents, in order', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const many = [...EVENTS, ...EVENTS.map((e) => ({ ...e, id: `${e.id}-b`, sequence: e.sequence + 100 }))];
    expect(many.length).toBe(38);
    await publisher().publish(many);

    const batches = sentEntries();
    expect(batches.map((b) => b.length)).toEqual([10, 10, 10, 8]);
    const ids = batches.flat().map((entry) => (JSON.parse(entry.Detail!) as { id: string }).id);
    expect(ids).toEqual(many.map((e) => e.id));
  });

  it('sends exactly ten in one call', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(EVENTS.slice(0, 10));
    expect(sentEntries().map((b) => b.length)).toEqual([10]);
  });

  it('sends nothing for no events', async () => {
    await publisher().publish([]);
    expect(eb.calls()).toHaveLength(0);
  });

  it('addresses each entry to the bus with the source and the event type', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const event = EVENTS[0]!;
    await publisher().publish([event]);
    const entry = sentEntries()[0]![0]!;
    expect(entry.EventBusName).toBe(BUS);
    expect(entry.Source).toBe(SOURCE);
    expect(entry.DetailType).toBe(event.type);
    expect(entry.Time).toEqual(new Date(event.time));
  });

  it('puts each event as a CloudEvents 1.0 structured JSON document', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const event = EVENTS.find((e) => !e.providerId)!;
    await publisher().publish([event]);
    const detail = JSON.parse(sentEntries()[0]![0]!.Detail!) as Record<string, unknown>;
    expect(detail).toEqual({
      specversion: '1.0',
      id: event.id,
      source: SOURCE,
      type: event.type,
      subject: event.planId,
      time: event.time,
      datacontenttype: 'application/json',
      sequence: String(event.sequence).padStart(10, '0'),
      data: event.data,
    });
    expect(detail).not.toHaveProperty('providerid');
  });

  it('names the provider of a provider event in the `providerid` extension', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    const providerEvents = EVENTS.filter((e) => e.providerId);
    expect(providerEvents.length).toBeGreaterThan(0);
    await publisher().publish(providerEvents);
    const details = sentEntries()
      .flat()
      .map((entry) => JSON.parse(entry.Detail!) as Record<string, unknown>);
    expect(details.map((d) => d.providerid)).toEqual(providerEvents.map((e) => e.providerId));
    for (const d of details) expect(d).toMatchObject({ specversion: '1.0', subject: providerEvents[0]!.planId });
  });

  it('sequences sort as strings in the same order as numbers', async () => {
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [] });
    await publisher().publish(EVENTS);
    const sequences = sentEntries()
      .flat()
      .map((entry) => (JSON.parse(entry.Detail!) as { sequence: string }).sequence);
    expect([...sequences].sort()).toEqual(sequences);
    expect(sequences[0]).toBe('0000000001');
  });

  it('throws naming the error codes when EventBridge refuses entries', async () => {
    eb.on(PutEventsCommand).resolves({
      FailedEntryCount: 2,
      Entries: [{ EventId: 'a' }, { ErrorCode: 'ThrottlingException', ErrorMessage: 'Rate exceeded' }, { ErrorCode: 'InternalFailure', ErrorMessage: 'oops' }],
    });
    await expect(publisher().publish(EVENTS.slice(0, 3))).rejects.toThrow(/ThrottlingException, InternalFailure/);
    await expect(publisher().publish(EVENTS.slice(0, 3))).rejects.toThrow(/2 of 3/);
  });

  it('stops at the first refused batch', async () => {
    eb.on(PutEventsCommand)
      .resolvesOnce({ FailedEntryCount: 1, Entries: [{ ErrorCode: 'InternalFailure' }] })
      .resolves({ FailedEntryCount: 0, Entries: [] });
    await expect(publisher().publish(EVENTS)).rejects.toThrow(/InternalFailure/);
    expect(eb.commandCalls(PutEventsCommand)).toHaveLength(1);
  });

  it('lets a failed call surface as it is', async () => {
    eb.on(PutEventsCommand).rejects(Object.assign(new Error('denied'), { name: 'AccessDeniedException' }));
    await expect(publisher().publish(EVENTS.slice(0, 1))).rejects.toMatchObject({ name: 'AccessDeniedException' });
  });
});
