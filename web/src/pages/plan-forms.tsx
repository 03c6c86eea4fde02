import { useState } from 'react';
import {
  ADJUSTMENTS,
  DOMESTIC_ABUSE_RISK,
  EXIT_REASONS,
  FOLLOW_UP_CORRECTION_REASONS,
  label,
  NEED_DOMAINS,
  NEED_LEVELS,
  needLabel,
  REOFFENDED,
  WITHDRAW_REASONS,
} from '../domain.ts';
import { ApiError } from '../api.ts';
import { Checkbox, Checkboxes, ExactErrors, fieldId, options, Radios, Select, TextArea } from '../forms.tsx';
import { FOLLOW_UP_MONTHS, followUpDueAt, followUpsLapseAt } from '../../../lib/domain/follow-ups.ts';
import { formatDate, londonDay, relative } from '../format.ts';
import { useApp } from '../ui.tsx';
import { CommandForm, usePlan, usePlanCommand } from './plan-kit.tsx';

/**
 * Today in London by the server's clock (which may be simulated), as the signed-in app last read it:
 * render stays pure (no clock read of its own), and the forms are only ever inside the signed-in app.
 */
export function useToday(): string {
  return londonDay(useApp().now);
}

interface NeedRow {
  on: boolean;
  level: string;
  priority: boolean;
  goals: string;
}

const YES_NO = [
  ['yes', 'Yes'],
  ['no', 'No'],
] as const;

export function AssessmentForm() {
  const [rows, setRows] = useState<Record<string, NeedRow>>(() => Object.fromEntries(NEED_DOMAINS.map((d) => [d, { on: false, level: '', priority: false, goals: '' }])));
  // Not preselected: a risk not assessed is not 'none' or 'no', so the coordinator says which for each (the API
  // takes one left out, as not assessed, from other clients; this form asks for the answer every assessment should have).
  // A checkbox left unticked would have said 'no self-harm' of an assessment that never looked.
  const [domesticAbuse, setDomesticAbuse] = useState('');
  const [unanswered, setUnanswered] = useState<ApiError | undefined>();
  const [selfHarm, setSelfHarm] = useState('');
  const [children, setChildren] = useState('');
  const [adjustments, setAdjustments] = useState<string[]>([]);
  const command = usePlanCommand('submit-assessment');
  const chosen = NEED_DOMAINS.filter((d) => rows[d]?.on);
  const update = (domain: string, change: Partial<NeedRow>) => setRows((r) => ({ ...r, [domain]: { ...(r[domain] as NeedRow), ...change } }));
  // The API names needs by their position in what was sent: show each error on its domain's row.
  const mapPath = (path: string) => path.replace(/^needs\.(\d+)/, (all, i: string) => (chosen[Number(i)] ? `needs.${chosen[Number(i)]}` : all));
  const send = () => {
    // Refused here, in the shape of the API's own refusals, so the error lands on the field and the summary names it.
    const missing = [
      ...(domesticAbuse ? [] : [{ path: 'risks.domesticAbuse', message: "is required: choose 'None' only if it was assessed as none" }]),
      ...(selfHarm ? [] : [{ path: 'risks.selfHarm', message: "is required: choose 'No' only if it was assessed as none" }]),
      ...(children ? [] : [{ path: 'risks.safeguardingChildren', message: "is required: choose 'No' only if it was assessed as none" }]),
    ];
    if (missing.length > 0) {
      setUnanswered(new ApiError(400, 'The assessment is not complete', missing.map((e) => `${e.path}: is required`).join('; '), missing));
      return;
    }
    setUnanswered(undefined);
    void command.send(
      {
        needs: chosen.map((d) => {
          const row = rows[d] as NeedRow;
          return {
            domain: d,
            level: row.level || undefined,
            priority: row.priority,
            goals: row.goals
              .split('\n')
              .map((g) => g.trim())
              .filter(Boolean),
          };
        }),
        risks: { domesticAbuse, selfHarm: selfHarm === 'yes', safeguardingChildren: children === 'yes' },
        adjustments,
      },
      'Assessment recorded: providers have been proposed and offered.',
    );
  };
  return (
    <CommandForm onSubmit={send} error={unanswered ?? command.error} busy={command.busy} submitLabel="Submit the assessment" label="Holistic needs assessment" mapPath={mapPath}>
      <fieldset className="field group" id={fieldId('needs')} tabIndex={-1}>
        <legend>Needs</legend>
        <p className="hint">Tick each need domain assessed, then its level, whether it is a priority, and her goals (one a line). The plan becomes active once every priority need has a provider.</p>
        <ExactErrors path="needs" />
        <ul className="need-rows">
          {NEED_DOMAINS.map((d) => {
            const row = rows[d] as NeedRow;
            return (
              <li key={d} className={row.on ? 'need-row is-on' : 'need-row'}>
                <Checkbox path={`needs.${d}.domain`} label={needLabel(d)} checked={row.on} onChange={(on) => update(d, { on })} />
                {row.on && (
                  <div className="need-detail">
                    <Radios path={`needs.${d}.level`} legend={`${needLabel(d)}: level`} value={row.level} onChange={(level) => update(d, { level })} options={options(NEED_LEVELS, label)} inline />
                    <Checkbox path={`needs.${d}.priority`} label="Priority" checked={row.priority} onChange={(priority) => update(d, { priority })} />
                    <TextArea path={`needs.${d}.goals`} label={`${needLabel(d)}: goals`} hint="One goal a line." value={row.goals} onChange={(goals) => update(d, { goals })} rows={2} />
                  </div>
                )}
              </li>
            );
          })}
        </ul>
      </fieldset>
      <fieldset className="group">
        <legend>Risks</legend>
        <Select path="risks.domesticAbuse" label="Domestic abuse risk" value={domesticAbuse} onChange={setDomesticAbuse} options={options(DOMESTIC_ABUSE_RISK, label)} placeholder="Choose…" />
        <Radios path="risks.selfHarm" legend="Risk of self-harm" value={selfHarm} onChange={setSelfHarm} options={YES_NO} inline />
        <Radios path="risks.safeguardingChildren" legend="Children at risk (safeguarding)" value={children} onChange={setChildren} options={YES_NO} inline />
      </fieldset>
      <Checkboxes path="adjustments" legend="Adjustments" hint="What providers need to do differently to work with her." values={adjustments} onChange={setAdjustments} options={options(ADJUSTMENTS, label)} />
    </CommandForm>
  );
}

export function WithdrawForm() {
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const command = usePlanCommand('withdraw');
  const send = () => void command.send({ reason: reason || undefined, ...(note.trim() ? { note } : {}) }, 'The referral is withdrawn.');
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Withdraw the referral" label="Withdraw the referral" tone="danger" idPrefix="withdraw-">
      <Select path="reason" label="Reason" value={reason} onChange={setReason} options={options(WITHDRAW_REASONS, label)} placeholder="Choose a reason" />
      <TextArea path="note" label="Note (optional)" value={note} onChange={setNote} />
    </CommandForm>
  );
}

export function ExitForm() {
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const command = usePlanCommand('exit');
  const send = () => void command.send({ reason: reason || undefined, ...(note.trim() ? { note } : {}) }, 'Support has ended: open offers and allocations are withdrawn and the providers told. Follow-ups are due at 6 and 12 months.');
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="End support" label="End support" tone="danger" idPrefix="exit-">
      <p className="hint">Open offers and allocations are withdrawn and every provider is told.</p>
      <Select path="reason" label="Reason for exit" value={reason} onChange={setReason} options={options(EXIT_REASONS, label)} placeholder="Choose a reason" />
      <TextArea path="note" label="Note (optional)" value={note} onChange={setNote} />
    </CommandForm>
  );
}

export function WithdrawConsentForm() {
  const [note, setNote] = useState('');
  const command = usePlanCommand('withdraw-consent');
  const { plan } = usePlan();
  const exited = plan.stage === 'exited';
  const send = () =>
    void command.send(
      { ...(note.trim() ? { note } : {}) },
      exited
        ? 'Consent withdrawn: the follow-ups still due are cancelled, every provider was told to stop processing and delete what it holds, and the plan is closed.'
        : 'Consent withdrawn: support has ended, every provider was told to stop processing and delete what it holds, and the plan is closed.',
    );
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Record that consent is withdrawn" label="Consent withdrawn" tone="danger" idPrefix="withdraw-consent-">
      <p className="hint">
        {exited
          ? 'The follow-ups still due are cancelled (she is not asked about reoffending, and her answers are left out of the figures); every provider is told to stop processing and delete what it holds; the plan closes.'
          : 'Support ends at once and no follow-ups are asked; every provider is told to stop processing and delete what it holds; the plan closes.'}
      </p>
      <TextArea path="note" label="Note (optional)" value={note} onChange={setNote} />
    </CommandForm>
  );
}

export function FollowUpForm() {
  const { plan } = usePlan();
  const recorded = new Set<number>(plan.followUps.map((f) => f.month));
  const { now } = useApp();
  const today = useToday();
  // Offered: the follow-ups not recorded whose day has come (the API refuses one before it); the next one by default.
  const open = FOLLOW_UP_MONTHS.filter((m) => {
    const dueAt = followUpDueAt(plan, m);
    return !recorded.has(m) && dueAt !== undefined && today >= londonDay(dueAt);
  });
  const next = recorded.has(6) ? 12 : 6;
  const [chosen, setMonth] = useState<string | undefined>();
  const month = chosen !== undefined && open.some((m) => String(m) === chosen) ? chosen : String(next);
  const [reoffended, setReoffended] = useState('');
  const command = usePlanCommand('record-follow-up');
  const send = () => void command.send({ month: Number(month), reoffended: reoffended || undefined }, `${month}-month follow-up recorded.`);
  // Whether she reoffended within those months is known only once they have passed: the API refuses it
  // before that day (the domain's own date rule: the follow-up deadline moves on once its reminder fires).
  const dueFrom = followUpDueAt(plan, next);
  // The follow-up timer records those still missing as unknown then, and closes the plan (decide.ts, follow-ups.ts).
  const lapsesAt = followUpsLapseAt(plan);
  if (dueFrom && today < londonDay(dueFrom))
    return (
      <p className="hint">
        The {next}-month follow-up can be recorded from {formatDate(dueFrom)} ({relative(dueFrom, now)}); the plan closes after the 12-month one.
      </p>
    );
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Record the follow-up" label="Follow-up">
      <p className="hint">
        Follow-ups are due 6 and 12 months after exit; the plan closes after the last. Recorded: {plan.followUps.length ? plan.followUps.map((f) => `${f.month} months (${label(f.reoffended)})`).join(', ') : 'none yet'}.
        {lapsesAt && ` Any not recorded by ${formatDate(lapsesAt)} is then recorded as unknown, and the plan closes.`}
      </p>
      <Radios path="month" legend="Which follow-up" value={month} onChange={setMonth} options={open.map((m) => [String(m), `${m} months`] as [string, string])} inline />
      <Radios path="reoffended" legend="Has she reoffended?" value={reoffended} onChange={setReoffended} options={options(REOFFENDED, label)} inline />
    </CommandForm>
  );
}

/**
 * Correct a recorded follow-up: a mis-keyed answer would otherwise stay in the reoffending figures.
 * The answer it replaces stays in the plan's history; the reason is a code, a note is optional.
 */
export function CorrectFollowUpForm() {
  const { plan } = usePlan();
  const recorded = plan.followUps;
  const [chosen, setMonth] = useState<string | undefined>();
  const month = chosen !== undefined && recorded.some((f) => String(f.month) === chosen) ? chosen : String(recorded.at(-1)?.month ?? '');
  const current = recorded.find((f) => String(f.month) === month);
  const [reoffended, setReoffended] = useState('');
  const [reason, setReason] = useState('');
  const [note, setNote] = useState('');
  const command = usePlanCommand('correct-follow-up');
  const send = () =>
    void command.send(
      { month: Number(month), reoffended: reoffended || undefined, reason: reason || undefined, ...(note.trim() ? { note } : {}) },
      `${month}-month follow-up corrected: the earlier answer stays in the plan's history.`,
    );
  if (recorded.length === 0) return null;
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Correct the follow-up" label="Correct a follow-up">
      <p className="hint">
        Recorded: {recorded.map((f) => `${f.month} months (${label(f.reoffended)}${f.corrections?.length ? `, corrected from ${f.corrections.map((c) => label(c.previous)).join(', then ')}` : ''})`).join('; ')}. The answer you
        replace stays in the plan's history.
      </p>
      {recorded.length > 1 && <Radios path="month" legend="Which follow-up" value={month} onChange={setMonth} options={recorded.map((f) => [String(f.month), `${f.month} months`] as [string, string])} inline />}
      <Radios
        path="reoffended"
        legend={`The right answer: has she reoffended?${current ? ` (recorded: ${label(current.reoffended)})` : ''}`}
        value={reoffended}
        onChange={setReoffended}
        options={options(REOFFENDED, label)}
        inline
      />
      <Select path="reason" label="Why it is corrected" value={reason} onChange={setReason} options={options(FOLLOW_UP_CORRECTION_REASONS, label)} placeholder="Choose a reason" />
      <TextArea path="note" label="Note (optional, kept on the plan)" value={note} onChange={setNote} />
    </CommandForm>
  );
}
