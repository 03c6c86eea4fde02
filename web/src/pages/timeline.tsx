import type { ApiError } from '../api.ts';
import { escalationLabel, label, needLabel } from '../domain.ts';
import { formatDate, formatDateTime } from '../format.ts';
import type { HistoryItem } from '../types.ts';
import { LoadError, Loading, Section, useApp } from '../ui.tsx';

const str = (v: unknown) => (typeof v === 'string' ? v : v === undefined || v === null ? '' : String(v));
const list = (v: unknown) => (Array.isArray(v) ? v : []);
const domainsOf = (v: unknown) =>
  list(v)
    .map((n) => (typeof n === 'string' ? n : str((n as { domain?: unknown }).domain)))
    .filter(Boolean)
    .map(needLabel)
    .join(', ');

/** Which providers a changed consent covers, as its event says it: the kind and how many she named, never who. */
function providersNamedWords(kind: string, named: number): string {
  const providers = `${named} provider${named === 1 ? '' : 's'}`;
  if (kind === 'only') return `only ${providers} she named`;
  if (kind === 'all-except') return `every provider except ${providers} she named`;
  return 'any provider in the directory';
}

/** One line per event, in words; an event type the app does not know yet is shown by its name. */
export function describe(item: HistoryItem, providerName: (id: string) => string): { title: string; detail?: string } {
  const d = item.data;
  const provider = providerName(str(d.providerId ?? item.providerId));
  switch (item.type) {
    case 'plan.referred.v1':
      return { title: 'Referred', detail: `${label(str(d.source))}, ${label(str(d.localAuthority))}, ${label(str(d.urgency)).toLowerCase()}${d.rereferral ? '; she has been referred before' : ''}` };
    case 'plan.consent-recorded.v1':
      return { title: 'Consent recorded', detail: `${label(str(d.method))}; ${d.shareWithProviders ? `providers may know: ${list(d.dataCategories).map((c) => label(str(c)).toLowerCase()).join(', ')}` : 'nothing shared with providers'}` };
    case 'plan.consent-changed.v1':
      return { title: d.reconfirmed ? 'Consent given again, unchanged' : 'Consent changed', detail: `${label(str(d.method))}; ${d.shareWithProviders ? `providers may know: ${list(d.dataCategories).map((c) => label(str(c)).toLowerCase()).join(', ')}; ${providersNamedWords(str(d.providersKind), Number(d.providersNamed))}` : 'nothing shared with providers'}` };
    case 'plan.withdrawn.v1':
      return { title: 'Referral withdrawn', detail: label(str(d.reason)) };
    case 'plan.assessment-submitted.v1':
      return {
        title: 'Assessment recorded',
        detail: list(d.needs)
          .map((n) => {
            const need = n as { domain?: string; level?: string; priority?: boolean };
            return `${needLabel(str(need.domain))} (${str(need.level)}${need.priority ? ', priority' : ''})`;
          })
          .join(', '),
      };
    case 'plan.allocation-proposed.v1': {
      const offers = list(d.offers).map((o) => `${providerName(str((o as { providerId?: string }).providerId))} for ${domainsOf((o as { needs?: unknown }).needs)}`);
      const gaps = list(d.gaps).map((g) => `${needLabel(str((g as { domain?: string }).domain))} (${label(str((g as { reason?: string }).reason)).toLowerCase()})`);
      return { title: 'Providers proposed', detail: [offers.length ? `Offers: ${offers.join('; ')}` : 'No new offers', gaps.length ? `Gaps: ${gaps.join('; ')}` : ''].filter(Boolean).join('. ') };
    }
    case 'allocation.offered.v1':
      return { title: `Offered to ${provider}`, detail: `${domainsOf(d.needs)}; answer by ${formatDateTime(str(d.respondBy))}${d.lead ? '; lead provider' : ''}` };
    case 'allocation.accepted.v1':
      return { title: `${provider} accepted` };
    case 'allocation.declined.v1':
      return { title: `${provider} declined`, detail: `Reason: ${label(str(d.reason)).toLowerCase()}` };
    case 'allocation.expired.v1':
      return { title: `Offer to ${provider} expired`, detail: 'Not answered by its deadline' };
    case 'allocation.withdrawn.v1':
      return { title: `Offer to ${provider} withdrawn`, detail: label(str(d.reason)) };
    case 'allocation.ended.v1':
      return { title: `${provider}'s part ended`, detail: d.outcome ? `${label(str(d.outcome))}${d.endedBy ? `, by the ${str(d.endedBy)}` : ''}` : label(str(d.reason)) };
    case 'plan.consent-withdrawn.v1':
      return { title: `${provider} told to stop and delete`, detail: 'Consent withdrawn' };
    case 'plan.activated.v1':
      return { title: d.manual ? 'Activated by the coordinator' : 'Plan active', detail: list(d.unmetNeeds).length ? `Unmet: ${domainsOf(d.unmetNeeds)}` : 'Every priority need has a provider' };
    case 'contact.recorded.v1':
      return { title: `Session ${str(d.kind)}`, detail: `${provider}, ${formatDate(str(d.date))}` };
    case 'review.due.v1':
      return { title: `Review ${str(d.reviewNumber)} coming up`, ...(d.dueAt ? { detail: `Due ${formatDate(str(d.dueAt))}` } : {}) };
    case 'review.recorded.v1':
      return {
        title: `Review ${str(d.reviewNumber)} recorded: ${label(str(d.outcome)).toLowerCase()}`,
        detail: Object.entries((d.scores ?? {}) as Record<string, unknown>)
          .map(([k, v]) => `${needLabel(k)} ${str(v)}`)
          .join(', '),
      };
    case 'plan.adjusted.v1':
      return { title: 'Needs adjusted', detail: [list(d.addedNeeds).length ? `Added ${domainsOf(d.addedNeeds)}` : '', list(d.closedNeeds).length ? `Closed ${domainsOf(d.closedNeeds)}` : ''].filter(Boolean).join('; ') };
    case 'plan.escalated.v1':
      return { title: `Escalated: ${escalationLabel({ kind: str(d.kind), ...(typeof d.ref === 'string' ? { ref: d.ref } : {}) }).toLowerCase()}`, detail: d.repeated ? 'Still open: nobody has acted yet' : 'Sent to the team lead' };
    case 'plan.exited.v1':
      return { title: 'Exited', detail: label(str(d.reason)) };
    case 'follow-up.due.v1':
      return { title: `${str(d.month)}-month follow-up due` };
    case 'follow-up.recorded.v1':
      return { title: `${str(d.month)}-month follow-up recorded`, detail: `Reoffended: ${label(str(d.reoffended)).toLowerCase()}` };
    case 'follow-up.corrected.v1':
      return {
        title: `${str(d.month)}-month follow-up corrected`,
        detail: `Reoffended: ${label(str(d.reoffended)).toLowerCase()} (was ${label(str(d.previous)).toLowerCase()}); ${label(str(d.reason)).toLowerCase()}`,
      };
    case 'plan.follow-ups-cancelled.v1':
      return { title: 'Follow-ups cancelled', detail: `Consent withdrawn: the ${list(d.months).map(str).join(' and ')}-month follow-up${list(d.months).length > 1 ? 's are' : ' is'} not asked` };
    case 'plan.closed.v1':
      return { title: 'Plan closed' };
    default:
      return { title: item.type };
  }
}

export function Timeline({ items, error, onRetry }: { items: HistoryItem[] | undefined; error: ApiError | undefined; onRetry: () => void }) {
  const { providerName } = useApp();
  return (
    <Section title="Timeline" id="timeline">
      {error && <LoadError error={error} what="the timeline" onRetry={onRetry} />}
      {!items && !error && <Loading what="the timeline" />}
      {items && (
        <ol className="timeline">
          {items.map((item) => {
            const { title, detail } = describe(item, providerName);
            return (
              <li key={item.id}>
                <time dateTime={item.time}>{formatDateTime(item.time)}</time>
                <div>
                  <strong>{title}</strong>
                  {detail && <p>{detail}</p>}
                </div>
              </li>
            );
          })}
        </ol>
      )}
    </Section>
  );
}
