import { useState } from 'react';
import { erasureHold, waitingForFollowUpsWords } from '../../../lib/domain/erasure-hold.ts';
import { api, ApiError } from '../api.ts';
import { ERASURE_REASONS, label } from '../domain.ts';
import { Checkbox, Form, options, Radios, Select, SubmitButton, TextArea, TextInput, useSubmit } from '../forms.tsx';
import type { Address, ContactDetails, Participant, Plan } from '../types.ts';
import { Facts } from '../ui.tsx';
import { CONTACT_METHODS, SAFETY_QUESTIONS } from './identity-words.ts';

/**
 * Her contact details and address: the fields of the referral form, and how they are shown to a
 * coordinator and (as far as her consent goes) to a provider. The safety questions come first in
 * what is shown: a worker must read them before picking up the phone.
 */

const methodLabel = (m: string | undefined) => CONTACT_METHODS.find(([v]) => v === m)?.[1];
type SafetyKey = (typeof SAFETY_QUESTIONS)[number][0];

const YES_NO = [
  ['', 'Not asked'],
  ['yes', 'Yes'],
  ['no', 'No'],
] as const;

const answer = (v: boolean | undefined) => (v === undefined ? '' : v ? 'yes' : 'no');

type ContactText = ReturnType<typeof formValues>['text'];
type SafetyAnswers = Record<SafetyKey, string>;

/** The form's values for what is held (empty when nothing is). */
function formValues(initial?: Participant) {
  const c = initial?.contact ?? {};
  const a = initial?.address;
  const text = {
    preferredName: initial?.preferredName ?? '',
    phone: c.phone ?? '',
    email: c.email ?? '',
    preferredMethod: c.preferredMethod ?? '',
    safeTimes: c.safeTimes ?? '',
    safetyNote: c.safetyNote ?? '',
    line1: a?.lines[0] ?? '',
    // Lines past the second are kept on the second, so a correction loses none of them.
    line2: a?.lines.slice(1).join(', ') ?? '',
    town: a?.town ?? '',
    postcode: a?.postcode ?? '',
  };
  const safety: SafetyAnswers = {
    safeToLeaveVoicemail: answer(c.safeToLeaveVoicemail),
    safeToText: answer(c.safeToText),
    safeToSendPost: answer(c.safeToSendPost),
    safeToSayServiceName: answer(c.safeToSayServiceName),
  };
  return { text, safety };
}

/** The parts of a referral the values make (absent when empty), and the correction (null removes what was held). */
function partsOf(text: ContactText, safety: SafetyAnswers) {
  const trimmed = (v: string) => (v.trim() ? v : undefined);
  const contact: Record<string, unknown> = {
    ...(trimmed(text.phone) ? { phone: text.phone } : {}),
    ...(trimmed(text.email) ? { email: text.email } : {}),
    ...(text.preferredMethod ? { preferredMethod: text.preferredMethod } : {}),
    ...Object.fromEntries(Object.entries(safety).flatMap(([k, v]) => (v ? [[k, v === 'yes']] : []))),
    ...(trimmed(text.safeTimes) ? { safeTimes: text.safeTimes } : {}),
    ...(trimmed(text.safetyNote) ? { safetyNote: text.safetyNote } : {}),
  };
  const lines = [text.line1, text.line2].filter((l) => l.trim());
  const hasAddress = lines.length > 0 || Boolean(trimmed(text.town)) || Boolean(trimmed(text.postcode));
  const address = { lines, ...(trimmed(text.town) ? { town: text.town } : {}), ...(trimmed(text.postcode) ? { postcode: text.postcode } : {}) };
  const body = {
    ...(trimmed(text.preferredName) ? { preferredName: text.preferredName } : {}),
    ...(Object.keys(contact).length > 0 ? { contact } : {}),
    ...(hasAddress ? { address } : {}),
  };
  const correction = {
    preferredName: trimmed(text.preferredName) ? text.preferredName : null,
    contact: Object.keys(contact).length > 0 ? contact : null,
    address: hasAddress ? address : null,
  };
  return { body, correction };
}

type Correction = ReturnType<typeof partsOf>['correction'];
const PARTS = ['preferredName', 'contact', 'address'] as const;
export type PartName = (typeof PARTS)[number];
const PART_WORDS: Record<PartName, string> = { preferredName: 'preferred name', contact: 'contact details', address: 'address' };
const same = (a: unknown, b: unknown) => JSON.stringify(a) === JSON.stringify(b);

/** What is held, as the correction form would send it unchanged. */
const heldCorrection = (participant: Participant | undefined): Correction => {
  const { text, safety } = formValues(participant);
  return partsOf(text, safety).correction;
};

/**
 * The form's state for contact details and address (from what is held, when correcting), the parts
 * of a referral it makes (absent when empty), and the correction (null removes what was held).
 */
export function useContactFields(initial?: Participant) {
  const [text, setText] = useState(() => formValues(initial).text);
  const [safety, setSafety] = useState(() => formValues(initial).safety);
  const set = (key: keyof ContactText) => (value: string) => setText((t) => ({ ...t, [key]: value }));
  const replace = (next: ReturnType<typeof formValues>) => {
    setText(next.text);
    setSafety(next.safety);
  };
  return { text, set, safety, setSafety, replace, ...partsOf(text, safety) };
}

/** The form's fields that make each part of a correction. */
const PART_TEXT: Record<PartName, (keyof ContactText)[]> = {
  preferredName: ['preferredName'],
  contact: ['phone', 'email', 'preferredMethod', 'safeTimes', 'safetyNote'],
  address: ['line1', 'line2', 'town', 'postcode'],
};

/**
 * The form on her details as now held, keeping what the coordinator typed: the parts she changed keep
 * her values, the others show what is held now (so saving again cannot put back what someone else
 * changed in a part she did not touch).
 */
function rebased(typed: { text: ContactText; safety: SafetyAnswers }, edited: readonly PartName[], now: Participant) {
  const next = formValues(now);
  for (const part of edited) for (const key of PART_TEXT[part]) next.text[key] = typed.text[key];
  if (edited.includes('contact')) next.safety = typed.safety;
  return next;
}

/** An error about the address as a whole, or its lines as a whole, belongs to the first line. */
export const mapAddressPath = (prefix: string) => (path: string) => (path === `${prefix}address.lines` || path === `${prefix}address` ? `${prefix}address.lines.0` : path);

/** The referral form's fields for how to reach her safely and where she lives (all optional). */
export function ContactFields({ fields, prefix = 'participant.' }: { fields: ReturnType<typeof useContactFields>; prefix?: string }) {
  const { text, set, safety, setSafety } = fields;
  return (
    <>
      <fieldset className="group">
        <legend>Contacting her safely (optional)</legend>
        <p className="hint">Ask her how she wants to be contacted and what is safe: someone else may see her phone, her post or her messages.</p>
        <TextInput path={`${prefix}preferredName`} label="Preferred name (optional)" value={text.preferredName} onChange={set('preferredName')} autoComplete="off" />
        <TextInput path={`${prefix}contact.phone`} label="Phone (optional)" hint="For example 07700 900123" type="tel" value={text.phone} onChange={set('phone')} autoComplete="off" width="medium" />
        <TextInput path={`${prefix}contact.email`} label="Email (optional)" type="email" value={text.email} onChange={set('email')} autoComplete="off" />
        <Select path={`${prefix}contact.preferredMethod`} label="How she wants to be contacted (optional)" value={text.preferredMethod} onChange={set('preferredMethod')} options={CONTACT_METHODS} placeholder="Not asked" />
        {SAFETY_QUESTIONS.map(([key, question]) => (
          <Radios key={key} path={`${prefix}contact.${key}`} legend={question} value={safety[key]} onChange={(v) => setSafety((s) => ({ ...s, [key]: v }))} options={YES_NO} inline />
        ))}
        <TextInput path={`${prefix}contact.safeTimes`} label="Safe times to contact her (optional)" hint="In her words, for example: weekdays 10 to 2." value={text.safeTimes} onChange={set('safeTimes')} autoComplete="off" />
        <TextArea path={`${prefix}contact.safetyNote`} label="Anything else about contacting her safely (optional)" hint="For example a code word, or who may answer the phone. Up to 500 characters." value={text.safetyNote} onChange={set('safetyNote')} />
      </fieldset>
      <fieldset className="group">
        <legend>Address (optional)</legend>
        <TextInput path={`${prefix}address.lines.0`} label="Address line 1" value={text.line1} onChange={set('line1')} autoComplete="off" />
        <TextInput path={`${prefix}address.lines.1`} label="Address line 2 (optional)" value={text.line2} onChange={set('line2')} autoComplete="off" />
        <TextInput path={`${prefix}address.town`} label="Town (optional)" value={text.town} onChange={set('town')} autoComplete="off" width="medium" />
        <TextInput path={`${prefix}address.postcode`} label="Postcode (optional)" hint="For example B1 1AA" value={text.postcode} onChange={set('postcode')} autoComplete="off" width="short" />
      </fieldset>
    </>
  );
}

const yesNo = (v: boolean | undefined) => (v === undefined ? undefined : v ? 'Yes' : 'No');

/** Her contact details as facts, the safety answers first and a warning for every "no". */
export function ContactFacts({ contact, address, preferredName }: { contact?: ContactDetails | undefined; address?: Address | undefined; preferredName?: string | undefined }) {
  const c = contact ?? {};
  const warnings = SAFETY_QUESTIONS.filter(([key]) => c[key] === false).map(([, , warning]) => warning);
  return (
    <>
      {warnings.length > 0 && (
        <div className="notice notice-warning" role="note">
          <strong>Before contacting her:</strong> {warnings.join('. ')}.
        </div>
      )}
      <Facts
        items={[
          ['Preferred name', preferredName],
          ['Phone', c.phone],
          ['Email', c.email],
          ['Contact by', methodLabel(c.preferredMethod)],
          ...SAFETY_QUESTIONS.map(([key, question]) => [question, yesNo(c[key])] as [string, string | undefined]),
          ['Safe times', c.safeTimes],
          ['Safety note', c.safetyNote],
          ['Address', address ? [...address.lines, address.town, address.postcode].filter(Boolean).join(', ') : undefined],
        ]}
      />
    </>
  );
}

/** The parts in words ("contact details and address"), for the messages here and on the plan page. */
export const partWords = (parts: readonly PartName[]) => parts.map((part) => PART_WORDS[part]).join(' and ');

/** The part names in a comma-separated list (from the address bar: anything else is dropped). */
export const partsIn = (list: string | null) => (list ?? '').split(',').filter((name): name is PartName => (PARTS as readonly string[]).includes(name));

/**
 * A coordinator's correction of her contact details, address and preferred name
 * (PATCH /plans/{id}/participant, audited). Name and date of birth are not changed here.
 *
 * Only the parts she changed are sent (the API keeps what a correction leaves out), with If-Match:
 * the revision of her record this page read, so the API writes it only if nobody changed her record
 * since (checked in the write itself). When someone did (another tab, another desk, a moment ago),
 * the API refuses (412) and nothing is saved; the form reads her details again:
 * - if the other change touched none of the parts she changed, her correction is sent again on the
 *   record as it now is (still with If-Match), and both changes are kept;
 * - otherwise sending hers would undo theirs (a safety note included): she is told, the page shows
 *   her details as held now, and the form keeps what she typed in the parts she changed (the other
 *   parts now show what is held), so she can compare and save again.
 */
export function ContactCorrectionForm({
  planId,
  participant,
  revision,
  onDone,
  onChangedElsewhere,
}: {
  planId: string;
  participant: Participant;
  revision: number | undefined;
  /** Saved; `keptTheirs` names the parts someone else changed meanwhile (kept as they left them). */
  onDone: (participant: Participant, revision: number, keptTheirs: string) => void;
  /** Her details as now held, read again after someone else changed them. */
  onChangedElsewhere: (plan: Plan) => void;
}) {
  const fields = useContactFields(participant);
  const submit = useSubmit();
  // What the form corrects: her details and their revision as this page last knew them.
  const [base, setBase] = useState({ participant, revision });
  const path = `/plans/${encodeURIComponent(planId)}`;
  const save = async () => {
    const before = heldCorrection(base.participant);
    const changed = PARTS.filter((part) => !same(fields.correction[part], before[part]));
    if (changed.length === 0) throw new ApiError(400, 'Nothing to save', 'Nothing was changed: her contact details, address and preferred name are as held.');
    const body = Object.fromEntries(changed.map((part) => [part, fields.correction[part]]));
    const send = (seen: number | undefined) =>
      api<{ participant: Participant; participantRevision: number }>('PATCH', `${path}/participant`, { body, ...(seen !== undefined ? { ifMatch: `"${seen}"` } : {}) });
    const stale = (error: unknown) => error instanceof ApiError && error.status === 412;
    try {
      return { ...(await send(base.revision)), keptTheirs: '' };
    } catch (error) {
      if (!stale(error)) throw error;
    }
    const plan = await api<Plan>('GET', path);
    if (!plan.participant) throw new ApiError(412, 'Changed by someone else', 'Her details were changed by someone else and are no longer held here: reload the plan.');
    const now = heldCorrection(plan.participant);
    const moved = PARTS.filter((part) => !same(now[part], before[part]));
    const both = changed.filter((part) => moved.includes(part));
    if (both.length === 0) {
      try {
        return { ...(await send(plan.participantRevision)), keptTheirs: partWords(moved) };
      } catch (error) {
        if (!stale(error)) throw error;
      }
    }
    fields.replace(rebased({ text: fields.text, safety: fields.safety }, changed, plan.participant));
    setBase({ participant: plan.participant, revision: plan.participantRevision });
    onChangedElsewhere(plan);
    throw new ApiError(
      412,
      'Changed by someone else',
      `Someone else changed her ${moved.length > 0 ? partWords(moved) : 'details'} while you were editing: nothing was saved. Her details as held now are shown above.` +
        (both.length > 0 ? ` What you typed for her ${partWords(both)} is still in the form: check it against the details shown above, then save again.` : ' What you typed is still in the form: save again to keep it.'),
    );
  };
  return (
    <details className="disclosure">
      <summary>Change her contact details</summary>
      <Form
        label="Change her contact details"
        idPrefix="correct-"
        error={submit.error}
        mapPath={mapAddressPath('')}
        onSubmit={() =>
          void submit.run(save).then((r) => {
            if (!r) return;
            // The form now shows her details as saved: her parts, and any part someone else changed
            // meanwhile (kept by the API). Left as this page first read them, such a part would count
            // as changed at the next save and be sent back over theirs.
            fields.replace(formValues(r.participant));
            setBase({ participant: r.participant, revision: r.participantRevision });
            onDone(r.participant, r.participantRevision, r.keptTheirs);
          })
        }
      >
        <ContactFields fields={fields} prefix="" />
        <SubmitButton busy={submit.busy}>Save the contact details</SubmitButton>
      </Form>
    </details>
  );
}

/**
 * Her identity erased at her request (or for another recorded reason): POST /plans/{id}/erase-identity.
 * Name, date of birth, contact details and address go for good (for every plan of hers), and what was
 * typed in words on her plans is replaced; the pseudonymous plan stays. It cannot be undone, so the
 * coordinator confirms it first. While a plan of hers is open the API refuses it (409), naming the plan:
 * the form shows that refusal as it is.
 */
/**
 * A plan exited with her follow-ups still to be asked (her consent not withdrawn) holds an erasure back
 * as an open plan does: said before she fills the form in, since "exit it first" alone would not be
 * enough. The rule and its words are the API's (lib/domain/erasure-hold.ts), so the form and the 409 agree.
 */
export function EraseIdentityForm({ plan, onDone }: { plan: Pick<Plan, 'planId' | 'stage' | 'consent' | 'exit'>; onDone: () => void }) {
  const { planId } = plan;
  const waiting = erasureHold(plan) === 'awaiting-follow-ups' ? waitingForFollowUpsWords('This plan') : undefined;
  const [reason, setReason] = useState('');
  const [sure, setSure] = useState(false);
  const submit = useSubmit();
  const erase = async () => {
    if (!sure) throw new ApiError(400, 'Not confirmed', 'Confirm the erasure first: it cannot be undone.', [{ path: 'confirm', message: 'tick this to confirm: the erasure cannot be undone' }]);
    try {
      return await api('POST', `/plans/${encodeURIComponent(planId)}/erase-identity`, { body: { reason: reason || undefined } });
    } catch (error) {
      // A plan of hers is still open: the refusal's words name each open plan and what to do first. Its
      // field errors point at the plan id in the path, which is no field of this form, so the words alone are shown.
      if (error instanceof ApiError && error.status === 409) throw new ApiError(409, error.title, error.message);
      throw error;
    }
  };
  return (
    <details className="disclosure">
      <summary>Erase her identity</summary>
      <Form label="Erase her identity" idPrefix="erase-" error={submit.error} onSubmit={() => void submit.run(erase).then((r) => r && onDone())}>
        <p className="hint">
          Her name, date of birth, contact details and address are deleted for good, from every plan of hers, and what was typed in words on them (goals, notes, her
          words at reviews) is replaced; the plan itself stays under its reference, without them. Only once none of her plans is open or waiting for its follow-ups:
          end an open plan first (exit it, withdraw the referral or record her consent withdrawn); an exited plan waits for its 6- and 12-month follow-ups, unless her
          consent is withdrawn, which cancels them. The erasure and its reason are kept in the audit log.
        </p>
        {waiting && (
          <p className="hint">
            <strong>{waiting.held}:</strong> {waiting.remedy}.
          </p>
        )}
        <Select path="reason" label="Why" value={reason} onChange={setReason} options={options(ERASURE_REASONS, label)} placeholder="Choose a reason" />
        <Checkbox path="confirm" label="I understand this cannot be undone" checked={sure} onChange={setSure} />
        <SubmitButton busy={submit.busy} tone="danger">
          Erase her identity
        </SubmitButton>
      </Form>
    </details>
  );
}
