import { useEffect, useState } from 'react';
import { api, ApiError } from '../api.ts';
import { CONTACT_CORRECTION_REASONS, CONTACT_KINDS, DECLINE_REASONS, END_OUTCOMES, label, needLabel } from '../domain.ts';
import { formatDate, formatDateTime, isPast, relative } from '../format.ts';
import { Form, options, Radios, Select, SubmitButton, TextArea, TextInput, useSubmit } from '../forms.tsx';
import { Link } from '../router.tsx';
import type { AllocationDetail, ParticipantForProvider, PurgeInstruction } from '../types.ts';
import { purgeNotices } from '../purge-words.ts';
import { riskWords } from '../risk-words.ts';
import { endedSessionsWords, lateSessionLastDay, sessionsCorrectableNow } from '../../../lib/domain/session-correction.ts';
import { Facts, LoadError, Loading, Notice, PageTitle, Section, StatusBadge, useApp, useResource } from '../ui.tsx';
import { useToday } from './plan-forms.tsx';
import { ContactFacts } from './identity.tsx';
import { NeedList } from './needs.tsx';

/**
 * One allocation as its provider sees it (GET /allocations/{id}): needs (with goals if consent
 * shares them), what consent lets it know, its sessions; and what it can do next.
 */
export function AllocationPage({ allocationId }: { allocationId: string }) {
  const { session, now, services, refreshNow } = useApp();
  const detail = useResource<AllocationDetail>(`/allocations/${encodeURIComponent(allocationId)}`);
  const [message, setMessage] = useState<string | undefined>();
  const a = detail.data;
  const done = (next: AllocationDetail, text: string) => {
    // A provider is answered with its own view; anyone else with the plan, so read the allocation again.
    if (session.role === 'provider') detail.setData({ ...a, ...next });
    else detail.reload();
    setMessage(text);
  };
  // The allocation or its plan moved on while the page was open (the offer expired, the plan exited, her
  // consent was withdrawn): say why and read it again, so forms that can no longer work, and her contact
  // details once they may no longer be shown, leave the page.
  const stale = (reason: string) => {
    setMessage(`This allocation changed while the page was open: ${reason} It has been read again.`);
    detail.reload();
    refreshNow();
  };
  if (detail.error && !a) return <LoadError error={detail.error} what={`allocation ${allocationId}`} onRetry={detail.reload} />;
  if (!a) return <Loading what={`allocation ${allocationId}`} />;
  const provider = session.role === 'provider';
  const service = services.find((s) => s.serviceId === a.serviceId)?.name ?? a.serviceId;
  const risks = a.risks ? riskWords(a.risks) : undefined;
  return (
    <>
      <p className="back">
        <Link to={provider ? '/caseload' : `/plan/${a.planRef}`}>{provider ? 'Back to the caseload' : 'Back to the plan'}</Link>
      </p>
      <div className="page-head">
        <PageTitle title={`Allocation ${a.allocationId}`}>
          {a.needs.map((n) => needLabel(n.domain)).join(', ') || 'Allocation'} <span className="title-ref">{a.allocationId}</span>
        </PageTitle>
        <StatusBadge status={a.status} />
      </div>
      {message && <Notice>{message}</Notice>}
      {provider && <PurgeNotices instructions={a.purgeInstructions} />}
      <div className="plan-layout">
        <div className="plan-main">
          {a.status === 'offered' && provider && <AnswerOffer allocationId={a.allocationId} onDone={done} onStale={stale} />}
          {a.status === 'accepted' && provider && (
            <Section title="Record a session" id="contact">
              <ContactForm allocationId={a.allocationId} sessions={a.contacts ?? []} onDone={done} onStale={stale} />
            </Section>
          )}
          {a.status === 'ended' && provider && sessionsCorrectableNow(a, now) && (
            // A session held before it ended may be recorded late, for as long as its sessions may be corrected (one rule: session-correction.ts).
            <Section title="Record a session held before it ended" id="contact">
              <ContactForm allocationId={a.allocationId} sessions={a.contacts ?? []} lastDay={lateSessionLastDay(a)} onDone={done} onStale={stale} />
            </Section>
          )}
          {a.status === 'accepted' && (
            <Section title="End your part" id="end">
              <EndForm allocationId={a.allocationId} onDone={done} onStale={stale} />
            </Section>
          )}
          {provider && <ParticipantContact allocationId={a.allocationId} status={a.status} />}
          <Section title="Needs" id="needs">
            <NeedList needs={a.needs} />
            {!a.needs.some((n) => n.goals) && (
              <p className="hint">
                {a.status === 'offered' || a.status === 'accepted'
                  ? 'Goals are shown only when her consent shares her needs with providers.'
                  : `Goals and levels are shown only while the allocation is offered or accepted; it is ${label(a.status).toLowerCase()}.`}
              </p>
            )}
          </Section>
          <Section title="Sessions" id="sessions">
            {a.contacts && a.contacts.length > 0 ? (
              <ul className="plain-list">
                {(a.contacts as Session[]).map((c, i) => (
                  <SessionItem key={c.session ?? i} session={c} allocationId={a.allocationId} correctable={provider && sessionsCorrectableNow(a, now)} onDone={done} onStale={stale} />
                ))}
              </ul>
            ) : (
              <p className="empty">No sessions recorded yet.</p>
            )}
            {provider && a.status === 'ended' && <p className="hint">{endedSessionsWords(a, now)}</p>}
          </Section>
        </div>
        <aside className="plan-side" aria-label="About this allocation">
          <Section title="Details" id="details">
            <Facts
              items={[
                ['Plan', a.planRef],
                ['Service', service],
                ['Lead provider', a.lead ? 'Yes (key worker)' : 'No'],
                ['Offered', formatDateTime(a.offeredAt)],
                ['Answer by', a.status === 'offered' && a.respondBy ? <span className={isPast(a.respondBy, now) ? 'overdue-text' : undefined}>{`${formatDateTime(a.respondBy)} (${relative(a.respondBy, now)})`}</span> : undefined],
                ['Answered', formatDateTime(a.respondedAt)],
                ['Expired', formatDateTime(a.expiredAt)],
                ['Ended', a.endedAt ? `${formatDateTime(a.endedAt)}${a.outcome ? `: ${label(a.outcome)}` : ''}` : undefined],
                ['Adjustments', a.adjustments?.length ? a.adjustments.map(label).join(', ') : undefined],
                // Shown only when her consent shares risks; a risk the assessment left out reads "Not assessed", never "None".
                ['Domestic abuse risk', risks?.domesticAbuse],
                ['Self-harm risk', risks?.selfHarm],
                ['Children at risk', risks?.safeguardingChildren],
              ]}
            />
          </Section>
        </aside>
      </div>
    </>
  );
}

/** What the provider was told to delete about her: staff who read no events see it here, on top of the allocation. */
export function PurgeNotices({ instructions }: { instructions: PurgeInstruction[] | undefined }) {
  const notices = purgeNotices(instructions, formatDateTime);
  if (notices.length === 0) return null;
  return (
    <div className="notice notice-warning purge-notice" role="status">
      {notices.map((text) => (
        <p key={text}>
          <strong>{text}</strong>
        </p>
      ))}
    </div>
  );
}

/**
 * Who she is and how to reach her safely, read from the API only when the worker asks (each read is
 * audited, so opening the page to record a session discloses nothing). The API decides: accepted
 * allocation and consent covering contact details; otherwise its refusal is shown in plain words.
 */
function ParticipantContact({ allocationId, status }: { allocationId: string; status: string }) {
  const [shown, setShown] = useState<ParticipantForProvider | undefined>();
  const [refused, setRefused] = useState<ApiError | undefined>();
  const [busy, setBusy] = useState(false);
  if (status === 'offered')
    return (
      <Section title="Contact details" id="participant">
        <p className="hint">Her name and contact details are shared once you accept the offer, and only if her consent covers contact details.</p>
      </Section>
    );
  if (status !== 'accepted') return null;
  const show = () => {
    setBusy(true);
    api<ParticipantForProvider>('GET', `/allocations/${encodeURIComponent(allocationId)}/participant`)
      .then((p) => (setShown(p), setRefused(undefined)))
      .catch((e: unknown) => setRefused(e instanceof ApiError ? e : new ApiError(0, 'Error', String(e))))
      .finally(() => setBusy(false));
  };
  return (
    <Section title="Contact details" id="participant">
      {shown ? (
        <>
          <p className="participant-name">
            <strong>
              {shown.givenName} {shown.familyName}
            </strong>
          </p>
          <ContactFacts contact={shown.contact} address={shown.address} preferredName={shown.preferredName} />
        </>
      ) : refused ? (
        <p className="notice" role="status">
          {refused.status === 403 ? refused.message : `Her contact details could not be read: ${refused.message}`}
        </p>
      ) : (
        <>
          <p className="hint">Her name and how to contact her safely. Reading them is recorded in the audit log.</p>
          <button type="button" className="button secondary" onClick={show} disabled={busy}>
            Show her contact details
          </button>
        </>
      )}
    </Section>
  );
}

type Done = (next: AllocationDetail, message: string) => void;
type Stale = (reason: string) => void;

/** Tell the page once when a form's request is refused with a 409 (not allowed any more); the inbox's offer cards too. */
export function useStaleOn(errors: (ApiError | undefined)[], onStale: Stale) {
  const conflict = errors.find((e) => e?.status === 409);
  useEffect(() => {
    if (conflict) onStale(conflict.message);
    // Once per refusal: onStale is a new function at each render of the page.
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [conflict]);
}

function AnswerOffer({ allocationId, onDone, onStale }: { allocationId: string; onDone: Done; onStale: Stale }) {
  const accept = useSubmit();
  const decline = useSubmit();
  useStaleOn([accept.error, decline.error], onStale);
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  return (
    <Section title="Answer the offer" id="answer">
      <Form
        label="Accept the offer"
        idPrefix="accept-"
        error={accept.error}
        onSubmit={() =>
          void accept.run((key) => api<AllocationDetail>('POST', `/allocations/${allocationId}/accept`, { body: {}, idempotencyKey: key })).then((r) => r && onDone(r, 'Offer accepted.'))
        }
      >
        <SubmitButton busy={accept.busy}>Accept</SubmitButton>
      </Form>
      <h3>Or decline</h3>
      <Form
        label="Decline the offer"
        idPrefix="decline-"
        error={decline.error}
        onSubmit={() =>
          void decline
            .run((key) => api<AllocationDetail>('POST', `/allocations/${allocationId}/decline`, { body: { reason: reason || undefined, ...(note.trim() ? { note } : {}) }, idempotencyKey: key }))
            .then((r) => r && onDone(r, 'Offer declined: its needs go to the next provider.'))
        }
      >
        <Select path="reason" label="Reason" value={reason} onChange={setReason} options={options(DECLINE_REASONS, label)} placeholder="Choose a reason" />
        <TextArea path="note" label="Note (optional)" value={note} onChange={setNote} />
        <SubmitButton busy={decline.busy} tone="danger">
          Decline
        </SubmitButton>
      </Form>
    </Section>
  );
}

/** A session as GET /allocations/{id} gives it: numbered in the order recorded, withdrawn ones kept. */
type Session = NonNullable<AllocationDetail['contacts']>[number] & { session?: number; withdrawnAt?: string; corrected?: true };

/** `lastDay`: on an ended allocation, the day it ended, the last a session recorded late may be dated (the default). */
function ContactForm({ allocationId, sessions, lastDay, onDone, onStale }: { allocationId: string; sessions: Session[]; lastDay?: string | undefined; onDone: Done; onStale: Stale }) {
  const today = useToday();
  const [date, setDate] = useState(lastDay && lastDay < today ? lastDay : today);
  const [kind, setKind] = useState('');
  // The same session recorded twice is the usual slip: say so before it is, and record it only when asked again.
  const [confirming, setConfirming] = useState<string | undefined>();
  const submit = useSubmit();
  useStaleOn([submit.error], onStale);
  const same = sessions.find((s) => !s.withdrawnAt && s.date === date && s.kind === kind);
  const record = () =>
    void submit
      .run((key) => api<AllocationDetail>('POST', `/allocations/${allocationId}/record-contact`, { body: { date, kind: kind || undefined }, idempotencyKey: key }))
      .then((r) => {
        setConfirming(undefined);
        if (r) onDone(r, `Session on ${formatDate(date)} recorded.`);
      });
  return (
    <Form
      label="Record a session"
      error={submit.error}
      onSubmit={() => {
        const asked = `${date}|${kind}`;
        if (same && confirming !== asked) return setConfirming(asked);
        record();
      }}
    >
      <TextInput path="date" label="Date of the session" type="date" value={date} onChange={setDate} width="medium" />
      <Radios path="kind" legend="What happened" value={kind} onChange={setKind} options={options(CONTACT_KINDS, label)} inline />
      {same && confirming === `${date}|${kind}` && (
        <Notice tone="warning">
          Session {same.session} is already recorded for {formatDate(date)}: {label(kind)}. Record another session on the same day only if there were two; otherwise leave it.
        </Notice>
      )}
      <SubmitButton busy={submit.busy}>{same && confirming === `${date}|${kind}` ? 'Record a second session' : 'Record the session'}</SubmitButton>
    </Form>
  );
}

/** Words for each correction reason, as the form offers them. */
const CORRECTION_WORDS: Record<(typeof CONTACT_CORRECTION_REASONS)[number], string> = {
  'recorded-twice': 'It was recorded twice: withdraw this one',
  'no-such-session': 'There was no such session: withdraw it',
  'wrong-date': 'The date is wrong',
  'wrong-kind': 'What happened is wrong',
};

/** One session in the list; its provider can correct its date or kind, or withdraw it, while the allocation is accepted. */
function SessionItem({ session, allocationId, correctable, onDone, onStale }: { session: Session; allocationId: string; correctable: boolean; onDone: Done; onStale: Stale }) {
  const [open, setOpen] = useState(false);
  const [reason, setReason] = useState('');
  const [date, setDate] = useState(session.date);
  const [kind, setKind] = useState(session.kind);
  const submit = useSubmit();
  useStaleOn([submit.error], onStale);
  const withdraw = reason === 'recorded-twice' || reason === 'no-such-session';
  const number = session.session;
  const body = () => ({
    session: number,
    reason: reason || undefined,
    ...(withdraw ? { withdrawn: true } : reason === 'wrong-date' ? { date } : reason === 'wrong-kind' ? { kind } : {}),
  });
  return (
    <li>
      {number !== undefined && <span className="hint">Session {number}: </span>}
      {session.withdrawnAt ? (
        <>
          <s>
            {formatDate(session.date)}: {label(session.kind)}
          </s>{' '}
          (withdrawn {formatDateTime(session.withdrawnAt)}; it counts nowhere)
        </>
      ) : (
        <>
          {formatDate(session.date)}: {label(session.kind)}
          {session.corrected ? ' (corrected)' : ''}
        </>
      )}
      {correctable && !session.withdrawnAt && number !== undefined && !open && (
        <>
          {' '}
          <button type="button" className="link-button" onClick={() => (setOpen(true), submit.clear())} aria-label={`Correct session ${number}`}>
            Correct
          </button>
        </>
      )}
      {open && (
        <Form
          label={`Correct session ${number}`}
          idPrefix={`correct-${number}-`}
          error={submit.error}
          onSubmit={() =>
            void submit
              .run((key) => api<AllocationDetail>('POST', `/allocations/${allocationId}/correct-contact`, { body: body(), idempotencyKey: key }))
              .then((r) => {
                if (!r) return;
                setOpen(false);
                onDone(r, withdraw ? `Session ${number} withdrawn: it no longer counts.` : `Session ${number} corrected.`);
              })
          }
        >
          <Radios path="reason" legend="What is wrong with it" value={reason} onChange={setReason} options={options(CONTACT_CORRECTION_REASONS, (r) => CORRECTION_WORDS[r as keyof typeof CORRECTION_WORDS])} />
          {reason === 'wrong-date' && <TextInput path="date" label="The right date" type="date" value={date} onChange={setDate} width="medium" />}
          {reason === 'wrong-kind' && <Radios path="kind" legend="What really happened" value={kind} onChange={setKind} options={options(CONTACT_KINDS, label)} inline />}
          <div className="filters">
            <SubmitButton busy={submit.busy} tone={withdraw ? 'danger' : 'primary'}>
              {withdraw ? 'Withdraw the session' : 'Correct the session'}
            </SubmitButton>
            <button type="button" className="button secondary" onClick={() => setOpen(false)} disabled={submit.busy}>
              Cancel
            </button>
          </div>
        </Form>
      )}
    </li>
  );
}

function EndForm({ allocationId, onDone, onStale }: { allocationId: string; onDone: Done; onStale: Stale }) {
  const [outcome, setOutcome] = useState('');
  const [note, setNote] = useState('');
  const submit = useSubmit();
  useStaleOn([submit.error], onStale);
  return (
    <Form
      label="End your part"
      idPrefix="end-"
      error={submit.error}
      onSubmit={() =>
        void submit
          .run((key) => api<AllocationDetail>('POST', `/allocations/${allocationId}/end`, { body: { outcome: outcome || undefined, ...(note.trim() ? { note } : {}) }, idempotencyKey: key }))
          .then((r) => r && onDone(r, 'Your part of the plan has ended.'))
      }
    >
      <p className="hint">The coordinator sees it on the plan straight away.</p>
      <Select path="outcome" label="Outcome" value={outcome} onChange={setOutcome} options={options(END_OUTCOMES, label)} placeholder="Choose an outcome" />
      <TextArea path="note" label="Note (optional)" value={note} onChange={setNote} />
      <SubmitButton busy={submit.busy} tone="danger">
        End our part
      </SubmitButton>
    </Form>
  );
}
