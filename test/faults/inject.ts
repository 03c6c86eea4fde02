/**
 * Fault injection for the embedded stack: storage errors and throttling on the DynamoDB document
 * client (an AWS SDK middleware, before the SDK's own retries, so the application sees every one),
 * a kill switch that stops a "dead" process from touching the store, a failing publisher, and a
 * webhook receiver that can be down. Every draw comes from the random function the suite passes in
 * (seeded mulberry32 from lib/simulate/prng.ts, so a failing run replays with the same draws).
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Webhook } from 'standardwebhooks';
import type { DynamoDBDocumentClient } from '@aws-sdk/lib-dynamodb';
import type { EventPublisher } from '../../lib/adapters/events/publisher.ts';
import type { PlanEvent } from '../../lib/domain/schemas.ts';

export type StorageFaultKind = 'ThrottlingException' | 'ProvisionedThroughputExceededException' | 'InternalServerError' | 'InternalServerError (after the write)' | 'UnprocessedItems (part of a batch)';

export interface StorageFaultCounts {
  /** Requests while faults were on (the setup, the checkpoint and the final drain run without). */
  requests: number;
  injected: number;
  byKind: Record<StorageFaultKind, number>;
  byCommand: Record<string, number>;
  /** Requests a killed process tried to send (none reach the store). */
  afterKill: number;
}

function awsError(name: string, status: number): Error {
  const error = new Error(`injected: ${name}`);
  error.name = name;
  Object.assign(error, { $fault: status >= 500 ? 'server' : 'client', $metadata: { httpStatusCode: status, attempts: 1 } });
  return error;
}

/**
 * Faults on every DynamoDB request of one client. `rate` of requests fail: mostly throttling (never
 * applied), some InternalServerError before the request is sent, and `ambiguousShare` of them after
 * it was applied (the answer lost: DynamoDB documents that an InternalServerError may leave the
 * write done). Shared counts, so restarts add up.
 */
export class StorageFaults {
  enabled = true;
  readonly counts: StorageFaultCounts = {
    requests: 0,
    injected: 0,
    byKind: { ThrottlingException: 0, ProvisionedThroughputExceededException: 0, InternalServerError: 0, 'InternalServerError (after the write)': 0, 'UnprocessedItems (part of a batch)': 0 },
    byCommand: {},
    afterKill: 0,
  };
  private readonly rate: number;
  private readonly ambiguousShare: number;
  private readonly random: () => number;

  constructor(options: { rate: number; ambiguousShare: number; random: () => number }) {
    this.rate = options.rate;
    this.ambiguousShare = options.ambiguousShare;
    this.random = options.random;
  }

  /**
   * Install on a client. The handle's kill() makes every later request of that client fail at once;
   * settled() resolves when the requests it had already sent are answered (a dead process's last
   * writes still land, as they would in DynamoDB; only then may the local store close).
   */
  attach(client: DynamoDBDocumentClient): { kill(): void; settled(): Promise<void> } {
    let killed = false;
    let inFlight = 0;
    const send = async <T>(work: () => Promise<T>): Promise<T> => {
      inFlight += 1;
      try {
        return await work();
      } finally {
        inFlight -= 1;
      }
    };
    client.middlewareStack.add(
      (next, context) => async (args) => {
        if (killed) {
          this.counts.afterKill += 1;
          throw awsError('ProcessKilled', 0);
        }
        if (!this.enabled) return send(() => next(args));
        this.counts.requests += 1;
        if (this.random() >= this.rate) return send(() => next(args));
        this.counts.injected += 1;
        const command = String((context as { commandName?: string }).commandName ?? 'unknown');
        this.counts.byCommand[command] = (this.counts.byCommand[command] ?? 0) + 1;
        const draw = this.random();
        if (draw < this.ambiguousShare) {
          await send(() => next(args));
          this.counts.byKind['InternalServerError (after the write)'] += 1;
          throw awsError('InternalServerError', 500);
        }
        if (command === 'BatchWriteItemCommand' && this.random() < 0.5) {
          // Throttled in part, as DynamoDB does it: the first half written, the rest handed back unprocessed.
          // This middleware runs before the document client marshals, so input and output are plain objects.
          this.counts.byKind['UnprocessedItems (part of a batch)'] += 1;
          const input = (args as { input: { RequestItems: Record<string, unknown[]> } }).input;
          const [table, requests] = Object.entries(input.RequestItems)[0] as [string, unknown[]];
          const written = Math.floor(requests.length / 2);
          const unprocessed = { UnprocessedItems: { [table]: requests.slice(written) } };
          if (written === 0) return { response: {}, output: { ...unprocessed, $metadata: {} } } as never;
          const out = (await send(() => next({ ...args, input: { ...input, RequestItems: { [table]: requests.slice(0, written) } } } as never))) as { output: object };
          return { ...out, output: { ...out.output, ...unprocessed } } as never;
        }
        const kind: StorageFaultKind = draw < this.ambiguousShare + (1 - this.ambiguousShare) * 0.45 ? 'ThrottlingException' : draw < this.ambiguousShare + (1 - this.ambiguousShare) * 0.8 ? 'ProvisionedThroughputExceededException' : 'InternalServerError';
        this.counts.byKind[kind] += 1;
        throw awsError(kind, kind === 'InternalServerError' ? 500 : 400);
      },
      { step: 'initialize', name: 'injectStorageFaults', priority: 'high' },
    );
    return {
      kill: () => {
        killed = true;
      },
      settled: async () => {
        for (let waited = 0; inFlight > 0 && waited < 5_000; waited += 10) await new Promise((resolve) => setTimeout(resolve, 10));
      },
    };
  }
}

export interface PublisherCounts {
  attempts: number;
  failedBefore: number;
  /** Published, then the acknowledgement was lost: the step fails and the events go out again. */
  failedAfter: number;
  /** How many times each event id was handed on successfully. */
  published: Map<string, number>;
}

/** A publisher that fails `rate` of the time: half before handing the events on, half after. */
export function flakyPublisher(counts: PublisherCounts, random: () => number, rate: () => number) {
  return (inner: EventPublisher): EventPublisher => ({
    async publish(events: readonly PlanEvent[]) {
      counts.attempts += 1;
      const draw = random();
      if (draw < rate() / 2) {
        counts.failedBefore += 1;
        throw new Error('injected: the event bus is unavailable');
      }
      await inner.publish(events);
      for (const e of events) counts.published.set(e.id, (counts.published.get(e.id) ?? 0) + 1);
      if (draw < rate()) {
        counts.failedAfter += 1;
        throw new Error('injected: the acknowledgement was lost');
      }
    },
  });
}

export interface ReceivedDelivery {
  providerId: string;
  /** The CloudEvent id, from a body whose signature checked out (else undefined). */
  eventId?: string;
  /** The event's planRef (CloudEvents subject). */
  subject?: string;
  signatureError?: string;
}

/**
 * Every provider's webhook endpoint on one local server (`/<providerId>`), down (503) while `down`.
 * Each request's Standard Webhooks signature is checked on arrival (its timestamp must be recent).
 */
export class WebhookReceiver {
  down = true;
  refusedWhileDown = 0;
  readonly received: ReceivedDelivery[] = [];
  private server: Server | undefined;
  url = '';
  private readonly secretOf: (providerId: string) => string | undefined;

  constructor(secretOf: (providerId: string) => string | undefined) {
    this.secretOf = secretOf;
  }

  async start(): Promise<void> {
    this.server = createServer(async (req, res) => {
      const chunks: Buffer[] = [];
      for await (const chunk of req) chunks.push(chunk as Buffer);
      if (this.down) {
        this.refusedWhileDown += 1;
        res.writeHead(503).end();
        return;
      }
      const providerId = (req.url ?? '/').slice(1);
      try {
        const event = new Webhook(this.secretOf(providerId) ?? 'whsec_bm9uZQ==').verify(Buffer.concat(chunks).toString('utf8'), req.headers as Record<string, string>) as { id: string; subject?: string };
        this.received.push({ providerId, eventId: event.id, ...(event.subject ? { subject: event.subject } : {}) });
      } catch (error) {
        this.received.push({ providerId, signatureError: (error as Error).message });
      }
      res.writeHead(204).end();
    });
    await new Promise<void>((resolve) => this.server?.listen(0, '127.0.0.1', () => resolve()));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  async stop(): Promise<void> {
    await new Promise<void>((resolve) => {
      if (!this.server) return resolve();
      this.server.close(() => resolve());
      this.server.closeAllConnections();
    });
  }
}
