import { useState } from 'react';
import { api } from '../api.ts';
import { DECLINE_REASONS, label, needLabel } from '../domain.ts';
import { formatDateTime, isPast, relative } from '../format.ts';
import { Form, options, Select, SubmitButton, TextArea, useSubmit } from '../forms.tsx';
import { Link } from '../router.tsx';
import type { ProviderAllocation } from '../types.ts';
import { LoadError, Loading, Notice, PageTitle, useApp, useResource } from '../ui.tsx';
import { PurgeNotices, useStaleOn } from './allocation.tsx';

/** The domains of a provider record's `needs`: strings, or objects with a domain. */
export function needsOf(value: unknown): string[] {
  if (!Array.isArray(value)) return [];
  return value.map((n) => (typeof n === 'string' ? n : typeof n === 'object' && n && typeof (n as { domain?: unknown }).domain === 'string' ? (n as { domain: string }).domain : '')).filter(Boolean);
}

/** The provider's open offers, soonest deadline first: accept, or decline with a reason. */
export function InboxPage() {
  const { session, refreshNow } = useApp();
  const providerId = session.providerId ?? '';
  const offers = useResource<{ items: ProviderAllocation[] }>(`/providers/${encodeURIComponent(providerId)}/offers`);
  const [message, setMessage] = useState<string | undefined>();
  const answered = (text: string) => {
    setMessage(text);
    offers.reload();
    // An offer can expire while the page is open: the deadlines shown follow the clock read again.
    refreshNow();
  };
  return (
    <>
      <PageTitle>Offers</PageTitle>
      <p className="lead">Needs the programme asks your organisation to take on. Answer each by its deadline: an unanswered offer goes to the next provider.</p>
      {message && <Notice>{message}</Notice>}
      {offers.loading && !offers.data && <Loading what="offers" />}
      {offers.error && <LoadError error={offers.error} what="offers" onRetry={offers.reload} />}
      {offers.data &&
        (offers.data.items.length === 0 ? (
          <p className="empty">No open offers.</p>
        ) : (
          <ul className="offer-list" aria-label={`${offers.data.items.length} open offer${offers.data.items.length === 1 ? '' : 's'}`}>
            {offers.data.items.map((o) => (
              <OfferCard key={o.allocationId} offer={o} onAnswered={answered} />
            ))}
          </ul>
        ))}
    </>
  );
}

function OfferCard({ offer, onAnswered }: { offer: ProviderAllocation; onAnswered: (message: string) => void }) {
  const { now, services } = useApp();
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const accept = useSubmit();
  const decline = useSubmit();
  const id = offer.allocationId;
  const headingId = `offer-${id}`;
  const service = services.find((s) => s.serviceId === offer.serviceId)?.name ?? offer.serviceId;
  const needs = needsOf(offer.needs);
  const late = offer.respondBy ? isPast(offer.respondBy, now) : false;
  // A 409: the offer is no longer open (it expired, or the plan moved on while the page was open).
  // The card would otherwise stay with its Accept button that can never work: say why, and read the list again.
  useStaleOn([accept.error, decline.error], (reason) => onAnswered(`Offer ${id} could not be answered: ${reason} Your offers have been read again.`));
  return (
    <li className="offer card" aria-labelledby={headingId}>
      <h2 id={headingId} className="offer-title">
        {needs.map(needLabel).join(', ') || 'Offer'}
      </h2>
      <PurgeNotices instructions={offer.purgeInstructions} />
      <dl className="plan-item-facts">
        <div>
          <dt>Plan</dt>
          <dd>{offer.planRef}</dd>
        </div>
        <div>
          <dt>Service</dt>
          <dd>{service}</dd>
        </div>
        {offer.respondBy && (
          <div>
            <dt>Answer by</dt>
            <dd className={late ? 'overdue-text' : undefined}>
              {formatDateTime(offer.respondBy)} ({relative(offer.respondBy, now)})
            </dd>
          </div>
        )}
        {offer.lead && (
          <div>
            <dt>Role</dt>
            <dd>Lead provider (key worker)</dd>
          </div>
        )}
      </dl>
      <p>
        <Link to={`/caseload/${id}`}>Details of offer {id}</Link>
      </p>
      <div className="offer-actions">
        <Form
          label={`Accept offer ${id}`}
          idPrefix={`accept-${id}-`}
          error={accept.error}
          onSubmit={() => void accept.run((key) => api('POST', `/allocations/${id}/accept`, { body: {}, idempotencyKey: key })).then((r) => r && onAnswered(`Offer ${id} accepted: it is in your caseload.`))}
        >
          <SubmitButton busy={accept.busy}>Accept</SubmitButton>
        </Form>
        <details className="disclosure">
          <summary>Decline…</summary>
          <Form
            label={`Decline offer ${id}`}
            idPrefix={`decline-${id}-`}
            error={decline.error}
            onSubmit={() =>
              void decline
                .run((key) => api('POST', `/allocations/${id}/decline`, { body: { reason: reason || undefined, ...(note.trim() ? { note } : {}) }, idempotencyKey: key }))
                .then((r) => r && onAnswered(`Offer ${id} declined: its needs go to the next provider.`))
            }
          >
            <Select path="reason" label="Reason" value={reason} onChange={setReason} options={options(DECLINE_REASONS, label)} placeholder="Choose a reason" />
            <TextArea path="note" label="Note (optional)" value={note} onChange={setNote} />
            <SubmitButton busy={decline.busy} tone="danger">
              Decline the offer
            </SubmitButton>
          </Form>
        </details>
      </div>
    </li>
  );
}
