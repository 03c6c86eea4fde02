import { lookup as dnsLookup } from 'node:dns';
import { Agent as HttpAgent, request as httpRequest } from 'node:http';
import { Agent as HttpsAgent, request as httpsRequest } from 'node:https';
import type { LookupFunction } from 'node:net';
import { ATTEMPT_LOG_SIZE, signingSecrets, type Delivery, type DeliveryAttempt, type SubscriptionWithSecret, type WebhookStore } from '../../adapters/dynamodb/webhook-store.ts';
import { checkSchedule, DEFAULT_RETRY_SCHEDULE_MS, retryDelayMs, type Jitter } from './retry.ts';
import { signatureHeaders } from './signing.ts';
import { guardLookup, webhookUrlProblem, type WebhookUrlOptions } from './url-policy.ts';

export interface DispatcherOptions {
  store: WebhookStore;
  /** The providers whose queues the loop serves (the directory's organisations). */
  providerIds: () => readonly string[];
  /** Waits after each failed attempt, in ms; after the last one fails the delivery is dead-lettered. */
  retrySchedule?: readonly number[];
  jitter?: Jitter;
  /** How long a receiver has to answer one attempt. */
  timeoutMs?: number;
  /** Lanes (plans) of one provider attempted at the same time; each lane is strictly one at a time. */
  concurrency?: number;
  /** Wall-clock milliseconds. */
  now?: () => number;
  /**
   * The stack's clock (ISO), the one the API dates a secret rotation with: decides when a rotation's
   * overlap ends (so with `--clock simulated` it ends when the clock is moved past it). Defaults to `now`.
   */
  stackClock?: () => string;
  random?: () => number;
  /**
   * Where deliveries may connect: the same policy as subscribing, checked again on every attempt
   * and on the addresses the receiver's name resolves to at connection time. This loop runs on the
   * embedded stack, so by default this machine is allowed (`{ embedded: true }`).
   */
  urlPolicy?: WebhookUrlOptions;
  /** Resolves receivers' names (dns.lookup by default; tests pass their own to play DNS). */
  lookup?: LookupFunction;
  /** Longest the loop goes without reading a provider's queue even when it expects no work. */
  recheckMs?: number;
  logger?: { warn(message: string, details?: Record<string, unknown>): void };
  /**
   * Asked before every attempt (a first one, a retry, a replayed dead letter): why this delivery may no
   * longer be sent, or undefined. A withheld delivery is dead-lettered with the reason and nothing sent
   * (the embedded stack withholds an event carrying her needs from a provider her consent no longer covers).
   */
  withheld?: (delivery: Delivery) => Promise<string | undefined>;
}

export interface DeliveryReport {
  attempted: number;
  delivered: number;
  retried: number;
  deadLettered: number;
  subscriptionsDisabled: number;
}

/** What a test delivery's receiver answered: accepted is a 2xx, as for a real delivery. */
export interface TestDeliveryResult {
  sentAt: string;
  accepted: boolean;
  statusCode?: number;
  /** Why nothing was answered (timeout, unreachable, refused address), in the delivery log's words. */
  error?: string;
  durationMs: number;
}

const emptyReport = (): DeliveryReport => ({ attempted: 0, delivered: 0, retried: 0, deadLettered: 0, subscriptionsDisabled: 0 });
const iso = (ms: number) => new Date(ms).toISOString();

async function inPool<T>(items: readonly T[], limit: number, work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const worker = async () => {
    while (next < items.length) await work(items[next++] as T);
  };
  await Promise.all(Array.from({ length: Math.min(limit, items.length) }, worker));
}

/** Why an attempt failed, in words a team lead can act on (never the response body: it is the receiver's). */
function describeFailure(error: unknown, timeoutMs: number): string {
  const e = error as { name?: string; code?: string; message?: string; cause?: { name?: string } };
  if (e.name === 'TimeoutError' || e.cause?.name === 'TimeoutError') return `no answer within ${timeoutMs} ms`;
  if (e.code === 'EFORBIDDENADDRESS') return `refused, nothing sent: ${e.message}`;
  return `could not reach the receiver: ${e.code ?? e.message ?? String(error)}`;
}

/** Thrown before sending when the subscription's URL no longer passes the policy. */
class RefusedUrlError extends Error {
  readonly code = 'EFORBIDDENADDRESS';
}

/**
 * The embedded stack's webhook delivery loop (what EventBridge API destinations, retries and the DLQ
 * do on AWS). Each pass reads each provider's pending deliveries, grouped in lanes by plan and in
 * sequence order, and sends the head of every lane that is due: a plan's event n+1 never leaves
 * before event n was delivered or dead-lettered. 2xx delivers; any other answer, a timeout or a
 * network error schedules a retry (full jitter) until the schedule is used up, then dead-letters;
 * 410 Gone disables the subscription and dead-letters everything still pending for that provider.
 * Passes never overlap; the loop remembers when each provider next has work and skips it until
 * then, unless nudged (new deliveries, a replay).
 */
export class DeliveryDispatcher {
  readonly store: WebhookStore;
  private readonly options: DispatcherOptions;
  private readonly schedule: readonly number[];
  private readonly timeoutMs: number;
  private readonly now: () => number;
  private readonly stackClock: () => string;
  private readonly random: () => number;
  private readonly urlPolicy: WebhookUrlOptions;
  /** Keep-alive sockets whose every connection resolves through the address guard. */
  private readonly agents: { 'http:': HttpAgent; 'https:': HttpsAgent };
  private readonly wakeAt = new Map<string, number>();
  /**
   * Per provider, as last read: when its rotated secret's overlap ends (null: no overlap). A provider
   * not in here (first pass, or its subscriptions changed through the store) has its subscription
   * read even with nothing to send, so an expired previous secret is found and removed.
   */
  private readonly overlapEnds = new Map<string, string | null>();
  /** Per provider: bumped on every change notice, so a read that raced a change is not kept. */
  private readonly subscriptionChanges = new Map<string, number>();
  private readonly stopListening: () => void;
  private readonly nudges = new Map<string, number>();
  private readonly stopping = new AbortController();
  private tail: Promise<unknown> = Promise.resolve();
  private busy = false;
  private timer: ReturnType<typeof setInterval> | undefined;

  constructor(options: DispatcherOptions) {
    this.options = options;
    this.store = options.store;
    this.schedule = checkSchedule(options.retrySchedule ?? DEFAULT_RETRY_SCHEDULE_MS);
    this.timeoutMs = options.timeoutMs ?? 10_000;
    this.now = options.now ?? Date.now;
    this.stackClock = options.stackClock ?? (() => new Date(this.now()).toISOString());
    this.stopListening = options.store.onSubscriptionChange((providerId) => {
      this.subscriptionChanges.set(providerId, (this.subscriptionChanges.get(providerId) ?? 0) + 1);
      this.overlapEnds.delete(providerId);
    });
    this.random = options.random ?? Math.random;
    this.urlPolicy = options.urlPolicy ?? { embedded: true };
    const lookup = guardLookup(options.lookup ?? (dnsLookup as LookupFunction), this.urlPolicy);
    this.agents = { 'http:': new HttpAgent({ keepAlive: true, lookup }), 'https:': new HttpsAgent({ keepAlive: true, lookup }) };
  }

  /** Look at a provider's queue (or every queue) on the next pass, whatever the loop expected. */
  nudge(providerId?: string): void {
    for (const id of providerId ? [providerId] : this.options.providerIds()) {
      this.wakeAt.delete(id);
      this.nudges.set(id, (this.nudges.get(id) ?? 0) + 1);
    }
  }

  /** One pass now, after any pass in progress (so what was queued before the call is seen). */
  runOnce(): Promise<DeliveryReport> {
    const run = this.tail.then(() => this.pass());
    this.tail = run.catch(() => undefined);
    return run;
  }

  start(intervalMs: number): void {
    if (intervalMs <= 0 || this.timer) return;
    this.timer = setInterval(() => {
      if (this.busy) return;
      this.runOnce().catch((error: Error) => this.options.logger?.warn('webhook delivery pass failed', { name: error.name, message: error.message }));
    }, intervalMs);
  }

  /** Stop the loop; attempts in flight are abandoned and stay pending, to be sent after a restart. */
  async stop(): Promise<void> {
    if (this.timer) clearInterval(this.timer);
    this.timer = undefined;
    this.stopping.abort();
    this.stopListening();
    await this.tail;
    this.agents['http:'].destroy();
    this.agents['https:'].destroy();
  }

  /**
   * POST the body to the subscription's URL; the status of the answer (its body is not read).
   * Redirects are not followed: a redirect is an answer, not a delivery (the URL is the one the team
   * lead gave). The URL is checked again first (a literal IP never reaches the lookup guard, and the
   * policy may have changed since it was subscribed).
   */
  private post(url: string, headers: Record<string, string>, body: string): Promise<number> {
    const problem = webhookUrlProblem(url, this.urlPolicy);
    if (problem) return Promise.reject(new RefusedUrlError(`the URL ${problem}`));
    const target = new URL(url);
    const protocol = target.protocol === 'https:' ? 'https:' : 'http:';
    const send = protocol === 'https:' ? httpsRequest : httpRequest;
    const payload = Buffer.from(body, 'utf8');
    return new Promise((resolve, reject) => {
      const req = send(target, {
        method: 'POST',
        agent: this.agents[protocol],
        headers: { ...headers, 'content-length': String(payload.length) },
        signal: AbortSignal.any([AbortSignal.timeout(this.timeoutMs), this.stopping.signal]),
      });
      req.on('response', (res) => {
        res.resume();
        res.on('error', () => undefined);
        resolve(res.statusCode ?? 0);
      });
      req.on('error', reject);
      req.end(payload);
    });
  }

  private async pass(): Promise<DeliveryReport> {
    const report = emptyReport();
    if (this.stopping.signal.aborted) return report;
    this.busy = true;
    try {
      await Promise.all(
        this.options.providerIds().map((providerId) =>
          this.serveProvider(providerId, report).catch((error: Error) => {
            this.wakeAt.delete(providerId);
            this.options.logger?.warn('webhook delivery failed for a provider', { providerId, name: error.name, message: error.message });
          }),
        ),
      );
    } finally {
      this.busy = false;
    }
    return report;
  }

  private async serveProvider(providerId: string, report: DeliveryReport): Promise<void> {
    const startedAt = this.now();
    const wake = this.wakeAt.get(providerId);
    if (wake !== undefined && wake > startedAt) return;
    const nudgesBefore = this.nudges.get(providerId);
    const recheckAt = startedAt + (this.options.recheckMs ?? 30_000);
    const state = { gone: false, nextWake: recheckAt };
    const pending = await this.store.pendingDeliveries(providerId);
    const overlapEnd = this.overlapEnds.get(providerId);
    // With nothing to send, the subscription is still read when it may hold a secret whose overlap is over.
    if (pending.length > 0 || overlapEnd === undefined || (overlapEnd !== null && overlapEnd <= this.stackClock())) {
      const changesBefore = this.subscriptionChanges.get(providerId);
      const subscription = await this.forgetExpiredSecret(await this.store.activeSubscription(providerId));
      if (this.subscriptionChanges.get(providerId) === changesBefore) this.overlapEnds.set(providerId, subscription?.overlapEndsAt ?? null);
      if (pending.length === 0) {
        // Nothing to send.
      } else if (!subscription) {
        // Deleted or disabled after these were queued: nothing to send them to until a replay.
        for (const delivery of pending) if (await this.store.markDead(delivery, 'no active subscription: it was deleted or disabled', iso(startedAt))) report.deadLettered += 1;
      } else {
        const lanes = new Map<string, Delivery[]>();
        for (const delivery of pending) lanes.set(delivery.planId, [...(lanes.get(delivery.planId) ?? []), delivery]);
        for (const lane of lanes.values()) lane.sort((a, b) => a.sequence - b.sequence);
        await inPool([...lanes.values()], this.options.concurrency ?? 4, (lane) => this.serveLane(lane, subscription, state, report));
      }
    }
    // A nudge during the pass means new work the pass may not have seen: look again next time.
    if (this.nudges.get(providerId) === nudgesBefore) this.wakeAt.set(providerId, state.gone ? recheckAt : Math.min(state.nextWake, recheckAt));
    else this.wakeAt.delete(providerId);
  }

  /** The subscription without its previous secret once the overlap is over; the stored one is removed then. */
  private async forgetExpiredSecret(subscription: SubscriptionWithSecret | undefined): Promise<SubscriptionWithSecret | undefined> {
    if (!subscription?.overlapEndsAt) return subscription;
    const at = this.stackClock();
    if (subscription.overlapEndsAt > at) return subscription;
    await this.store.dropExpiredSecret(subscription.providerId, subscription.subscriptionId, at);
    const { previousSecret: _dropped, overlapEndsAt: _ended, ...current } = subscription;
    return current;
  }

  private async serveLane(lane: readonly Delivery[], subscription: SubscriptionWithSecret, state: { gone: boolean; nextWake: number }, report: DeliveryReport): Promise<void> {
    for (const delivery of lane) {
      if (state.gone || this.stopping.signal.aborted) return;
      const due = Date.parse(delivery.nextAttemptAt ?? delivery.createdAt);
      if (due > this.now()) {
        state.nextWake = Math.min(state.nextWake, due);
        return;
      }
      const withheld = await this.options.withheld?.(delivery);
      if (withheld !== undefined) {
        if (await this.store.markDead(delivery, `withheld, nothing sent: ${withheld}`, iso(this.now()))) report.deadLettered += 1;
        continue;
      }
      const next = await this.attempt(delivery, subscription);
      if (!next) return; // stopping, or the delivery changed under us (replayed, dead-lettered)
      report.attempted += 1;
      if (next.status === 'delivered') {
        report.delivered += 1;
        continue;
      }
      if (next.status === 'pending') {
        report.retried += 1;
        state.nextWake = Math.min(state.nextWake, Date.parse(next.nextAttemptAt as string));
        return;
      }
      report.deadLettered += 1;
      if (next.log.at(-1)?.outcome === 'gone') {
        state.gone = true;
        const at = iso(this.now());
        const reason = `the receiver answered 410 Gone: subscription ${subscription.subscriptionId} disabled`;
        if (await this.store.disableSubscription(subscription.providerId, subscription.subscriptionId, reason, at)) report.subscriptionsDisabled += 1;
        report.deadLettered += await this.store.deadLetterPending(subscription.providerId, reason, at);
        return;
      }
      // Dead-lettered after the last retry: the lane moves on to the plan's next event.
    }
  }

  /**
   * A test delivery: `body` POSTed to the subscription's URL now, signed and checked exactly as a real
   * delivery is (the same headers, secrets, URL policy, guarded connection and timeout), but nothing is
   * queued, retried or logged: the answer is for the person who asked. No plan data is in it.
   */
  async sendTest(subscription: SubscriptionWithSecret, eventId: string, body: string): Promise<TestDeliveryResult> {
    const startedAt = this.now();
    const headers = {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      'user-agent': 'wraparound-webhooks/1',
      ...signatureHeaders(signingSecrets(subscription, this.stackClock()), eventId, new Date(startedAt), body),
    };
    try {
      const statusCode = await this.post(subscription.url, headers, body);
      return { sentAt: iso(startedAt), statusCode, accepted: statusCode >= 200 && statusCode < 300, durationMs: this.now() - startedAt };
    } catch (failure) {
      return { sentAt: iso(startedAt), accepted: false, error: describeFailure(failure, this.timeoutMs), durationMs: this.now() - startedAt };
    }
  }

  /** Send one delivery and record the outcome; undefined when nothing was recorded. */
  private async attempt(delivery: Delivery, subscription: SubscriptionWithSecret): Promise<Delivery | undefined> {
    const startedAt = this.now();
    const headers = {
      'content-type': 'application/cloudevents+json; charset=utf-8',
      'user-agent': 'wraparound-webhooks/1',
      // Signed when sent, with the secrets valid now: a delivery queued or retried across a rotation
      // carries the new secret's signature (and the old one's while the overlap lasts).
      ...signatureHeaders(signingSecrets(subscription, this.stackClock()), delivery.eventId, new Date(startedAt), delivery.body),
    };
    let statusCode: number | undefined;
    let error: string | undefined;
    try {
      statusCode = await this.post(subscription.url, headers, delivery.body);
    } catch (failure) {
      if (this.stopping.signal.aborted) return undefined;
      error = describeFailure(failure, this.timeoutMs);
    }
    const finishedAt = this.now();
    const attempts = delivery.attempts + 1;
    const ok = statusCode !== undefined && statusCode >= 200 && statusCode < 300;
    const gone = statusCode === 410;
    const entry: DeliveryAttempt = {
      at: iso(startedAt),
      subscriptionId: subscription.subscriptionId,
      outcome: ok ? 'delivered' : gone ? 'gone' : 'failed',
      ...(statusCode !== undefined ? { statusCode } : {}),
      ...(error ? { error } : {}),
      durationMs: finishedAt - startedAt,
    };
    const base: Delivery = { ...delivery, attempts, lastAttemptAt: entry.at, log: [...delivery.log, entry].slice(-ATTEMPT_LOG_SIZE) };
    if (statusCode !== undefined) base.lastStatusCode = statusCode;
    else delete base.lastStatusCode;
    let next: Delivery;
    if (ok) {
      next = { ...base, status: 'delivered', deliveredAt: iso(finishedAt) };
      delete next.nextAttemptAt;
      delete next.lastError;
    } else {
      const why = error ?? `the receiver answered ${statusCode}`;
      const delay = gone ? undefined : retryDelayMs(this.schedule, attempts, this.options.jitter ?? 'full', this.random);
      if (delay === undefined) {
        next = { ...base, status: 'dead', deadAt: iso(finishedAt), lastError: gone ? `the receiver answered 410 Gone: subscription ${subscription.subscriptionId} disabled` : `gave up after ${attempts} attempt${attempts === 1 ? '' : 's'}: ${why}` };
        delete next.nextAttemptAt;
      } else {
        next = { ...base, status: 'pending', nextAttemptAt: iso(finishedAt + delay), lastError: why };
      }
    }
    return (await this.store.saveAttempt(next, delivery.attempts)) ? next : undefined;
  }
}
