import { useState } from 'react';
import { ROTATION_OVERLAP_HOURS } from '../../../lib/api/webhook-rotation-limits.ts';
import { api, ApiError, query } from '../api.ts';
import { label } from '../domain.ts';
import { formatDateTime } from '../format.ts';
import { Form, SubmitButton, TextInput, useSubmit } from '../forms.tsx';
import { navigate, useLocation } from '../router.tsx';
import type { Delivery, Subscription } from '../types.ts';
import { Facts, LoadError, Loading, Notice, PageTitle, Section, StatusBadge, useApp, useResource } from '../ui.tsx';

const DELIVERY_FILTERS = [
  ['', 'All'],
  ['pending', 'Pending (retrying)'],
  ['delivered', 'Delivered'],
  ['dead', 'Dead-lettered'],
] as const;

/**
 * GET /providers/{id}/subscriptions. On the embedded stack the provider's subscriptions; on AWS,
 * where delivery is an API destination set at deploy, the destination (`delivery: deploy-configured`),
 * and then there is nothing to subscribe, rotate, remove or replay here.
 */
type SubscriptionsAnswer =
  | { delivery?: 'signed-webhooks'; items: Subscription[] }
  | { delivery: 'deploy-configured'; items: Subscription[]; destination: { providerId: string; endpoint: string; placeholder: boolean; keyHeader: string }; detail: string };
type Destination = Extract<SubscriptionsAnswer, { delivery: 'deploy-configured' }>['destination'];
type SubscriptionsResource = ReturnType<typeof useResource<SubscriptionsAnswer>>;

/**
 * A provider's webhook: its subscription (never the secret, except once when a team lead creates it
 * or rotates it) and the delivery log with each attempt's outcome; dead-lettered deliveries can be replayed.
 * Where the API says delivery is configured at deploy (AWS): the destination instead, and no forms.
 */
export function WebhookPage() {
  const { session, services, providerName } = useApp();
  const { search } = useLocation();
  const providers = [...new Set(services.map((s) => s.providerId))].sort();
  const providerId = session.role === 'provider' ? (session.providerId ?? '') : (search.get('provider') ?? providers[0] ?? '');
  const status = search.get('status') ?? '';
  const teamLead = session.role === 'team-lead';
  const go = (next: { provider?: string; status?: string }) => navigate(`/webhook${query({ provider: teamLead ? (next.provider ?? providerId) : undefined, status: next.status ?? status })}`);
  const subscriptions = useResource<SubscriptionsAnswer>(providerId ? `/providers/${encodeURIComponent(providerId)}/subscriptions` : null);
  const answer = subscriptions.data;
  const destination = answer?.delivery === 'deploy-configured' ? answer.destination : undefined;
  // Which way delivery works is known once the answer is in; a failed read shows the subscription's error and the log as before.
  const signed = (answer && !destination) || subscriptions.error;

  return (
    <>
      <PageTitle>{teamLead ? 'Provider webhooks' : 'Webhook'}</PageTitle>
      {signed && (
        <p className="lead">Events about offers and allocations are sent to the provider's webhook, signed (Standard Webhooks), retried with backoff and dead-lettered when they keep failing. The pull feed has the same events.</p>
      )}
      {destination && (
        <p className="lead">
          Events about offers and allocations are sent to the provider's webhook set when this service was deployed, each with the provider's API key in the <code>{destination.keyHeader}</code> header,
          retried and dead-lettered when they keep failing. The pull feed has the same events.
        </p>
      )}
      {teamLead && (
        <div className="filters">
          <label htmlFor="provider-filter">Provider</label>
          <select id="provider-filter" value={providerId} onChange={(e) => go({ provider: e.target.value })}>
            {providers.map((p) => (
              <option key={p} value={p}>
                {providerName(p)}
              </option>
            ))}
          </select>
        </div>
      )}
      {providerId && destination && <DestinationSection destination={destination} teamLead={teamLead} />}
      {providerId && !destination && <SubscriptionSection key={providerId} providerId={providerId} teamLead={teamLead} subscriptions={subscriptions} />}
      {providerId && signed && <Deliveries key={`${providerId}-${status}`} providerId={providerId} status={status} onStatus={(s) => go({ status: s })} />}
    </>
  );
}

/**
 * On AWS: where the provider's events go, as the deploy set it. Nothing to change here: the URL
 * changes with a deploy and the key in Secrets Manager, by operators; the key is never shown.
 */
function DestinationSection({ destination, teamLead }: { destination: Destination; teamLead: boolean }) {
  return (
    <>
      <Section title="Webhook" id="destination">
        {destination.placeholder && (
          <Notice tone="warning">No webhook URL is set for this provider yet: its events are not sent anywhere and are dead-lettered until one is set. The pull feed has them meanwhile.</Notice>
        )}
        <Facts
          items={[
            ['URL', destination.placeholder ? 'Not set yet' : <code key="url">{destination.endpoint}</code>],
            ['API key header', <code key="header">{destination.keyHeader}</code>],
            ['Set by', 'The operators, when the service is deployed'],
          ]}
        />
        <p className="hint">
          The URL and the API key are set when this service is deployed, not on this page: {teamLead ? 'to change either, ask the operators' : 'to change either, ask a team lead, who asks the operators'} (deploy
          guide, “Provider webhooks”). The key is never shown here; the operators give it to the provider over a secure channel.
        </p>
      </Section>
      <Section title="Delivery log" id="deliveries">
        <p className="empty">
          No delivery log is kept on this deployment: events that keep failing go to the provider's dead-letter queue, which raises an alarm, and the operators replay them from the event archive.
        </p>
      </Section>
    </>
  );
}

/** POST …/test's answer: what the receiver did with one signed webhook.test.v1. */
interface TestDeliveryAnswer {
  eventId: string;
  accepted: boolean;
  statusCode?: number;
  error?: string;
  durationMs: number;
}

/** What the receiver did with the test, in words a provider's developer can act on. */
function testDeliveryWords(answer: TestDeliveryAnswer): string {
  const took = `${answer.durationMs} ms`;
  if (answer.accepted) return `Your receiver accepted the test delivery: it answered HTTP ${answer.statusCode} in ${took}. Real deliveries are signed and sent the same way.`;
  if (answer.statusCode === undefined) return `The test delivery did not get an answer (${took}): ${answer.error ?? 'no answer'}. Check the URL and that the receiver is running.`;
  return `Your receiver did not accept the test delivery: it answered HTTP ${answer.statusCode} in ${took}. A delivery counts only with a 2xx answer: check it verifies the signature with the current secret and answers 2xx.`;
}

/**
 * Sends one test delivery to the webhook now and says what the receiver answered: no plan data, signed
 * as every delivery, not in the delivery log.
 */
function TestDelivery({ providerId, subscription }: { providerId: string; subscription: Subscription }) {
  const send = useSubmit();
  const [answer, setAnswer] = useState<TestDeliveryAnswer | undefined>();
  return (
    <Form
      label="Test the webhook"
      idPrefix="test-"
      error={send.error}
      onSubmit={() =>
        void send
          .run((key) => api<TestDeliveryAnswer>('POST', `/providers/${encodeURIComponent(providerId)}/subscriptions/${encodeURIComponent(subscription.subscriptionId)}/test`, { body: {}, idempotencyKey: key }))
          .then((r) => setAnswer(r))
      }
    >
      <p className="hint">Sends a test event (webhook.test.v1, about no plan) to this URL now, signed as every delivery, and shows what the receiver answered. It is not in the delivery log.</p>
      {answer && <Notice tone={answer.accepted ? 'success' : 'warning'}>{testDeliveryWords(answer)}</Notice>}
      <SubmitButton busy={send.busy} tone="secondary">
        Send a test delivery
      </SubmitButton>
    </Form>
  );
}

function SubscriptionSection({ providerId, teamLead, subscriptions }: { providerId: string; teamLead: boolean; subscriptions: SubscriptionsResource }) {
  const [url, setUrl] = useState('');
  // The secret the API just returned (subscribing or rotating): shown this once, never read again.
  const [created, setCreated] = useState<Subscription | undefined>();
  const [message, setMessage] = useState<string | undefined>();
  const subscribe = useSubmit();
  const remove = useSubmit();
  const rotate = useSubmit();
  const [confirmingRotation, setConfirmingRotation] = useState(false);
  // How long the old secret keeps signing unless the team lead asks otherwise: the API's own default and bounds.
  const [overlapHours, setOverlapHours] = useState(String(ROTATION_OVERLAP_HOURS.default));
  const active = subscriptions.data?.items.find((s) => s.status === 'active');
  const rotateSecret = (subscription: Subscription) =>
    void rotate
      .run((key) =>
        api<Subscription>('POST', `/providers/${encodeURIComponent(providerId)}/subscriptions/${encodeURIComponent(subscription.subscriptionId)}/rotate-secret`, {
          // Whole hours go as a number; anything else as typed, for the API to name what is wrong with it.
          body: { overlapHours: /^\d+$/.test(overlapHours.trim()) ? Number(overlapHours.trim()) : overlapHours },
          idempotencyKey: key,
        }),
      )
      .then((r) => {
        if (!r) return;
        setCreated(r);
        setConfirmingRotation(false);
        setMessage(undefined);
        subscriptions.reload();
      });
  return (
    <Section title="Subscription" id="subscription">
      {message && <Notice>{message}</Notice>}
      {created?.secret && (
        <div className="notice notice-warning" role="status">
          <p>
            <strong>{created.rotatedAt ? 'New signing secret (shown once):' : 'Signing secret (shown once):'}</strong>
          </p>
          <p>
            <code className="secret">{created.secret}</code>
          </p>
          <p>Give it to the provider now: it verifies each delivery's signature and cannot be shown again.</p>
          {created.overlapEndsAt && (
            <p>
              Until {formatDateTime(created.overlapEndsAt)} every delivery is signed with both the old and the new secret, so the provider can switch its receiver without missing an event; after that only the
              new secret signs.
            </p>
          )}
        </div>
      )}
      {subscriptions.loading && !subscriptions.data && <Loading what="the subscription" />}
      {subscriptions.error && <LoadError error={subscriptions.error} what="the subscription" onRetry={subscriptions.reload} />}
      {subscriptions.data &&
        (active ? (
          <Facts
            items={[
              ['URL', <code key="url">{active.url}</code>],
              ['Status', label(active.status)],
              ['Since', formatDateTime(active.createdAt)],
              // Once the overlap is over the API no longer gives its end: say what that means.
              ['Secret rotated', active.rotatedAt ? `${formatDateTime(active.rotatedAt)}${active.overlapEndsAt ? '' : ' (only the new secret signs now)'}` : undefined],
              ['Old secret also signs until', formatDateTime(active.overlapEndsAt)],
              ['Id', active.subscriptionId],
            ]}
          />
        ) : (
          <p className="empty">No active webhook: events wait in the pull feed{teamLead ? '' : '; a team lead can subscribe your endpoint'}.</p>
        ))}
      {subscriptions.data?.items
        .filter((s) => s.status !== 'active')
        .map((s) => (
          <p key={s.subscriptionId} className="hint">
            Earlier: {s.url} ({label(s.status)}
            {s.disabledReason ? `: ${s.disabledReason}` : ''})
          </p>
        ))}
      {active && <TestDelivery key={active.subscriptionId} providerId={providerId} subscription={active} />}
      {teamLead && active && !confirmingRotation && (
        <p>
          <button type="button" className="button secondary" onClick={() => (setConfirmingRotation(true), rotate.clear())}>
            Rotate secret
          </button>
        </p>
      )}
      {teamLead && active && confirmingRotation && (
        <Form label="Rotate the signing secret" idPrefix="rotate-" error={rotate.error} onSubmit={() => rotateSecret(active)}>
          <p>
            A new signing secret is made and shown once. For the overlap below every delivery, including those waiting to be retried, is signed with both the old and the new secret, so the provider
            can switch its receiver without missing an event; after it only the new secret signs and the old one is deleted.
          </p>
          <TextInput
            path="overlapHours"
            label="Overlap (hours)"
            hint={`Whole hours, ${ROTATION_OVERLAP_HOURS.min} to ${ROTATION_OVERLAP_HOURS.max}.`}
            value={overlapHours}
            onChange={setOverlapHours}
            inputMode="numeric"
            width="short"
          />
          <div className="filters">
            <SubmitButton busy={rotate.busy}>Rotate the secret now</SubmitButton>
            <button type="button" className="button secondary" onClick={() => setConfirmingRotation(false)} disabled={rotate.busy}>
              Cancel
            </button>
          </div>
        </Form>
      )}
      {teamLead && active && (
        <Form
          label="Remove the subscription"
          idPrefix="remove-"
          error={remove.error}
          onSubmit={() =>
            void remove
              .run(() => api('DELETE', `/providers/${encodeURIComponent(providerId)}/subscriptions/${encodeURIComponent(active.subscriptionId)}`))
              .then((r) => {
                if (!r) return;
                setCreated(undefined);
                setConfirmingRotation(false);
                setMessage('Subscription removed: anything still waiting was dead-lettered and can be replayed to the next one.');
                subscriptions.reload();
              })
          }
        >
          <SubmitButton busy={remove.busy} tone="danger">
            Remove the subscription
          </SubmitButton>
        </Form>
      )}
      {teamLead && subscriptions.data && !active && (
        <Form
          label="Subscribe a webhook"
          idPrefix="subscribe-"
          error={subscribe.error}
          onSubmit={() =>
            void subscribe
              .run((key) => api<Subscription>('POST', `/providers/${encodeURIComponent(providerId)}/subscriptions`, { body: { url }, idempotencyKey: key }))
              .then((r) => {
                if (!r) return;
                setCreated(r);
                setMessage('Subscribed: new events go to this URL.');
                subscriptions.reload();
              })
          }
        >
          <TextInput path="url" label="Webhook URL" hint="https only (http to localhost on the embedded stack)." type="url" value={url} onChange={setUrl} />
          <SubmitButton busy={subscribe.busy}>Subscribe</SubmitButton>
        </Form>
      )}
    </Section>
  );
}

const NO_DELIVERIES: Record<string, string> = { pending: 'No deliveries waiting.', delivered: 'No deliveries delivered yet.', dead: 'No dead-lettered deliveries.' };

type DeliveryPage = { items: Delivery[]; nextCursor?: string | null };

function Deliveries({ providerId, status, onStatus }: { providerId: string; status: string; onStatus: (s: string) => void }) {
  const path = (cursor?: string) => `/providers/${encodeURIComponent(providerId)}/deliveries${query({ status, limit: 50, cursor })}`;
  const deliveries = useResource<DeliveryPage>(path());
  const { clockKind } = useApp();
  const [message, setMessage] = useState<string | undefined>();
  // The log comes 50 at a time: the pages read after the first, until the log is read again.
  const [later, setLater] = useState<{ after: DeliveryPage; pages: DeliveryPage[] } | undefined>();
  // A failed 'Show more' belongs to the log it followed: a Refresh or a replay reads the log again and drops it.
  const [moreFailed, setMoreFailed] = useState<{ after: DeliveryPage; error: ApiError } | undefined>();
  const moreError = moreFailed?.after === deliveries.data ? moreFailed?.error : undefined;
  const [moreBusy, setMoreBusy] = useState(false);
  const pages = deliveries.data ? [deliveries.data, ...(later?.after === deliveries.data ? later.pages : [])] : [];
  const items = pages.flatMap((p) => p.items);
  const nextCursor = pages.at(-1)?.nextCursor;
  const waitsFor = waitingBehind(items);
  const showMore = () => {
    if (!nextCursor || !deliveries.data) return;
    const first = deliveries.data;
    setMoreBusy(true);
    api<DeliveryPage>('GET', path(nextCursor))
      .then((page) => (setLater({ after: first, pages: [...pages.slice(1), page] }), setMoreFailed(undefined)))
      .catch((e: unknown) => setMoreFailed({ after: first, error: e instanceof ApiError ? e : new ApiError(0, 'Error', String(e)) }))
      .finally(() => setMoreBusy(false));
  };
  // After an outage or a new subscription every waiting delivery is dead-lettered: replay those shown,
  // one at a time in the log's order (each plan's in sequence), stopping at the first refusal.
  const replayAll = useSubmit();
  // A dead letter withheld by her consent (the API gives why) is not sent again: a replay would be refused.
  const dead = items.filter((d) => d.status === 'dead' && !d.withheld);
  const replayDead = () =>
    void replayAll
      .run(async (key) => {
        for (const d of dead)
          await api('POST', `/providers/${encodeURIComponent(providerId)}/deliveries/${encodeURIComponent(d.deliveryId)}/replay`, { body: {}, idempotencyKey: `${key}-${d.deliveryId}` });
        return dead.length;
      })
      .then((n) => {
        // Refused part-way (the refusal is shown): read the log again either way, to show what was queued.
        if (n !== undefined) setMessage(`${n} dead-lettered ${n === 1 ? 'delivery' : 'deliveries'} queued again.`);
        deliveries.reload();
      });
  return (
    <Section title="Delivery log" id="deliveries">
      {clockKind === 'simulated' && (
        <p className="hint">Deliveries are sent, retried and timed by this machine's real clock, not the simulated time: the times below are real ones.</p>
      )}
      <div className="filters">
        <label htmlFor="delivery-filter">Show</label>
        <select id="delivery-filter" value={status} onChange={(e) => onStatus(e.target.value)}>
          {DELIVERY_FILTERS.map(([v, text]) => (
            <option key={v} value={v}>
              {text}
            </option>
          ))}
        </select>
        <button type="button" className="button secondary" onClick={deliveries.reload}>
          Refresh
        </button>
      </div>
      {message && <Notice>{message}</Notice>}
      {dead.length > 1 && (
        <Form label="Replay every dead-lettered delivery shown" idPrefix="replay-all-" error={replayAll.error} onSubmit={replayDead}>
          <SubmitButton busy={replayAll.busy} tone="secondary">
            {`Replay all ${dead.length} dead-lettered`}
          </SubmitButton>
        </Form>
      )}
      {deliveries.loading && !deliveries.data && <Loading what="deliveries" />}
      {deliveries.error && <LoadError error={deliveries.error} what="the delivery log" onRetry={deliveries.reload} />}
      {deliveries.data &&
        (items.length === 0 ? (
          <p className="empty">{NO_DELIVERIES[status] ?? 'No deliveries.'}</p>
        ) : (
          <ul className="delivery-list" aria-label={`${items.length} deliveries shown${nextCursor ? ', more to show' : ''}`}>
            {items.map((d) => (
              <DeliveryItem key={d.deliveryId} delivery={d} waitsFor={waitsFor.get(d.deliveryId)} providerId={providerId} onReplayed={(text) => (setMessage(text), deliveries.reload())} />
            ))}
          </ul>
        ))}
      {moreError && <LoadError error={moreError} what="more deliveries" onRetry={showMore} />}
      {nextCursor && (
        <button type="button" className="button secondary" onClick={showMore} disabled={moreBusy}>
          Show more deliveries
        </button>
      )}
    </Section>
  );
}

/**
 * The pending deliveries held back behind an earlier one of the same plan, each with the one it waits
 * for: a plan's events leave in order, the next only once the one before is delivered or dead-lettered
 * (the delivery loop's lanes), so a waiting delivery's 'next attempt' is no time at all. The log comes
 * by plan then sequence, so the first pending delivery of a plan read is the head of its lane.
 */
function waitingBehind(items: Delivery[]): Map<string, Delivery> {
  const heads = new Map<string, Delivery>();
  const waits = new Map<string, Delivery>();
  for (const d of items) {
    if (d.status !== 'pending' || !d.planRef) continue;
    const head = heads.get(d.planRef);
    if (!head) heads.set(d.planRef, d);
    else if (head.sequence === undefined || d.sequence === undefined || head.sequence < d.sequence) waits.set(d.deliveryId, head);
  }
  return waits;
}

function DeliveryItem({ delivery: d, waitsFor, providerId, onReplayed }: { delivery: Delivery; waitsFor: Delivery | undefined; providerId: string; onReplayed: (text: string) => void }) {
  const replay = useSubmit();
  return (
    <li className={`delivery status-card-${d.status}`}>
      <div className="allocation-head">
        <strong>{d.eventType ?? 'Event'}</strong>
        <StatusBadge status={d.status} />
      </div>
      <Facts
        grid
        items={[
          ['Plan', d.planRef],
          ['Created', formatDateTime(d.createdAt)],
          ['Attempts', d.attempts],
          ['Last attempt', d.lastAttemptAt ? `${formatDateTime(d.lastAttemptAt)}${d.lastStatusCode !== undefined ? ` (HTTP ${d.lastStatusCode})` : ''}` : undefined],
          ['Last error', d.lastError],
          ['Next attempt', waitsFor ? `After the ${waitsFor.eventType ?? 'earlier'} delivery of this plan is delivered or dead-lettered: a plan's events are sent in order` : formatDateTime(d.nextAttemptAt)],
          ['Delivered', formatDateTime(d.deliveredAt)],
        ]}
      />
      {d.status === 'dead' && d.withheld && (
        <p className="hint withheld-delivery">
          {`Not sent, and it cannot be replayed: this event carries her needs, and ${d.withheld}. They are no longer sent to this provider, which was told to delete what it holds about her.`}
        </p>
      )}
      {d.status === 'dead' && !d.withheld && (
        <Form
          label={`Replay delivery ${d.deliveryId}`}
          idPrefix={`replay-${d.deliveryId}-`}
          error={replay.error}
          onSubmit={() =>
            void replay
              .run((key) => api('POST', `/providers/${encodeURIComponent(providerId)}/deliveries/${encodeURIComponent(d.deliveryId)}/replay`, { body: {}, idempotencyKey: key }))
              .then((r) => r && onReplayed(`Delivery ${d.deliveryId} queued again.`))
          }
        >
          <SubmitButton busy={replay.busy} tone="secondary">
            Replay
          </SubmitButton>
        </Form>
      )}
    </li>
  );
}
