import { useMemo, useState } from 'react';
import { sameScope } from '../../../lib/domain/consent.ts';
import {
  categoriesInWords,
  categoryLoss,
  categoryLossWarning,
  choicesOf,
  consentLosses,
  consentsAsGiven,
  consentWithdrawnAt,
  gainWarning,
  givenAgainInWords,
  lossWarning,
  newlyCovered,
  organisationsOf,
  providersInWords,
  scopeChanges,
  scopeOfChoices,
  wordList,
  type GivenAgain,
  type Organisation,
  type ProviderKind,
  type ScopeChoices,
} from '../consent-words.ts';
import { CONSENT_METHODS, CONSENT_PROVIDER_KIND_WORDS, CONSENT_PROVIDER_KINDS, DATA_CATEGORIES, isAllowedIn, label } from '../domain.ts';
import { formatDate } from '../format.ts';
import { Checkbox, Checkboxes, options, Radios, TextArea, TextInput } from '../forms.tsx';
import { Facts, Section, useApp } from '../ui.tsx';
import { useToday } from './plan-forms.tsx';
import { CommandForm, usePlan, usePlanCommand } from './plan-kit.tsx';

/**
 * The API names a provider by its place in the list it was sent (scope.providers.providerIds.2) and a
 * rule about the providers as a whole by scope.providers: each is shown on the field that sets it.
 */
const consentPath = (path: string) => (path === 'scope.providers' ? 'scope.providers.kind' : path.replace(/^scope\.providers\.providerIds\.\d+$/, 'scope.providers.providerIds'));

const useOrganisations = (): Organisation[] => {
  const { services } = useApp();
  return useMemo(() => organisationsOf(services), [services]);
};

/** What she agrees may be shared, and with which providers; the providers are asked only when she shares. */
function ScopeFields({ choices, onChange, organisations }: { choices: ScopeChoices; onChange: (next: ScopeChoices) => void; organisations: readonly Organisation[] }) {
  const set = (change: Partial<ScopeChoices>) => onChange({ ...choices, ...change });
  return (
    <>
      <Checkbox path="scope.shareWithProviders" label="She agrees that providers may be told about her plan" checked={choices.share} onChange={(share) => set({ share })} />
      {choices.share ? (
        <>
          <Checkboxes
            path="scope.dataCategories"
            legend="What providers may know"
            hint="Providers never see her name or offence details unless shared here."
            values={choices.categories}
            onChange={(categories) => set({ categories })}
            options={options(DATA_CATEGORIES, label)}
          />
          <Radios
            path="scope.providers.kind"
            legend="Which providers may be told"
            hint="She may refuse an organisation where someone she fears works, or one she had a bad experience with."
            value={choices.kind}
            onChange={(kind) => set({ kind: kind as ProviderKind })}
            options={CONSENT_PROVIDER_KINDS.map((k) => [k, CONSENT_PROVIDER_KIND_WORDS[k]] as const)}
          />
          {choices.kind !== 'all' && (
            // Keyed by kind: each kind's list is its own (see ScopeChoices), so no tick is read under another legend.
            <Checkboxes
              key={choices.kind}
              path="scope.providers.providerIds"
              legend={choices.kind === 'only' ? 'The providers she agrees may be told' : 'The providers she does not want told'}
              hint={organisations.length === 0 ? "The directory's providers are not loaded yet: refresh the page if none appear." : 'Organisations in the provider directory.'}
              values={choices.named[choices.kind]}
              onChange={(providerIds) => {
                if (choices.kind !== 'all') set({ named: { ...choices.named, [choices.kind]: providerIds } });
              }}
              options={organisations.map((o) => [o.providerId, o.name] as const)}
            />
          )}
        </>
      ) : (
        <p className="hint">Nothing about her plan is shared, so no provider can be offered her support.</p>
      )}
    </>
  );
}

export function ConsentForm() {
  const today = useToday();
  const organisations = useOrganisations();
  const [choices, setChoices] = useState(() => choicesOf());
  const [givenAt, setGivenAt] = useState(today);
  const [method, setMethod] = useState('');
  const command = usePlanCommand('record-consent');
  const send = () =>
    void command.send({ scope: scopeOfChoices(choices, organisations), givenAt, method: method || undefined }, 'Consent recorded: the plan is ready for its assessment.');
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Record consent" label="Record consent" mapPath={consentPath}>
      <p className="hint">Informed consent, and what she agrees may be shared with the providers offered her support.</p>
      <ScopeFields choices={choices} onChange={setChoices} organisations={organisations} />
      <TextInput path="givenAt" label="Date consent was given" type="date" value={givenAt} onChange={setGivenAt} width="medium" />
      <Radios path="method" legend="How consent was given" value={method} onChange={setMethod} options={options(CONSENT_METHODS, label)} inline />
    </CommandForm>
  );
}

/**
 * Her consent changed while support goes on: the same fields, starting from what she agreed, and a
 * note. Before a change that narrows it, the offers it withdraws and the allocations it ends are named.
 */
export function ChangeConsentForm() {
  const { plan } = usePlan();
  const { providerName, now } = useApp();
  const today = useToday();
  const organisations = useOrganisations();
  const current = plan.consent?.scope;
  const [choices, setChoices] = useState(() => choicesOf(current));
  const [givenAt, setGivenAt] = useState(today);
  const [method, setMethod] = useState('');
  const [note, setNote] = useState('');
  const command = usePlanCommand('change-consent');
  const scope = scopeOfChoices(choices, organisations);
  const losses = consentLosses(plan.allocations, current, scope);
  const gains = newlyCovered(current, scope, organisations, plan.allocations);
  const narrowed = categoryLoss(plan.allocations, plan.consent, scope, now);
  const warnings = [lossWarning(losses, providerName), categoryLossWarning(narrowed, providerName), gainWarning(gains, providerName)].filter((w): w is string => w !== undefined);
  const unchanged = current ? sameScope(current, scope) : false;
  const stopped = wordList(losses.map((l) => providerName(l.providerId)));
  const covered = wordList(gains.map(providerName));
  const done = [
    ...(losses.length > 0 ? [`${stopped} ${losses.length > 1 ? 'were' : 'was'} told to stop and delete what ${losses.length > 1 ? 'they hold' : 'it holds'} about her.`] : []),
    ...(narrowed ? [`${wordList(narrowed.providerIds.map(providerName))} ${narrowed.providerIds.length > 1 ? 'were' : 'was'} told to delete what ${narrowed.providerIds.length > 1 ? 'they hold' : 'it holds'} of her ${wordList(narrowed.categories.map((c) => label(c).toLowerCase()))}.`] : []),
    ...(gains.length > 0 ? [`${covered} may now be told about her plan.`] : []),
  ];
  const send = () =>
    void command
      .send(
        { scope, givenAt, method: method || undefined, ...(note.trim() ? { note } : {}) },
        done.length > 0 ? `Consent changed: ${done.join(' ')}` : unchanged ? 'Consent given again: nothing changed.' : 'Consent changed.',
      )
      .then((saved) => {
        // Saved: the next change starts with no note, date or method of this one. The form's key
        // does not always change (a simulated clock gives two changes one recordedAt; a re-confirmation
        // with the same day and note), and a note kept here would be sent again as the next one's reason.
        if (!saved) return;
        setNote('');
        setMethod('');
        setGivenAt(today);
      });
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Change consent" label="Change consent" mapPath={consentPath} idPrefix="change-consent-">
      <p className="hint">What she agrees to now replaces what she agreed before, which stays on the plan.</p>
      <ScopeFields choices={choices} onChange={setChoices} organisations={organisations} />
      <TextInput path="givenAt" label="Date she gave it" type="date" value={givenAt} onChange={setGivenAt} width="medium" />
      <Radios path="method" legend="How she gave it" value={method} onChange={setMethod} options={options(CONSENT_METHODS, label)} inline />
      <TextArea path="note" label="Note (optional, kept on the plan)" hint="Why her consent changed. Providers never see it." value={note} onChange={setNote} />
      {/* Polite live region, present before it has anything to say, so the warning is read out as it appears. */}
      <div aria-live="polite" id="change-consent-warning">
        {warnings.length > 0 ? (
          <div className="notice notice-warning">
            <strong>Before you save: </strong>
            {warnings.join(' ')}
          </div>
        ) : unchanged ? (
          <p className="hint">This is what she agreed already: saving records that she gave it again, and changes nothing else.</p>
        ) : null}
      </div>
    </CommandForm>
  );
}

/** The times she gave a consent again unchanged, with the coordinator's notes on them where there are any. */
function GivenAgainFacts({ givenAgain }: { givenAgain: readonly GivenAgain[] }) {
  const noted = givenAgain.filter((g) => g.note);
  if (noted.length === 0) return <>{givenAgainInWords(givenAgain, formatDate)}</>;
  // One day only: its note needs no date of its own.
  const oneDay = new Set(givenAgain.map((g) => g.givenAt)).size === 1;
  return (
    <>
      {givenAgainInWords(givenAgain, formatDate)}
      <ul className="plain-list">
        {noted.map((g, i) => (
          <li key={`${g.givenAt}-${i}`} className="hint">
            {oneDay ? 'Note' : `Note, ${formatDate(g.givenAt)}`}: {g.note}
          </li>
        ))}
      </ul>
    </>
  );
}

/**
 * Her consent in words for everyone who reads the plan page (coordinators and team leads: providers
 * never see it), the consents it replaced and what each change changed, the coordinator's note on its
 * withdrawal; and, for a coordinator in the stages the lifecycle table allows, the change form. A
 * re-confirmation is a date on the consent it confirmed (consentsAsGiven), not a consent replaced.
 */
export function ConsentSection() {
  const { plan, readOnly } = usePlan();
  const { providerName } = useApp();
  const consent = plan.consent;
  const withdrawnAt = consentWithdrawnAt(plan);
  if (!consent && !withdrawnAt) return null;
  const given = consent ? consentsAsGiven(consent) : undefined;
  const changeable = !readOnly && consent && !withdrawnAt && isAllowedIn('change-consent', plan.stage);
  const dropped = consent?.previousDropped ?? 0;
  return (
    <Section title="Her consent" id="consent-given">
      {withdrawnAt ? (
        // Withdrawn: nothing is shared any more, said first; what she had agreed to follows as history, in the past tense.
        <>
          <div className="consent-withdrawn">
            <h3>Withdrawn</h3>
            <p>
              Her consent was withdrawn on {formatDate(withdrawnAt)}: nothing about her is shared with providers any more, and every provider was told to stop processing and delete what it
              holds.
            </p>
            {plan.consentWithdrawalNote && (
              <figure className="consent-note">
                <figcaption>The coordinator&rsquo;s note</figcaption>
                <blockquote>{plan.consentWithdrawalNote}</blockquote>
              </figure>
            )}
          </div>
          {consent && given ? (
            <div className="consent-as-agreed">
              <h3>What she had agreed to before</h3>
              <Facts
                items={[
                  ['Shared with providers', consent.scope.shareWithProviders ? 'Yes, until it was withdrawn' : 'No'],
                  ['Providers could know', categoriesInWords(consent.scope)],
                  ['Providers', providersInWords(consent.scope, providerName)],
                  ['Given', `${formatDate(given.current.givenAt)}, ${label(given.current.method).toLowerCase()}`],
                  ['Why it changed', given.current.note],
                  ['Given again, unchanged', given.current.givenAgain.length > 0 ? <GivenAgainFacts givenAgain={given.current.givenAgain} /> : undefined],
                ]}
              />
            </div>
          ) : (
            <p>No consent was recorded before it was withdrawn.</p>
          )}
        </>
      ) : (
        consent &&
        given && (
          <Facts
            items={[
              ['Shares with providers', consent.scope.shareWithProviders ? 'Yes' : 'No'],
              ['Providers may know', categoriesInWords(consent.scope)],
              ['Providers', providersInWords(consent.scope, providerName)],
              ['Given', `${formatDate(given.current.givenAt)}, ${label(given.current.method).toLowerCase()}`],
              ['Why it changed', given.current.note],
              ['Given again, unchanged', given.current.givenAgain.length > 0 ? <GivenAgainFacts givenAgain={given.current.givenAgain} /> : undefined],
            ]}
          />
        )
      )}
      {given && given.replaced.length > 0 && (
        <div className="consent-replaced">
          <h3>Consents it replaced</h3>
          <ol className="plain-list replaced-consents" reversed>
            {given.replaced.map((before, i) => {
              const after = i === 0 ? given.current : given.replaced[i - 1];
              return (
                // By place from the oldest kept: two consents may share a day and a replacedAt (the simulated clock stands still).
                <li key={given.replaced.length - i}>
                  <strong>
                    Given {formatDate(before.givenAt)} ({label(before.method).toLowerCase()}), replaced {formatDate(before.replacedAt)}
                  </strong>
                  {/* Its own note says why she gave it, so it stands by "Given", not under what the next change changed. */}
                  {before.note && <p className="hint">Why it was given: {before.note}</p>}
                  {after && (
                    <ul>
                      {scopeChanges(before.scope, after.scope, providerName).map((change) => (
                        <li key={change}>{change}</li>
                      ))}
                    </ul>
                  )}
                  {before.givenAgain.length > 0 && (
                    <div className="hint">
                      Given again, unchanged: <GivenAgainFacts givenAgain={before.givenAgain} />
                    </div>
                  )}
                </li>
              );
            })}
          </ol>
          {dropped > 0 && (
            <p className="hint">
              {dropped} earlier consent{dropped > 1 ? 's are' : ' is'} no longer kept on the plan; the timeline has each change.
            </p>
          )}
        </div>
      )}
      {changeable && (
        <details className="disclosure">
          <summary>Change her consent</summary>
          {/* A fresh form after each change or re-confirmation, starting from what she agreed then. */}
          <ChangeConsentForm key={`${consent.recordedAt ?? consent.givenAt} ${consent.reconfirmedAt ?? ''} ${consent.reconfirmedMethod ?? ''} ${consent.reconfirmedNote ?? ''}`} />
        </details>
      )}
    </Section>
  );
}
