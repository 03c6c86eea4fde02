import { webhookUrlProblem } from '../../lib/local/webhooks/url-policy.ts';
import type { AuditLog } from '../../lib/adapters/dynamodb/audit-log.ts';
import { answersNothingToAudit, auditAccess } from '../../lib/api/audit-access.ts';
import { createHash, randomUUID } from 'node:crypto';
import * as z from 'zod';
import { BadAllocationCursor, providerAllocationCursorKey, type PlanRepository } from '../../lib/adapters/dynamodb/plan-repository.ts';
import {
  AllocationListQuery,
  BadCursor,
  decodeFeedPosition,
  DeliveryId,
  DeliveryListQuery,
  encodeFeedPosition,
  FeedQuery,
  newSubscriptionId,
  newWebhookSecret,
  RotateSecretRequest,
  RotationRefused,
  SubscribeRequest,
  SubscriptionConflict,
  SubscriptionId,
  WebhookStore,
  type Delivery,
  type SecretRequest,
  type Subscription,
  type SubscriptionWithSecret,
} from '../../lib/adapters/dynamodb/webhook-store.ts';
import { toCloudEvent } from '../../lib/adapters/events/publisher.ts';
import { apiHandler, type Logger, type RouteContext } from '../../lib/api/handler-kit.ts';
import { header, HttpProblem, json, parseWith, problem, readJsonBody, type HttpResult } from '../../lib/api/http.ts';
import { SlidingWindowLimit, TEST_DELIVERY_LIMIT } from '../../lib/api/rate-limit.ts';
import { IdempotencyKey } from '../../lib/api/request-schemas.ts';
import { ProviderId } from '../../lib/domain/schemas.ts';
import { webhookTestEvent } from '../../lib/domain/events.ts';
import { carriesHerNeeds, withheldFromProvider } from '../../lib/domain/consent.ts';
import type { TestDeliveryResult } from '../../lib/local/webhooks/dispatcher.ts';
import { awsDeps, awsProviderDelivery } from '../../lib/runtime/aws.ts';
import { readFunctionConfig } from '../../lib/config.ts';
import { logger } from '../../lib/runtime/observability.ts';
import { DEPLOY_GUIDE, type ProviderDeliveryMode, type ProviderDestination } from '../../lib/adapters/events/provider-destinations.ts';

export interface ProvidersApiDeps {
  plans: PlanRepository;
  /** Reads of plan detail (needs, levels) by providers are recorded here. */
  audit: AuditLog;
  /**
   * The plans' clock: dates stored idempotent responses, and secret rotations and their overlap's end
   * (the embedded stack's delivery loop reads the overlap with the same clock).
   */
  clock: () => string;
  webhooks: WebhookStore;
  /**
   * How events reach providers where this runs (lib/adapters/events/provider-destinations.ts): the
   * embedded stack's signed webhooks, which the subscription and delivery routes manage, or AWS's
   * API destinations set at deploy, which they cannot touch: there they refuse (409) and say how
   * delivery works, and GET subscriptions shows the configured destination.
   */
  delivery: ProviderDeliveryMode;
  /** Where an unexpected error is logged (default console.error): the embedded stack tells its stop's doing apart. */
  logger?: Logger;
  /** Known provider ids: the organisations of the directory. Any other id is a 404. */
  providerIds: readonly string[] | (() => readonly string[]);
  /**
   * Whether a webhook URL may be plain http to this machine (localhost, 127.0.0.1, [::1]): the
   * embedded stack's receivers under test. Everywhere else a webhook must be https.
   */
  allowHttpLoopback?: boolean;
  /** CloudEvents `source` of feed items: the same envelope the webhooks carry. */
  source?: string;
  /**
   * Wall clock for deliveries: their attempts and backoff are real time, not the plans' clock. A
   * subscription's own dates (created, rotated, the overlap's end) are on the stack's clock (`clock`),
   * the one that decides when a rotation's overlap ends, so the dates shown together agree.
   */
  wallClock?: () => string;
  /**
   * Sends a test delivery now through the delivery loop's own sending (signature, URL policy, timeout)
   * and says what the receiver answered: the embedded stack's dispatcher. Absent, the test route is a 409.
   */
  sendTest?: (subscription: SubscriptionWithSecret, eventId: string, body: string) => Promise<TestDeliveryResult>;
  /** Told when a provider's deliveries change (a replay), so the delivery loop looks at once. */
  onDeliveriesChanged?: (providerId: string) => void;
}

// ---------------------------------------------------------------------------------------------
// Requests (their schemas live with the store, so the OpenAPI document shares them)


// ---------------------------------------------------------------------------------------------
// Responses

/** `now` on the plans' clock: an overlap already over is not shown (its secret is removed on the next read). */
const subscriptionView = (s: Subscription, now: string) => ({
  subscriptionId: s.subscriptionId,
  providerId: s.providerId,
  url: s.url,
  status: s.status,
  createdAt: s.createdAt,
  ...(s.disabledAt ? { disabledAt: s.disabledAt } : {}),
  ...(s.disabledReason ? { disabledReason: s.disabledReason } : {}),
  ...(s.rotatedAt ? { rotatedAt: s.rotatedAt } : {}),
  ...(s.overlapEndsAt && s.overlapEndsAt > now ? { overlapEndsAt: s.overlapEndsAt } : {}),
});

/** A delivery as the log shows it; `withheld`: why a dead letter carrying her needs is not sent again (withheldNow). */
const deliveryView = (d: Delivery, withheld?: string) => ({
  deliveryId: d.deliveryId,
  providerId: d.providerId,
  planRef: d.planId,
  sequence: d.sequence,
  eventId: d.eventId,
  eventType: d.eventType,
  status: d.status,
  attempts: d.attempts,
  replays: d.replays,
  createdAt: d.createdAt,
  ...(d.status === 'pending' && d.nextAttemptAt ? { nextAttemptAt: d.nextAttemptAt } : {}),
  ...(d.lastAttemptAt ? { lastAttemptAt: d.lastAttemptAt } : {}),
  ...(d.lastStatusCode !== undefined ? { lastStatusCode: d.lastStatusCode } : {}),
  ...(d.lastError ? { lastError: d.lastError } : {}),
  ...(d.deliveredAt ? { deliveredAt: d.deliveredAt } : {}),
  ...(d.status === 'dead' && d.deadAt ? { deadAt: d.deadAt } : {}),
  ...(withheld ? { withheld } : {}),
  log: d.log,
});

const sha256 = (text: string) => createHash('sha256').update(text).digest('hex');

/** How events reach the provider on AWS and who changes it, in words (GET subscriptions' `detail`, and every refusal there). */
function howDeliveryWorks(d: ProviderDestination): string {
  const where = d.placeholder
    ? `no URL is configured for ${d.providerId} yet, so its events go to the placeholder ${d.endpoint}, which never resolves, and are dead-lettered`
    : `its events are POSTed to ${d.endpoint}`;
  return (
    `On this deployment (AWS) events reach ${d.providerId} through an EventBridge API destination set when the stack is deployed: ${where}. ` +
    `Each request carries ${d.providerId}'s API key in the ${d.keyHeader} header; nothing is signed with a webhook secret. ` +
    `An operator changes the URL with a deploy (context providerWebhooks) and the key in Secrets Manager and the EventBridge connection (${DEPLOY_GUIDE}).`
  );
}

/** On AWS nothing logs deliveries: EventBridge retries, dead-letters and alarms; operators replay from the archive. */
const noDeliveryLog = (providerId: string) =>
  `On this deployment (AWS) no delivery log is kept here: EventBridge retries each event to ${providerId}'s API destination, then puts it in ${providerId}'s dead-letter queue and raises an alarm, ` +
  `and an operator replays missed events from the event archive (docs/deploy.md, "When a provider missed events"). Every event is also in the pull feed (GET /providers/${providerId}/feed).`;

export function makeHandler(deps: ProvidersApiDeps) {
  const providerIds = () => (typeof deps.providerIds === 'function' ? deps.providerIds() : deps.providerIds);
  const wallClock = deps.wallClock ?? (() => new Date().toISOString());
  // Per provider, on the wall clock: sends are real time, like every delivery's.
  const testDeliveries = new SlidingWindowLimit(TEST_DELIVERY_LIMIT);
  const source = deps.source ?? 'wraparound';

  /** The provider in the path: 400 malformed, 404 not in the directory, 403 another provider's. */
  function providerOf(ctx: RouteContext, what: string): string {
    const providerId = parseWith(ProviderId, ctx.params.providerId, 'provider id in the path', 'providerId');
    if (!providerIds().includes(providerId)) throw problem(404, `There is no provider ${providerId} in the directory. Providers: ${providerIds().join(', ')}.`);
    const principal = ctx.principal;
    if (principal?.role === 'provider' && principal.providerId !== providerId)
      throw problem(403, `This token is for provider ${principal.providerId}; it cannot read or change ${providerId}'s ${what}.`);
    return providerId;
  }

  // Idempotency-Key on the POST routes, as everywhere in this API: a retry returns the first answer.
  function idempotencyOf(ctx: RouteContext, body: unknown) {
    const raw = header(ctx.event, 'idempotency-key');
    if (raw === undefined) return undefined;
    const key = parseWith(IdempotencyKey, raw, 'Idempotency-Key header', 'Idempotency-Key');
    return { keyHash: sha256(`${ctx.principal?.sub ?? ''}:${key}`), fingerprint: sha256(JSON.stringify([ctx.route.method, ctx.route.path, ctx.params, body])) };
  }
  type Idempotency = NonNullable<ReturnType<typeof idempotencyOf>>;
  async function firstResponse(scope: string, idempotency: Idempotency | undefined) {
    if (!idempotency) return undefined;
    const stored = await deps.plans.getResponse(scope, idempotency.keyHash);
    if (!stored) return undefined;
    if (stored.fingerprint !== idempotency.fingerprint)
      throw problem(422, 'This Idempotency-Key was already used for a different request.', [{ path: 'Idempotency-Key', message: 'already used for a different request' }]);
    return stored;
  }
  async function remember(scope: string, idempotency: Idempotency | undefined, status: number, body: unknown) {
    if (idempotency) await deps.plans.saveResponse(scope, idempotency.keyHash, { fingerprint: idempotency.fingerprint, status, body: JSON.stringify(body) }, deps.clock());
  }

  // A secret is shown only in the answer that made it, and its stored copy for retries holds none. So
  // the request that makes one marks the subscription with its key, in the same write as the secret:
  // a retry whose stored answer is missing (its write failed, or the answer was lost on the way) finds
  // its own mark and is shown the secret; any other request, another key or another caller, does not.
  const secretRequestOf = (scope: string, idempotency: Idempotency | undefined): SecretRequest | undefined =>
    idempotency ? { key: `${scope}#${idempotency.keyHash}`, fingerprint: idempotency.fingerprint } : undefined;

  /**
   * The answer that shows a secret just made. If its copy for retries cannot be stored, the secret is
   * made all the same: a 500 ("nothing was changed") would lose it, so the answer goes out and a retry
   * finds the secret by the subscription's mark instead.
   */
  async function answerWithSecret(scope: string, idempotency: Idempotency | undefined, status: number, view: object, secret: string, headers: Record<string, string> = {}): Promise<HttpResult> {
    try {
      await remember(scope, idempotency, status, view);
    } catch (error) {
      // The error's kind and message only, as apiHandler logs: nothing of the request.
      console.error('idempotent answer not stored; a retry finds the secret by the subscription', { scope: scope.split('#')[0], name: (error as Error).name, message: (error as Error).message });
    }
    return json(status, { ...view, secret }, headers);
  }

  /** A retry of the request whose mark `made` carries: the secret it made, again (the same key for another request is a 422). */
  async function answerAgain(scope: string, idempotency: Idempotency, status: number, made: SubscriptionWithSecret): Promise<HttpResult> {
    if (made.secretRequest?.fingerprint !== idempotency.fingerprint)
      throw problem(422, 'This Idempotency-Key was already used for a different request.', [{ path: 'Idempotency-Key', message: 'already used for a different request' }]);
    return answerWithSecret(scope, idempotency, status, subscriptionView(made, now()), made.secret, { 'idempotent-replayed': 'true' });
  }

  function checkedAllocationCursor(cursor: string) {
    try {
      return providerAllocationCursorKey(cursor);
    } catch (error) {
      if (error instanceof BadAllocationCursor) throw problem(400, 'cursor: is not a cursor this API returned', [{ path: 'cursor', message: 'is not a cursor this API returned' }]);
      throw error;
    }
  }

  async function allocations(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'allocations');
    const query = parseWith(AllocationListQuery, ctx.event.queryStringParameters ?? {}, 'query');
    // A bad cursor is refused before the read is recorded: bad input changes nothing.
    if (query.cursor) checkedAllocationCursor(query.cursor);
    await auditAccess(deps.audit, ctx, 'read-provider-allocations', { providerId }, deps.clock(), 'delivering-the-allocated-service');
    // Paged in the table's order (by allocation id): a provider's records are never deleted, so reading
    // them all to sort by last change would grow with every allocation it ever had.
    const page = await deps.plans.providerAllocationPage(providerId, { limit: query.limit, ...(query.status ? { status: query.status } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) });
    return json(200, { items: page.items, nextCursor: page.nextCursor ?? null });
  }

  async function feed(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'feed');
    const query = parseWith(FeedQuery, ctx.event.queryStringParameters ?? {}, 'query');
    let after;
    try {
      after = query.after ? decodeFeedPosition(query.after, providerId) : undefined;
    } catch (error) {
      if (error instanceof BadCursor) throw problem(400, `after: ${error.message}`, [{ path: 'after', message: error.message }]);
      throw error;
    }
    const page = await deps.webhooks.feedPage(providerId, after, query.limit);
    const last = page.entries.at(-1);
    // Her consent as it stands now, read once per plan of the page whose events carry her needs: an entry
    // her consent no longer lets this provider have is left out (feeds have gaps; the cursor still moves past it).
    const gatedPlans = [...new Set(page.entries.filter((e) => carriesHerNeeds(e.event.type)).map((e) => e.event.planId))];
    const consents = new Map(await Promise.all(gatedPlans.map(async (planId) => [planId, (await deps.plans.getPlan(planId))?.consent] as const)));
    const shared = page.entries.filter((e) => withheldFromProvider(e.event.type, consents.get(e.event.planId), providerId) === undefined);
    // A bad cursor was refused before anything was recorded (bad input changes nothing). A page that gives
    // something is recorded once, before it is given, whatever it holds: the offers in it are answered, the
    // allocations delivered. An empty one (a provider polling every few seconds with nothing new) gives
    // nothing of hers and is not recorded: one record per empty poll would bury the reads that gave something.
    if (shared.length > 0) await auditAccess(deps.audit, ctx, 'read-provider-feed', { providerId }, deps.clock(), 'delivering-the-allocated-service');
    else answersNothingToAudit(ctx);
    return json(200, {
      items: shared.map((e) => toCloudEvent(e.event, source)),
      // Always a position to resume from: poll again with it when there was nothing new.
      cursor: last ? encodeFeedPosition(last.position, providerId) : (query.after ?? null),
      more: page.more,
    });
  }

  /**
   * Where delivery is configured at deploy (AWS), the provider's destination; undefined where the
   * routes manage signed webhooks (the embedded stack). Settings that did not validate at start: 500.
   */
  function deployedDestination(providerId: string): ProviderDestination | undefined {
    const mode = deps.delivery;
    if (mode.kind === 'signed-webhooks') return undefined;
    if (mode.kind === 'misconfigured')
      throw problem(500, "Provider delivery on this deployment is misconfigured (its settings did not validate when the function started), so it cannot be shown or changed; its operators have the reason in the function's log. Nothing was changed.");
    return mode.destinationOf(providerId);
  }

  /** On AWS, before anything is read or written: a 409 saying how delivery works there. */
  function refuseWhereDeployConfigured(providerId: string) {
    const destination = deployedDestination(providerId);
    if (destination) throw problem(409, `${howDeliveryWorks(destination)} There is no webhook subscription here to create, change or remove, and no signing secret to rotate. Nothing was changed.`);
  }

  function refuseDeliveryLogWhereDeployConfigured(providerId: string, changing: boolean) {
    if (deployedDestination(providerId)) throw problem(409, `${noDeliveryLog(providerId)}${changing ? ' Nothing was changed.' : ''}`);
  }

  /** The plans' clock as an ISO instant, so it compares with the stored overlap ends. */
  const now = () => new Date(deps.clock()).toISOString();

  async function listSubscriptions(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'subscriptions');
    const destination = deployedDestination(providerId);
    // On AWS there is no subscription: what is true there is the destination the deploy configured.
    if (destination) return json(200, { delivery: 'deploy-configured', items: [], destination, detail: howDeliveryWorks(destination) });
    const at = now();
    const items = await deps.webhooks.listSubscriptions(providerId);
    // A previous secret is a credential: gone once its overlap is over (the delivery loop removes it too).
    for (const s of items) if (s.overlapEndsAt && s.overlapEndsAt <= at) await deps.webhooks.dropExpiredSecret(providerId, s.subscriptionId, at);
    return json(200, { delivery: 'signed-webhooks', items: items.map((s) => subscriptionView(s, at)) });
  }

  async function subscribe(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'subscriptions');
    refuseWhereDeployConfigured(providerId);
    const body = readJsonBody(ctx.event);
    const idempotency = idempotencyOf(ctx, body);
    const request = parseWith(SubscribeRequest, body, 'subscription request');
    const scope = `SUBSCRIBE#${providerId}`;
    const cached = await firstResponse(scope, idempotency);
    if (cached) {
      // The stored answer holds no secret: a retry of the very request gets it from the subscription, while it lasts.
      const first = JSON.parse(cached.body) as { subscriptionId: string };
      const subscription = await deps.webhooks.getSubscription(providerId, first.subscriptionId);
      if (!subscription || subscription.status !== 'active') throw problem(409, `Subscription ${first.subscriptionId}, created by the first request with this Idempotency-Key, is no longer active.`);
      // Rotated since: the secret that answer carried is no longer the one that signs.
      if (subscription.rotatedAt) throw problem(409, `The secret of subscription ${first.subscriptionId}, created by the first request with this Idempotency-Key, has been rotated since: it cannot be shown again.`);
      return json(cached.status, { ...first, secret: subscription.secret }, { 'idempotent-replayed': 'true' });
    }
    const urlProblem = webhookUrlProblem(request.url, { embedded: deps.allowHttpLoopback ?? false });
    if (urlProblem) throw problem(400, `url: ${urlProblem}`, [{ path: 'url', message: urlProblem }]);
    const secretRequest = secretRequestOf(scope, idempotency);
    const subscription = {
      subscriptionId: newSubscriptionId(),
      providerId,
      url: request.url,
      status: 'active' as const,
      createdAt: now(),
      createdBy: ctx.principal?.sub ?? 'unknown',
      secret: newWebhookSecret(),
      ...(secretRequest ? { secretRequest } : {}),
    };
    try {
      await deps.webhooks.createSubscription(subscription);
    } catch (error) {
      if (!(error instanceof SubscriptionConflict)) throw error;
      // The active one may be this request's own, made by a first try whose answer was not stored.
      const active = idempotency && error.activeSubscriptionId ? await deps.webhooks.getSubscription(providerId, error.activeSubscriptionId) : undefined;
      if (idempotency && active?.status === 'active' && active.secretRequest?.key === secretRequest?.key) return answerAgain(scope, idempotency, 201, active);
      throw problem(
        409,
        `Provider ${providerId} already has an active webhook subscription${error.activeSubscriptionId ? ` (${error.activeSubscriptionId})` : ''}: delete it first to subscribe another URL.`,
        [{ path: 'url', message: 'the provider already has an active subscription' }],
      );
    }
    return answerWithSecret(scope, idempotency, 201, subscriptionView(subscription, now()), subscription.secret);
  }

  async function unsubscribe(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'subscriptions');
    refuseWhereDeployConfigured(providerId);
    const subscriptionId = parseWith(SubscriptionId, ctx.params.subscriptionId, 'subscription id in the path', 'subscriptionId');
    const removed = await deps.webhooks.deleteSubscription(providerId, subscriptionId);
    if (!removed) throw problem(404, `Provider ${providerId} has no subscription ${subscriptionId}.`);
    // What was still waiting for this URL goes to the dead letter, from where it can be replayed to the next one.
    const deadLettered = removed.status === 'active' ? await deps.webhooks.deadLetterPending(providerId, `subscription ${subscriptionId} was deleted`, wallClock()) : 0;
    return json(200, { ...subscriptionView(removed, now()), deleted: true, deadLettered });
  }

  /**
   * A new secret for the active subscription, shown once. The old one keeps signing beside it (two
   * signatures in webhook-signature) until the overlap ends, so the receiver can switch to the new
   * one without failing a delivery; deliveries are signed when sent, so those waiting or being
   * retried carry the new one too. Team leads only, as subscribing: the secret is part of the
   * subscription they set up. A second rotation before the overlap ends is refused (409): it would
   * drop the old secret while a receiver may still be verifying with it.
   */
  async function rotateSecret(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'subscriptions');
    refuseWhereDeployConfigured(providerId);
    const subscriptionId = parseWith(SubscriptionId, ctx.params.subscriptionId, 'subscription id in the path', 'subscriptionId');
    const body = readJsonBody(ctx.event);
    const idempotency = idempotencyOf(ctx, body);
    const request = parseWith(RotateSecretRequest, body, 'rotation request');
    const scope = `ROTATE#${providerId}`;
    const cached = await firstResponse(scope, idempotency);
    if (cached) {
      // As for subscribing: the stored answer holds no secret; a retry gets it while it is still the one that rotation made.
      const first = JSON.parse(cached.body) as { subscriptionId: string; rotatedAt: string };
      const subscription = await deps.webhooks.getSubscription(providerId, first.subscriptionId);
      if (!subscription || subscription.status !== 'active' || subscription.rotatedAt !== first.rotatedAt)
        throw problem(409, `The secret made by the first request with this Idempotency-Key is no longer subscription ${first.subscriptionId}'s: it was rotated again, or the subscription removed or disabled.`);
      return json(cached.status, { ...first, secret: subscription.secret }, { 'idempotent-replayed': 'true' });
    }
    const at = now();
    const overlapEndsAt = new Date(Date.parse(at) + request.overlapHours * 3_600_000).toISOString();
    const secretRequest = secretRequestOf(scope, idempotency);
    let rotated;
    try {
      rotated = await deps.webhooks.rotateSecret(providerId, subscriptionId, { secret: newWebhookSecret(), at, overlapEndsAt, by: ctx.principal?.sub ?? 'unknown', ...(secretRequest ? { request: secretRequest } : {}) });
    } catch (error) {
      if (!(error instanceof RotationRefused)) throw error;
      if (error.reason === 'not-found') throw problem(404, `Provider ${providerId} has no subscription ${subscriptionId}.`);
      if (error.reason === 'repeated' && idempotency) {
        // This request rotated it already (a first try whose answer was not stored): its secret, while it is still the one that signs.
        const made = await deps.webhooks.getSubscription(providerId, subscriptionId);
        if (!made || made.status !== 'active' || made.secretRequest?.key !== secretRequest?.key)
          throw problem(409, `The secret made by the first request with this Idempotency-Key is no longer subscription ${subscriptionId}'s: it was rotated again, or the subscription removed or disabled.`);
        return answerAgain(scope, idempotency, 200, made);
      }
      if (error.reason === 'not-active')
        throw problem(409, `Subscription ${subscriptionId} is ${error.subscription?.status ?? 'not active'}: nothing is signed with its secret. Subscribe again for a new one.`);
      const until = error.subscription?.overlapEndsAt ?? 'the end of the overlap';
      throw problem(
        409,
        `Subscription ${subscriptionId}'s secret was rotated at ${error.subscription?.rotatedAt ?? 'an earlier time'}; until ${until} every delivery is also signed with the secret before it, which a receiver may still be verifying with. Rotate again after ${until}.`,
      );
    }
    return answerWithSecret(scope, idempotency, 200, subscriptionView(rotated, at), rotated.secret);
  }

  /**
   * Why each dead letter of `items` that carries her needs may not be sent again to this provider, by
   * delivery id: her consent as it stands now (withheldFromProvider, read once per plan), as the delivery
   * loop and the feed read it. The log says so, and a replay is refused, rather than queue what is withheld.
   */
  async function withheldNow(providerId: string, items: readonly Delivery[]): Promise<Map<string, string>> {
    const gated = items.filter((d) => d.status === 'dead' && carriesHerNeeds(d.eventType));
    const planIds = [...new Set(gated.map((d) => d.planId))];
    const consents = new Map(await Promise.all(planIds.map(async (planId) => [planId, (await deps.plans.getPlan(planId))?.consent] as const)));
    return new Map(
      gated.flatMap((d) => {
        const why = withheldFromProvider(d.eventType, consents.get(d.planId), providerId);
        return why === undefined ? [] : [[d.deliveryId, why] as const];
      }),
    );
  }

  async function deliveries(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'deliveries');
    refuseDeliveryLogWhereDeployConfigured(providerId, false);
    const query = parseWith(DeliveryListQuery, ctx.event.queryStringParameters ?? {}, 'query');
    try {
      const page = await deps.webhooks.listDeliveries(providerId, { limit: query.limit, ...(query.status ? { status: query.status } : {}), ...(query.cursor ? { cursor: query.cursor } : {}) });
      const withheld = await withheldNow(providerId, page.items);
      return json(200, { items: page.items.map((d) => deliveryView(d, withheld.get(d.deliveryId))), nextCursor: page.nextCursor ?? null });
    } catch (error) {
      if (error instanceof BadCursor) throw problem(400, `cursor: ${error.message}`, [{ path: 'cursor', message: error.message }]);
      throw error;
    }
  }

  async function replay(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'deliveries');
    refuseDeliveryLogWhereDeployConfigured(providerId, true);
    const deliveryId = parseWith(DeliveryId, ctx.params.deliveryId, 'delivery id in the path', 'deliveryId');
    const body = readJsonBody(ctx.event);
    const idempotency = idempotencyOf(ctx, body);
    parseWith(z.strictObject({}), body, 'replay request');
    const scope = `REPLAY#${providerId}`;
    const cached = await firstResponse(scope, idempotency);
    if (cached) return { statusCode: cached.status, headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' }, body: cached.body };
    const delivery = await deps.webhooks.getDelivery(providerId, deliveryId);
    if (!delivery) throw problem(404, `Provider ${providerId} has no delivery ${deliveryId}.`);
    if (delivery.status !== 'dead') throw problem(409, `Delivery ${deliveryId} is ${delivery.status}: only dead-lettered deliveries can be replayed.`);
    // Replayed, it would be withheld again by the delivery loop (nothing sent) while the answer said 'queued again'.
    const withheld = (await withheldNow(providerId, [delivery])).get(deliveryId);
    if (withheld)
      throw problem(
        409,
        `Delivery ${deliveryId} cannot be replayed: it carries her needs (${delivery.eventType}) and ${withheld}, so they are no longer sent to ${providerId}, which was told to delete what it holds about her. Nothing was queued.`,
      );
    if (!(await deps.webhooks.activeSubscription(providerId))) throw problem(409, `Provider ${providerId} has no active webhook subscription to replay ${deliveryId} to: subscribe first.`);
    const replayed = await deps.webhooks.replay(providerId, deliveryId, wallClock());
    if (!replayed) throw problem(409, `Delivery ${deliveryId} was changed at the same time and is no longer dead-lettered.`);
    deps.onDeliveriesChanged?.(providerId);
    const view = deliveryView(replayed);
    await remember(scope, idempotency, 200, view);
    return json(200, view);
  }

  /**
   * One webhook.test.v1 to the subscription's URL, now, signed as every delivery is, and what the
   * receiver answered. Not queued, retried, logged or fed: it is about no plan and changes nothing.
   */
  async function testDelivery(ctx: RouteContext): Promise<HttpResult> {
    const providerId = providerOf(ctx, 'webhook');
    const destination = deployedDestination(providerId);
    if (destination)
      throw problem(
        409,
        `${howDeliveryWorks(destination)} No test delivery is sent from here: EventBridge sends every event to the destination asynchronously and keeps no answer to show. Nothing was sent.`,
      );
    const subscriptionId = parseWith(SubscriptionId, ctx.params.subscriptionId, 'subscription id in the path', 'subscriptionId');
    const body = readJsonBody(ctx.event);
    const idempotency = idempotencyOf(ctx, body);
    parseWith(z.strictObject({}), body, 'test delivery request');
    // A retry with the same Idempotency-Key is told what the first test found, and sends nothing again.
    const scope = `WEBHOOK-TEST#${providerId}`;
    const cached = await firstResponse(scope, idempotency);
    if (cached) return { statusCode: cached.status, headers: { 'content-type': 'application/json', 'idempotent-replayed': 'true' }, body: cached.body };
    const subscription = await deps.webhooks.getSubscription(providerId, subscriptionId);
    if (!subscription) throw problem(404, `Provider ${providerId} has no subscription ${subscriptionId}.`);
    if (subscription.status !== 'active') throw problem(409, `Subscription ${subscriptionId} is ${subscription.status}: nothing is sent to it. Subscribe again, then test.`);
    if (!deps.sendTest) throw problem(409, 'Test deliveries are not sent on this deployment. Nothing was sent.');
    const room = testDeliveries.take(providerId, Date.parse(wallClock()));
    if (!room.ok) {
      const { max, windowMs } = testDeliveries.limit;
      const seconds = Math.max(1, Math.ceil(room.retryAfterMs / 1000));
      throw new HttpProblem(
        429,
        'Too many requests',
        `At most ${max} test deliveries to provider ${providerId}'s webhook are sent in any ${windowMs / 1000} seconds, and ${max} were sent in the last ${windowMs / 1000}: nothing was sent. Try again in ${seconds} second${seconds === 1 ? '' : 's'}.`,
        [],
        { 'retry-after': String(seconds) },
      );
    }
    const event = webhookTestEvent({ id: randomUUID(), source, providerId, subscriptionId, time: wallClock() });
    const result = await deps.sendTest(subscription, event.id, JSON.stringify(event));
    const view = { subscriptionId, url: subscription.url, eventId: event.id, eventType: event.type, ...result };
    await remember(scope, idempotency, 200, view);
    return json(200, view);
  }

  return apiHandler({
    'GET /providers/{providerId}/allocations': allocations,
    'GET /providers/{providerId}/feed': feed,
    'GET /providers/{providerId}/subscriptions': listSubscriptions,
    'POST /providers/{providerId}/subscriptions': subscribe,
    'DELETE /providers/{providerId}/subscriptions/{subscriptionId}': unsubscribe,
    'POST /providers/{providerId}/subscriptions/{subscriptionId}/rotate-secret': rotateSecret,
    'POST /providers/{providerId}/subscriptions/{subscriptionId}/test': testDelivery,
    'GET /providers/{providerId}/deliveries': deliveries,
    'POST /providers/{providerId}/deliveries/{deliveryId}/replay': replay,
  }, deps.logger);
}

let built: ReturnType<typeof makeHandler> | undefined;
export const handler = (...args: Parameters<ReturnType<typeof makeHandler>>) => {
  if (!built) {
    const deps = awsDeps();
    const providerIds = deps.baseDirectory.organizations.map((o) => o.id);
    built = makeHandler({
      ...deps,
      clock: () => new Date().toISOString(),
      webhooks: new WebhookStore(deps.plans.client, deps.plans.tableName),
      providerIds,
      // Read once here, at start: a bad value is logged once, and the webhook routes say they are misconfigured.
      delivery: awsProviderDelivery(process.env, providerIds, (reason) =>
        logger().error('api-providers is misconfigured: the webhook routes answer 500 until its provider delivery settings are put right', { reason }),
      ),
      source: readFunctionConfig(process.env).EVENT_SOURCE,
    });
  }
  return built(...args);
};
