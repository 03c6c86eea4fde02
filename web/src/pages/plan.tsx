import { useCallback, useMemo, useState } from 'react';
import { followUpDueAt, followUpMonthOf, followUpsLapseAt } from '../../../lib/domain/follow-ups.ts';
import type { CommandName } from '../../../lib/domain/lifecycle.ts';
import { rereadWords, type PlanChanges } from '../conflict-words.ts';
import { consentInBrief, consentWithdrawnAt } from '../consent-words.ts';
import { deadlineInWords } from '../deadline-words.ts';
import { riskWords } from '../risk-words.ts';
import { contactDetailsCorrectable, DEADLINE_WORDS, directoryNames, escalationLabel, isAllowedIn, label, needLabel } from '../domain.ts';
import { formatDate, formatDateTime, isPast, relative } from '../format.ts';
import { Link, useLocation } from '../router.tsx';
import type { HistoryItem, Plan } from '../types.ts';
import { Facts, LoadError, Loading, Notice, PageTitle, Section, StageBadge, useApp, useResource } from '../ui.tsx';
import { AllocationSection } from './plan-allocation.tsx';
import { ConsentForm, ConsentSection } from './plan-consent.tsx';
import { AssessmentForm, CorrectFollowUpForm, ExitForm, FollowUpForm, WithdrawConsentForm, WithdrawForm } from './plan-forms.tsx';
import { PlanContext, type PlanContextValue } from './plan-kit.tsx';
import { ReviewForm, ReviewsSection } from './plan-review.tsx';
import { Timeline } from './timeline.tsx';
import { ContactCorrectionForm, ContactFacts, EraseIdentityForm, partsIn, partWords, type PartName } from './identity.tsx';
import { NeedList } from './needs.tsx';

const OPEN = ['referred', 'assessment', 'allocating', 'active'];

const KEPT_BECAUSE: Record<string, string> = {
  'corrected-since-referral': 'a correction of her record made while the referral was being recorded is kept instead',
  'identity-not-held': 'her identity is no longer held',
  'not-checked': 'they could not be checked against what was held before',
};

/** "was" or "were" for these parts ("contact details" are plural). */
const wasOrWere = (parts: readonly PartName[], singular: string, plural: string) => (parts.length > 1 || parts[0] === 'contact' ? plural : singular);

/** The referral's answer, as the referral page passed it on (field names and a reason code only): what was not written, and why. */
function referralDetailsKept(search: URLSearchParams): string | undefined {
  const kept = partsIn(search.get('kept'));
  if (kept.length === 0) return undefined;
  const applied = partsIn(search.get('applied'));
  const why = Object.hasOwn(KEPT_BECAUSE, search.get('why') ?? '') ? KEPT_BECAUSE[search.get('why') as string] : KEPT_BECAUSE['not-checked'];
  return (
    `The ${partWords(kept)} given in this referral ${wasOrWere(kept, 'was', 'were')} not written to her record: ${why}.` +
    (applied.length > 0 ? ` Her ${partWords(applied)} from this referral ${wasOrWere(applied, 'is', 'are')} now held.` : '')
  );
}

/** One plan: where it stands, what to do next for its stage, its reviews and its timeline. */
export function PlanPage({ planId }: { planId: string }) {
  const { session, now, refreshNow, providerName, services } = useApp();
  const { search } = useLocation();
  const loaded = useResource<Plan>(`/plans/${encodeURIComponent(planId)}`);
  const history = useResource<{ items: HistoryItem[] }>(`/plans/${encodeURIComponent(planId)}/history`);
  // A notice, or after a conflict one worded from the plan as read again (whether her form is still there).
  const [message, setMessage] = useState<string | ((plan: Plan) => string) | undefined>(search.get('created') ? 'Referral recorded: the plan is created.' : undefined);
  // A woman referred before whose record kept some of her details over the referral's (referral.tsx says which).
  const [keptDetails] = useState(() => (search.get('created') ? referralDetailsKept(search) : undefined));
  const { reload: reloadPlan, setData: setPlan, data: plan } = loaded;
  const reloadHistory = history.reload;

  const applied = useCallback(
    (next: Plan, text: string) => {
      setPlan({ ...next, ...(plan?.participant && !next.participant ? { participant: plan.participant, participantRevision: plan.participantRevision } : {}) });
      setMessage(text);
      reloadHistory();
      refreshNow();
    },
    [plan, setPlan, reloadHistory, refreshNow],
  );
  const reload = useCallback(() => {
    setMessage(undefined);
    reloadPlan();
    reloadHistory();
    refreshNow();
  }, [reloadPlan, reloadHistory, refreshNow]);
  const reread = useCallback(
    (changes: PlanChanges, command: CommandName) => {
      reload();
      setMessage(() => (now: Plan) => rereadWords(changes, isAllowedIn(command, now.stage) ? undefined : label(now.stage)));
    },
    [reload],
  );
  const context = useMemo<PlanContextValue | undefined>(
    () => (plan ? { plan, applied, reload, reread, readOnly: session.role !== 'coordinator' } : undefined),
    [plan, applied, reload, reread, session.role],
  );

  if (loaded.error && !plan) return <LoadError error={loaded.error} what={`plan ${planId}`} onRetry={reload} />;
  if (!plan || !context) return <Loading what={`plan ${planId}`} />;
  const coordinator = !context.readOnly;
  const openEscalations = plan.openEscalations ?? [];
  const name = plan.participant ? `${plan.participant.givenName} ${plan.participant.familyName}` : undefined;

  return (
    <PlanContext.Provider value={context}>
      <div className="page-head">
        <PageTitle title={`Plan ${plan.planId}`}>
          {name ?? 'Plan'} <span className="title-ref">{plan.planId}</span>
        </PageTitle>
        <div className="head-actions">
          <StageBadge stage={plan.stage} />
          {session.role === 'team-lead' && <Link to={`/audit-log?plan=${encodeURIComponent(plan.planId)}`} className="button secondary">Who has seen this plan</Link>}
          <button type="button" className="button secondary" onClick={reload}>
            Refresh
          </button>
        </div>
      </div>
      {message && <Notice>{typeof message === 'function' ? message(plan) : message}</Notice>}
      {keptDetails && (
        <Notice tone="warning">
          {keptDetails} <a href="#contact-details">Check her contact details</a>, and correct them there if the referral&rsquo;s are the right ones.
        </Notice>
      )}
      {openEscalations.length > 0 && (
        <div className="notice notice-warning" role="note">
          <strong>Escalated to the team lead:</strong> {openEscalations
            .map((e) => `${escalationLabel({ ...e, offer: plan.allocations.find((a) => e.kind === 'offer-unanswered' && a.allocationId === e.ref) }, directoryNames(services))} (${formatDate(e.raisedAt)}${e.acknowledged ? `; picked up by ${e.acknowledged.byName ?? e.acknowledged.by} at ${formatDateTime(e.acknowledged.at)}` : ''})`)
            .join('; ')}
        </div>
      )}

      <div className="plan-layout">
        <div className="plan-main">
          {coordinator && <NextStep plan={plan} />}
          {['allocating', 'active', 'exited', 'closed'].includes(plan.stage) && <AllocationSection />}
          {plan.needs.length > 0 && <NeedsSection plan={plan} />}
          <ConsentSection />
          {(plan.reviews.length > 0 || plan.stage === 'active') && <ReviewsSection />}
          {coordinator && <EndOrWithdraw plan={plan} />}
          <Timeline items={history.data?.items} error={history.error} onRetry={reloadHistory} {...(plan.openEscalations ? { openEscalations: plan.openEscalations } : {})} />
        </div>
        <aside className="plan-side" aria-label="About this plan">
          <Section title="Plan details" id="details">
            <Facts
              items={[
                ['Stage', label(plan.stage)],
                ['Date of birth', plan.participant ? formatDate(plan.participant.dateOfBirth) : undefined],
                ['Age at referral', plan.ageAtReferral],
                ['Referred', formatDate(plan.referral.receivedAt)],
                ['Source', label(plan.referral.source)],
                ['Local authority', label(plan.referral.localAuthority)],
                ['Urgency', label(plan.referral.urgency)],
                ['Reviews every', `${plan.reviewEveryDays} days`],
                ['Consent', consentInBrief(plan, formatDate)],
                ['Next review', plan.nextReview ? `Review ${plan.nextReview.reviewNumber}, ${formatDate(plan.nextReview.dueAt)}${plan.nextReview.overdue ? ' (overdue)' : ''}` : undefined],
                ['Exited', plan.exit ? `${formatDate(plan.exit.exitedAt)}: ${label(plan.exit.reason)}` : undefined],
                ['Withdrawn', plan.withdrawal ? `${formatDate(plan.withdrawal.at)}: ${label(plan.withdrawal.reason)}` : undefined],
                [
                  'Earlier plans',
                  plan.previousPlanIds?.length
                    ? plan.previousPlanIds.map((id, i) => (
                        <span key={id}>
                          {i > 0 && ', '}
                          <Link to={`/plan/${id}`}>{id}</Link>
                        </span>
                      ))
                    : undefined,
                ],
                ['Identity', plan.identityErasedAt ? `Erased ${formatDate(plan.identityErasedAt)}` : undefined],
                ['Version', plan.version],
              ]}
            />
          </Section>
          {plan.participant && (
            <Section title="Contact details" id="contact-details">
              {plan.participant.contact || plan.participant.address || plan.participant.preferredName ? (
                <ContactFacts contact={plan.participant.contact} address={plan.participant.address} preferredName={plan.participant.preferredName} />
              ) : (
                <p className="empty">None recorded.</p>
              )}
              <p className="hint">
                Providers see her name and contact details only after accepting an allocation, and only while her consent covers contact details; her address only if she asked for
                letters. Every read is in the audit log.
              </p>
              {coordinator && !contactDetailsCorrectable(plan) && (
                <p className="hint">This plan is {label(plan.stage).toLowerCase()}: nobody contacts her about it any more, so her contact details are changed only on a plan of hers in use.</p>
              )}
              {coordinator && contactDetailsCorrectable(plan) && (
                <ContactCorrectionForm
                  // Not keyed by her details: when someone else changed them, the form stays with what was typed.
                  key={plan.planId}
                  planId={plan.planId}
                  participant={plan.participant}
                  revision={plan.participantRevision}
                  onDone={(participant, participantRevision, keptTheirs) => {
                    setPlan({ ...plan, participant, participantRevision });
                    setMessage(`Contact details saved.${keptTheirs ? ` Someone else changed her ${keptTheirs} meanwhile: that change is kept too.` : ''}`);
                  }}
                  onChangedElsewhere={(current) => {
                    setPlan({ ...plan, participant: current.participant, participantRevision: current.participantRevision });
                    setMessage(undefined);
                  }}
                />
              )}
              {coordinator && (
                <EraseIdentityForm
                  plan={plan}
                  onDone={() => {
                    reload();
                    setMessage('Her identity is erased: her name, date of birth, contact details and address are no longer held.');
                  }}
                />
              )}
            </Section>
          )}
          {plan.identityErasedAt && (
            <Section title="Her identity" id="identity-erased">
              <p>
                Erased on {formatDate(plan.identityErasedAt)}: her name, date of birth, contact details and address are no longer held. The plan stays under its reference.
              </p>
            </Section>
          )}
          {plan.deadlines.length > 0 && (
            <Section title="Deadlines" id="deadlines">
              <ul className="plain-list">
                {plan.deadlines.map((d) => {
                  // A deadline that repeats an open escalation, or a follow-up already due, reads as the lists say it, not as a date to come.
                  const followUpMonth = d.command === 'follow-up-due' ? followUpMonthOf(d.ref) : undefined;
                  const followUpDay = followUpMonth === undefined ? undefined : followUpDueAt(plan, followUpMonth);
                  const words = deadlineInWords(d, plan.openEscalations ?? [], now, directoryNames(services), followUpDay, followUpMonth === undefined ? undefined : followUpsLapseAt(plan));
                  return words.overdue && !isPast(d.dueAt, now) ? (
                    <li key={d.deadlineId} className="overdue-text">
                      <strong>{words.term}</strong>: {words.words}
                    </li>
                  ) : (
                    <li key={d.deadlineId} className={isPast(d.dueAt, now) ? 'overdue-text' : undefined}>
                      <strong>{deadlineText(plan, d.command, d.ref, providerName)}</strong>: {formatDateTime(d.dueAt)} ({relative(d.dueAt, now)})
                    </li>
                  );
                })}
              </ul>
            </Section>
          )}
          {plan.exitSummary && <ExitSummary plan={plan} />}
        </aside>
      </div>
    </PlanContext.Provider>
  );
}

/** What a deadline is about, in words: the provider of an offer, the number of a review, the follow-up month. */
function deadlineText(plan: Plan, command: string, ref: string | undefined, providerName: (id: string) => string): string {
  const offer = ref ? plan.allocations.find((a) => a.allocationId === ref) : undefined;
  if (offer) return `${DEADLINE_WORDS[command] ?? label(command)} (${providerName(offer.providerId)})`;
  if (ref && /^\d+$/.test(ref)) {
    if (command === 'review-due') return `Review ${ref} reminder`;
    if (command === 'review-overdue') return `Review ${ref} overdue after`;
    if (command === 'follow-up-due') return `${ref}-month follow-up due`;
  }
  return DEADLINE_WORDS[command] ?? label(command);
}

function NextStep({ plan }: { plan: Plan }) {
  const stage = plan.stage;
  return (
    <>
      {stage === 'referred' && (
        <Section title="Record consent" id="consent">
          <ConsentForm />
        </Section>
      )}
      {stage === 'assessment' && (
        <Section title="Holistic needs assessment" id="assessment">
          <AssessmentForm />
        </Section>
      )}
      {stage === 'active' && (
        <Section title="Record a review" id="review">
          {/* A fresh form for each review: what was entered for review N means nothing once review N is recorded (by anyone). */}
          <ReviewForm key={plan.reviews.length} />
        </Section>
      )}
      {(stage === 'exited' || stage === 'closed') && plan.exit && <FollowUpSection plan={plan} />}
    </>
  );
}

/**
 * Follow-ups: record the one due, correct one recorded (also once the plan has closed: the 12-month
 * one closes it), or record that she withdrew her consent, which cancels those still due. Once her
 * consent is withdrawn nothing more is asked or changed.
 */
function FollowUpSection({ plan }: { plan: Plan }) {
  const withdrawnAt = consentWithdrawnAt(plan);
  if (withdrawnAt)
    return (
      <Section title="Follow-up" id="follow-up">
        <p className="hint">Her consent was withdrawn on {formatDate(withdrawnAt)}: follow-ups are not asked, and any answer recorded before is left out of the reoffending figures.</p>
      </Section>
    );
  return (
    <Section title="Follow-up" id="follow-up">
      {plan.stage === 'exited' && <FollowUpForm />}
      {plan.followUps.length > 0 && (
        <details className="disclosure">
          <summary>Correct a recorded follow-up</summary>
          <CorrectFollowUpForm />
        </details>
      )}
      {plan.stage === 'exited' && (
        <details className="disclosure">
          <summary>Consent withdrawn</summary>
          <WithdrawConsentForm />
        </details>
      )}
    </Section>
  );
}

function EndOrWithdraw({ plan }: { plan: Plan }) {
  const stage = plan.stage;
  return (
    <>
      {OPEN.includes(stage) && (
        <Section title="End or withdraw" id="end">
          {(stage === 'referred' || stage === 'assessment') && (
            <details className="disclosure">
              <summary>Withdraw the referral</summary>
              <WithdrawForm />
            </details>
          )}
          {stage !== 'referred' && (
            <details className="disclosure">
              <summary>End support (exit)</summary>
              <ExitForm />
            </details>
          )}
          <details className="disclosure">
            <summary>Consent withdrawn</summary>
            <WithdrawConsentForm />
          </details>
        </Section>
      )}
    </>
  );
}

function NeedsSection({ plan }: { plan: Plan }) {
  // Once assessed, each risk is shown: one the assessment left out (or all, when it gave none) reads
  // "Not assessed", never "No" or blank, as on the provider's allocation page (risk-words.ts).
  const risks = plan.assessedAt || plan.risks ? riskWords(plan.risks ?? {}) : undefined;
  return (
    <Section title="Needs" id="needs">
      <NeedList needs={plan.needs} />
      {risks && (
        <Facts
          items={[
            ['Domestic abuse risk', risks.domesticAbuse],
            ['Self-harm', risks.selfHarm],
            ['Safeguarding children', risks.safeguardingChildren],
            ['Adjustments', plan.adjustments.length ? plan.adjustments.map(label).join(', ') : 'None'],
          ]}
        />
      )}
    </Section>
  );
}

function ExitSummary({ plan }: { plan: Plan }) {
  const s = plan.exitSummary;
  if (!s) return null;
  return (
    <Section title="Exit summary" id="exit-summary">
      <Facts
        items={[
          ['Reason', label(s.reason)],
          ['Days in plan', s.daysInPlan],
          ['Days active', s.daysActive],
          ['Sessions', `${s.sessions.attended} attended, ${s.sessions.missed} missed, ${s.sessions.cancelled} cancelled`],
          ...Object.entries(s.scores).map(([d, v]) => [needLabel(d), `${v.first ?? '–'} → ${v.last ?? '–'} (${v.change >= 0 ? '+' : ''}${v.change})`] as [string, string]),
          ...plan.followUps.map((f) => [`${f.month}-month follow-up`, `Reoffended: ${label(f.reoffended)}`] as [string, string]),
        ]}
      />
    </Section>
  );
}
