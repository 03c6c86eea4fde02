import { Fragment, useState } from 'react';
import { POSSIBLE_DUPLICATE_TYPE } from '../../../lib/domain/vocabulary.ts';
import { api, query, type ApiError } from '../api.ts';
import { label, LOCAL_AUTHORITIES, REFERRAL_SOURCES } from '../domain.ts';
import { formatDate } from '../format.ts';
import { fieldId, Form, options, Radios, Select, SubmitButton, TextArea, TextInput, useSubmit } from '../forms.tsx';
import { Link, navigate } from '../router.tsx';
import type { Plan } from '../types.ts';
import { PageTitle } from '../ui.tsx';
import { ContactFields, mapAddressPath, useContactFields } from './identity.tsx';

interface PossibleDuplicate {
  planId: string;
  stage: string;
  referredOn: string;
}

/** The open plans a possible-duplicate refusal (409) names, for the coordinator to check; undefined for any other error. */
function possibleDuplicatesOf(error: ApiError | undefined): PossibleDuplicate[] | undefined {
  if (error?.status !== 409 || error.type !== POSSIBLE_DUPLICATE_TYPE || !Array.isArray(error.problem.possibleDuplicates)) return undefined;
  return (error.problem.possibleDuplicates as PossibleDuplicate[]).filter((p) => typeof p?.planId === 'string');
}

/** The open plan of hers a referral was refused for (409, the problem's `openPlan` member); undefined for any other error. */
function openPlanOf(error: ApiError | undefined): string | undefined {
  if (error?.status !== 409) return undefined;
  const openPlan = error.problem.openPlan as { planId?: unknown } | undefined;
  return typeof openPlan?.planId === 'string' ? openPlan.planId : undefined;
}

/**
 * The warning of a possible duplicate: which open plans may be hers (each opens in a new tab, so the form
 * stays as typed), and the confirmation that she is a different woman, which sends the referral again
 * with every plan named in notDuplicateOf.
 */
function PossibleDuplicateWarning({ plans, busy, onConfirm }: { plans: PossibleDuplicate[]; busy: boolean; onConfirm: () => void }) {
  return (
    <div className="notice notice-warning" role="alert" aria-labelledby="possible-duplicate-title">
      <p id="possible-duplicate-title">
        A plan may already be open for this woman:{' '}
        {plans.map((p, i) => (
          <Fragment key={p.planId}>
            {i > 0 && (i === plans.length - 1 ? ' and ' : ', ')}
            <a href={`/plan/${p.planId}`} target="_blank" rel="noopener">
              plan {p.planId}
            </a>{' '}
            ({label(p.stage)}, referred on {formatDate(p.referredOn)})
          </Fragment>
        ))}
        . Check {plans.length > 1 ? 'them' : 'it'}; if she is a different woman, confirm and refer.
      </p>
      <p>Nothing has been recorded yet.</p>
      <button type="button" className="button secondary" onClick={onConfirm} disabled={busy}>
        She is a different woman: confirm and refer
      </button>
    </div>
  );
}

/** POST /plans: a new referral. Identity is kept apart from the plan by the API. */
export function ReferralPage() {
  const [givenName, setGivenName] = useState('');
  const [familyName, setFamilyName] = useState('');
  const [dateOfBirth, setDateOfBirth] = useState('');
  const [source, setSource] = useState('');
  const [localAuthority, setLocalAuthority] = useState('');
  const [urgency, setUrgency] = useState('routine');
  const [note, setNote] = useState('');
  const [reviewEveryDays, setReviewEveryDays] = useState('');
  const contact = useContactFields();
  const submit = useSubmit();
  // Referred again while a plan of hers is open: the API names that plan; the coordinator goes there.
  const openPlanId = openPlanOf(submit.error);

  // A near match with another woman's open plan: the coordinator checks it, then confirms she is someone else.
  const duplicates = possibleDuplicatesOf(submit.error);

  const send = (notDuplicateOf?: string[]) =>
    void submit.run(async (key) => {
      const body = {
        participant: { givenName, familyName, dateOfBirth, ...contact.body },
        referral: { source: source || undefined, localAuthority: localAuthority || undefined, urgency, ...(note.trim() ? { note } : {}) },
        ...(reviewEveryDays.trim() ? { reviewEveryDays: Number(reviewEveryDays) } : {}),
        ...(notDuplicateOf ? { notDuplicateOf } : {}),
      };
      const plan = await api<Plan>('POST', '/plans', { body, idempotencyKey: key });
      // What became of the contact details, address and preferred name it gave (a woman referred before keeps a correction made meanwhile): the plan page says.
      const details = plan.referralDetails;
      const kept = details && details.notApplied.length > 0 ? `&${query({ kept: details.notApplied.join(','), applied: details.applied.join(','), why: details.reason }).slice(1)}` : '';
      navigate(`/plan/${plan.planId}?created=1${kept}`);
      return plan;
    });

  return (
    <div className="narrow">
      <PageTitle>New referral</PageTitle>
      <p className="lead">
        Her name, date of birth, contact details and address are stored apart from the plan; the plan and every provider see only a pseudonymous reference. A provider is told
        her name and how to contact her only once it has accepted an allocation, and only if her consent covers contact details.
      </p>
      <Form onSubmit={() => send()} error={duplicates ? undefined : submit.error} label="New referral" mapPath={mapAddressPath('participant.')}>
        {duplicates && <PossibleDuplicateWarning plans={duplicates} busy={submit.busy} onConfirm={() => send(duplicates.map((p) => p.planId))} />}
        {openPlanId && (
          <p className="notice notice-warning" role="note">
            She already has an open plan: <Link to={`/plan/${openPlanId}`}>open her plan {openPlanId}</Link>.
          </p>
        )}
        {/* The target of a refusal about her as a whole (path `participant`: an open plan, a referral of her
            in progress): the error summary names it by its legend and its link lands here. */}
        <fieldset className="group" id={fieldId('participant')} tabIndex={-1}>
          <legend>The woman referred</legend>
          <TextInput path="participant.givenName" label="Given name" value={givenName} onChange={setGivenName} autoComplete="off" />
          <TextInput path="participant.familyName" label="Family name" value={familyName} onChange={setFamilyName} autoComplete="off" />
          <TextInput path="participant.dateOfBirth" label="Date of birth" hint="For example 1990-04-01" type="date" value={dateOfBirth} onChange={setDateOfBirth} width="medium" />
        </fieldset>
        <ContactFields fields={contact} />
        <fieldset className="group">
          <legend>The referral</legend>
          <Select path="referral.source" label="Referred by" value={source} onChange={setSource} options={options(REFERRAL_SOURCES, label)} placeholder="Choose a source" />
          <Select path="referral.localAuthority" label="Local authority" hint="Where she lives: it decides which services can be offered." value={localAuthority} onChange={setLocalAuthority} options={options(LOCAL_AUTHORITIES, label)} placeholder="Choose a local authority" />
          <Radios path="referral.urgency" legend="Urgency" value={urgency} onChange={setUrgency} options={options(['routine', 'urgent'], label)} inline />
          <TextArea path="referral.note" label="Note (optional)" hint="Up to 500 characters. No offence details." value={note} onChange={setNote} />
          <TextInput
            path="reviewEveryDays"
            label="Review every (days, optional)"
            hint="Default 28, or 14 for Problem Solving Court referrals."
            value={reviewEveryDays}
            onChange={setReviewEveryDays}
            inputMode="numeric"
            width="short"
          />
        </fieldset>
        <SubmitButton busy={submit.busy}>Create the plan</SubmitButton>
      </Form>
    </div>
  );
}
