import { useState } from 'react';
import { ChartFigure } from '../chart.tsx';
import { EXIT_REASONS, label, NEED_DOMAINS, NEED_LEVELS, needLabel, REVIEW_OUTCOMES } from '../domain.ts';
import { formatDate } from '../format.ts';
import { Checkbox, Checkboxes, ExactErrors, Field, options, Radios, Select, TextArea, TextInput } from '../forms.tsx';
import { Section, useApp } from '../ui.tsx';
import { useToday } from './plan-forms.tsx';
import { CommandForm, usePlan, usePlanCommand } from './plan-kit.tsx';

const SCORE_OPTIONS = Array.from({ length: 10 }, (_, i) => String(i + 1));

/** A review checkpoint: 1-10 scores per open need, her own words, who attended, and what happens next. */
export function ReviewForm() {
  const { plan } = usePlan();
  const { providerName } = useApp();
  const today = useToday();
  const openNeeds = plan.needs.filter((n) => n.status === 'open').map((n) => n.domain);
  const providers = [...new Set(plan.allocations.filter((a) => a.status === 'accepted').map((a) => a.providerId))];
  const courtLinked = plan.referral.source === 'court' || plan.referral.source === 'problem-solving-court';
  const [date, setDate] = useState(today);
  const [scores, setScores] = useState<Record<string, string>>({});
  const [outcome, setOutcome] = useState('continue');
  const [exitReason, setExitReason] = useState('');
  const [closeNeeds, setCloseNeeds] = useState<string[]>([]);
  const [addDomain, setAddDomain] = useState('');
  const [addLevel, setAddLevel] = useState('medium');
  const [addPriority, setAddPriority] = useState(false);
  const [words, setWords] = useState('');
  const [attendees, setAttendees] = useState<string[]>(['participant', 'coordinator']);
  const [cadence, setCadence] = useState('');
  const command = usePlanCommand('record-review');
  const number = plan.reviews.length + 1;

  const send = () =>
    void command
      .send(
        {
          date,
          // Only needs still open: one closed since the form was filled in (read again after a conflict) has no score.
          scores: Object.fromEntries(Object.entries(scores).filter(([d, v]) => v !== '' && openNeeds.includes(d)).map(([d, v]) => [d, Number(v)])),
          outcome,
          ...(outcome === 'exit' ? { exitReason: exitReason || undefined } : {}),
          ...(outcome === 'adjust' && closeNeeds.length ? { closeNeeds } : {}),
          ...(outcome === 'adjust' && addDomain ? { addNeeds: [{ domain: addDomain, level: addLevel, priority: addPriority, goals: [] }] } : {}),
          ...(words.trim() ? { participantWords: words } : {}),
          attendees: attendees.map((a) => (a.startsWith('provider:') ? { role: 'provider', providerId: a.slice('provider:'.length) } : { role: a })),
          ...(cadence.trim() ? { reviewEveryDays: Number(cadence) } : {}),
        },
        `Review ${number} recorded.`,
      )
      .then((next) => {
        if (next) setScores({});
      });

  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel={`Record review ${number}`} label={`Review ${number}`}>
      <TextInput path="date" label="Date of the review" type="date" value={date} onChange={setDate} width="medium" />
      <fieldset className="field group scores" id="f-scores" tabIndex={-1}>
        <legend>Scores</legend>
        <p className="hint">Where she is on each need today, from 1 (crisis) to 10 (thriving). Leave a need unscored if it was not discussed.</p>
        <ExactErrors path="scores" />
        <div className="score-grid">
          {openNeeds.map((d) => (
            <Field key={d} path={`scores.${d}`} label={needLabel(d)}>
              {(props) => (
                <select {...props} name={`scores.${d}`} value={scores[d] ?? ''} onChange={(e) => setScores((s) => ({ ...s, [d]: e.target.value }))}>
                  <option value="">Not scored</option>
                  {SCORE_OPTIONS.map((v) => (
                    <option key={v} value={v}>
                      {v}
                    </option>
                  ))}
                </select>
              )}
            </Field>
          ))}
        </div>
      </fieldset>
      <TextArea path="participantWords" label="In her own words (optional)" hint="What she said about how things are going." value={words} onChange={setWords} />
      <Checkboxes
        path="attendees"
        legend="Who took part"
        values={attendees}
        onChange={setAttendees}
        options={[
          ['participant', 'She attended'],
          ['coordinator', 'Coordinator'],
          ...providers.map((p) => [`provider:${p}`, providerName(p)] as const),
          ...(courtLinked ? [['judge', 'Judge'] as const] : []),
        ]}
      />
      <Radios path="outcome" legend="Outcome" value={outcome} onChange={setOutcome} options={options(REVIEW_OUTCOMES, (o) => ({ continue: 'Continue the plan', adjust: 'Adjust the needs', exit: 'Exit' })[o] ?? label(o))} />
      {outcome === 'exit' && <Select path="exitReason" label="Reason for exit" value={exitReason} onChange={setExitReason} options={options(EXIT_REASONS, label)} placeholder="Choose a reason" />}
      {outcome === 'adjust' && (
        <fieldset className="group" id="f-addNeeds" tabIndex={-1}>
          <legend>Adjust the needs</legend>
          <ExactErrors path="addNeeds" />
          <Checkboxes path="closeNeeds" legend="Needs met or no longer relevant (close)" values={closeNeeds} onChange={setCloseNeeds} options={openNeeds.map((d) => [d, needLabel(d)] as const)} />
          <Select
            path="addNeeds.0.domain"
            label="Add a need (optional)"
            value={addDomain}
            onChange={setAddDomain}
            placeholder="No new need"
            options={NEED_DOMAINS.filter((d) => !openNeeds.includes(d)).map((d) => [d, needLabel(d)] as const)}
          />
          {addDomain && (
            <>
              <Radios path="addNeeds.0.level" legend="Its level" value={addLevel} onChange={setAddLevel} options={options(NEED_LEVELS, label)} inline />
              <Checkbox path="addNeeds.0.priority" label="Priority" checked={addPriority} onChange={setAddPriority} />
            </>
          )}
        </fieldset>
      )}
      <TextInput path="reviewEveryDays" label="Change the review cadence (days, optional)" hint={`Now every ${plan.reviewEveryDays} days.`} value={cadence} onChange={setCadence} inputMode="numeric" width="short" />
    </CommandForm>
  );
}

/** Every review, and each domain's scores across them. */
export function ReviewsSection() {
  const { plan } = usePlan();
  const reviews = [...plan.reviews].sort((a, b) => a.reviewNumber - b.reviewNumber);
  const domains = NEED_DOMAINS.filter((d) => reviews.some((r) => r.scores[d] !== undefined));
  return (
    <Section title="Reviews" id="reviews">
      {reviews.length === 0 ? (
        <p className="empty">No reviews yet{plan.nextReview ? `: the first is due ${formatDate(plan.nextReview.dueAt)}` : ''}.</p>
      ) : (
        <>
          <ChartFigure
            kind="line"
            title="Scores by need across reviews"
            summary={domains.map((d) => `${needLabel(d)}: ${reviews.map((r) => r.scores[d] ?? 'not scored').join(', ')}`).join('. ')}
            labels={reviews.map((r) => `Review ${r.reviewNumber} (${formatDate(r.date)})`)}
            series={domains.map((d) => ({ label: needLabel(d), values: reviews.map((r) => r.scores[d] ?? null) }))}
            yTitle="Score (1-10)"
            yMin={1}
            yMax={10}
            groupTitle="Review"
            missing={() => 'not scored'}
          />
          <ol className="review-list">
            {[...reviews].reverse().map((r) => (
              <li key={r.reviewNumber}>
                <h3>
                  Review {r.reviewNumber}, {formatDate(r.date)}: {label(r.outcome)}
                </h3>
                <p>
                  {Object.entries(r.scores)
                    .map(([d, s]) => `${needLabel(d)} ${s}`)
                    .join(' · ')}
                </p>
                {r.attendance && (
                  <p className="hint">
                    Since the last review: {r.attendance.attended} sessions attended, {r.attendance.missed} missed, {r.attendance.cancelled} cancelled.
                  </p>
                )}
                {r.participantWords && <blockquote>“{r.participantWords}”</blockquote>}
              </li>
            ))}
          </ol>
        </>
      )}
    </Section>
  );
}
