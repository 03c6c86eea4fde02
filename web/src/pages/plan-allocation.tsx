import { useState } from 'react';
import { scopeCoversProvider } from '../../../lib/domain/consent.ts';
import { providersLeftOutByConsent, wordList } from '../consent-words.ts';
import { label, needLabel } from '../domain.ts';
import { formatDateTime, isPast, relative } from '../format.ts';
import { Checkboxes, Select, TextArea } from '../forms.tsx';
import type { Allocation } from '../types.ts';
import { Section, StatusBadge, useApp } from '../ui.tsx';
import { CommandForm, usePlan, usePlanCommand } from './plan-kit.tsx';

const LIVE = ['offered', 'accepted'];

/** The engine's proposal with its reasons, the gaps it could not fill and why, and the coordinator's overrides. */
export function AllocationSection() {
  const { plan, readOnly } = usePlan();
  const { now, providerName, services } = useApp();
  const [showAll, setShowAll] = useState(false);
  const live = plan.allocations.filter((a) => LIVE.includes(a.status));
  const past = plan.allocations.filter((a) => !LIVE.includes(a.status));
  const shown = showAll ? plan.allocations : live;
  const serviceName = (id: string) => services.find((s) => s.serviceId === id)?.name ?? id;
  const editable = !readOnly && (plan.stage === 'allocating' || plan.stage === 'active');

  return (
    <Section title={plan.stage === 'allocating' ? 'Allocation proposal' : 'Allocations'} id="allocations">
      {plan.stage === 'allocating' && (
        <p className="lead">
          The engine chose the fewest providers that cover every priority need, then the most other needs. The plan becomes active when every priority need has an accepted offer.
        </p>
      )}
      {shown.length === 0 && <p className="empty">No open offers or allocations.</p>}
      <ul className="allocation-list">
        {shown.map((a) => (
          <AllocationCard key={a.allocationId} allocation={a} providerName={providerName(a.providerId)} serviceName={serviceName(a.serviceId)} now={now} />
        ))}
      </ul>
      {past.length > 0 && (
        <button type="button" className="link-button" aria-expanded={showAll} onClick={() => setShowAll((s) => !s)}>
          {showAll ? 'Show open offers and allocations only' : `Show all ${plan.allocations.length} offer${plan.allocations.length === 1 ? '' : 's'}, including ${past.length} declined, expired, withdrawn or ended`}
        </button>
      )}
      {plan.gaps.length > 0 && (
        <div className="gaps">
          <h3>Unmet needs (gaps)</h3>
          <ul className="plain-list">
            {plan.gaps.map((g) => (
              <li key={`${g.domain}-${g.recordedAt}`} className="gap">
                <strong>{needLabel(g.domain)}</strong>: <span className="badge gap-reason">{label(g.reason)}</span>
                <p>{g.explanation}</p>
              </li>
            ))}
          </ul>
        </div>
      )}
      {plan.manualActivation && (
        <p className="hint">
          Activated by a coordinator on {formatDateTime(plan.manualActivation.at)}: “{plan.manualActivation.reason}”.
        </p>
      )}
      {editable && (
        <>
          <details className="disclosure">
            <summary>Offer a need to another service (manual override)</summary>
            <OfferManuallyForm />
          </details>
          {plan.stage === 'allocating' && (
            <details className="disclosure">
              <summary>Start the plan now, recording unmet needs as gaps</summary>
              <ActivateForm />
            </details>
          )}
        </>
      )}
    </Section>
  );
}

function AllocationCard({ allocation: a, providerName, serviceName, now }: { allocation: Allocation; providerName: string; serviceName: string; now: string }) {
  return (
    <li className={`allocation status-card-${a.status}`}>
      <div className="allocation-head">
        <strong>{providerName}</strong>
        <StatusBadge status={a.status} />
        {a.lead && <span className="badge badge-lead">Lead (key worker)</span>}
        {a.manualReason && <span className="badge">Offered by hand</span>}
      </div>
      <p className="allocation-service">
        {serviceName} · {a.needs.map(needLabel).join(', ')}
      </p>
      {a.status === 'offered' && (
        <p className={isPast(a.respondBy, now) ? 'overdue-text' : undefined}>
          Answer due {formatDateTime(a.respondBy)} ({relative(a.respondBy, now)})
        </p>
      )}
      {a.status === 'declined' && a.declineReason && <p>Declined: {label(a.declineReason)}</p>}
      {a.outcome && <p>Ended: {label(a.outcome)}</p>}
      <p className="why">
        <span className="why-label">Why: </span>
        {a.manualReason ? `Offered by a coordinator: ${a.manualReason}` : a.why}
      </p>
    </li>
  );
}

function OfferManuallyForm() {
  const { plan } = usePlan();
  const { services } = useApp();
  const openNeeds = plan.needs.filter((n) => n.status === 'open').map((n) => n.domain);
  const [serviceId, setServiceId] = useState('');
  const [needs, setNeeds] = useState<string[]>([]);
  const [reason, setReason] = useState('');
  const command = usePlanCommand('offer-manually');
  // A service of a provider her consent does not cover cannot be offered (the API refuses it): not listed.
  const relevant = services.filter((s) => s.status === 'active' && s.needs.some((n) => openNeeds.includes(n)) && scopeCoversProvider(plan.consent?.scope, s.providerId));
  const leftOut = providersLeftOutByConsent(services, openNeeds, plan.consent?.scope);
  const area = plan.referral.localAuthority;
  const send = () => void command.send({ serviceId: serviceId || undefined, needs, reason: reason.trim() || undefined }, 'Offer sent to the chosen service.');
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Send the offer" label="Manual offer" idPrefix="offer-manually-">
      <Select
        path="serviceId"
        label="Service"
        hint={`Services for this plan's open needs. Those not covering ${label(area)} are marked.${leftOut.length ? ` Not listed, as her consent does not cover them: ${wordList(leftOut)}.` : ''}`}
        value={serviceId}
        onChange={setServiceId}
        placeholder="Choose a service"
        options={relevant.map((s) => [s.serviceId, `${s.providerName}: ${s.name}${s.areas.includes(area) ? '' : ' (outside the area)'}${s.available !== undefined ? `, ${s.available} places free` : ''}`] as const)}
      />
      <Checkboxes path="needs" legend="Needs to offer" values={needs} onChange={setNeeds} options={openNeeds.map((d) => [d, needLabel(d)] as const)} />
      <TextArea path="reason" label="Reason for the override" hint="Required: why this service rather than the engine's choice (up to 500 characters)." value={reason} onChange={setReason} />
    </CommandForm>
  );
}

function ActivateForm() {
  const { plan } = usePlan();
  const [reason, setReason] = useState('');
  const command = usePlanCommand('activate');
  const accepted = new Set(plan.allocations.filter((a) => a.status === 'accepted').flatMap((a) => a.needs));
  const unmet = plan.needs.filter((n) => n.status === 'open' && !accepted.has(n.domain)).map((n) => needLabel(n.domain));
  const send = () => void command.send({ reason: reason.trim() || undefined }, 'The plan is active; unmet needs are recorded as gaps.');
  return (
    <CommandForm onSubmit={send} error={command.error} busy={command.busy} submitLabel="Activate the plan" label="Activate the plan" idPrefix="activate-">
      <p className="hint">Needs without an accepted provider now: {unmet.length ? unmet.join(', ') : 'none'}.</p>
      <TextArea path="reason" label="Reason" hint="Required: why the plan should start before every priority need has a provider." value={reason} onChange={setReason} />
    </CommandForm>
  );
}
