/**
 * The plan's timeline in words, one line per event. Pure (no React), so it is unit-tested apart.
 */
import { wordList } from './consent-words.ts';
import { escalationLabel, label, needLabel } from './domain.ts';
import { formatDate, formatDateTime } from './format.ts';
import type { HistoryItem } from './types.ts';

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

/**
 * How a consent event reads: how she gave it, what providers may know and which providers, by kind and
 * count. An event without providersKind (consent recorded before the events carried it) says no more
 * than it holds.
 */
function consentDetail(d: Record<string, unknown>): string {
  if (!d.shareWithProviders) return `${label(str(d.method))}; nothing shared with providers`;
  const categories = list(d.dataCategories).map((c) => label(str(c)).toLowerCase());
  const providers = typeof d.providersKind === 'string' ? `; ${providersNamedWords(d.providersKind, Number(d.providersNamed ?? 0))}` : '';
  return `${label(str(d.method))}; providers may know: ${categories.length > 0 ? wordList(categories) : 'nothing beyond the offer itself'}${providers}`;
}

/** One line per event, in words; an event type the app does not know yet is shown by its name. */
export function describe(item: HistoryItem, providerName: (id: string) => string): { title: string; detail?: string } {
  const d = item.data;
  const provider = providerName(str(d.providerId ?? item.providerId));
  switch (item.type) {
    case 'plan.referred.v1':
      return { title: 'Referred', detail: `${label(str(d.source))}, ${label(str(d.localAuthority))}, ${label(str(d.urgency)).toLowerCase()}${d.rereferral ? '; she has been referred before' : ''}` };
    case 'plan.consent-recorded.v1':
      return { title: 'Consent recorded', detail: consentDetail(d) };
    case 'plan.consent-changed.v1':
      return { title: d.reconfirmed ? 'Consent given again, unchanged' : 'Consent changed', detail: consentDetail(d) };
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
      // Not "<name>'s part": a name ending in s (Changing Lives) reads wrong with 's.
      return { title: `Allocation with ${provider} ended`, detail: d.outcome ? `${label(str(d.outcome))}${d.endedBy ? `, by the ${str(d.endedBy)}` : ''}` : label(str(d.reason)) };
    case 'plan.consent-narrowed.v1':
      return { title: `${provider} told to delete some of what it holds`, detail: `Her consent no longer covers: ${wordList(list(d.withdrawnCategories).map((c) => label(str(c)).toLowerCase()))}` };
    case 'plan.consent-withdrawn.v1':
      return { title: `${provider} told to stop and delete`, detail: 'Consent withdrawn' };
    case 'plan.activated.v1':
      return { title: d.manual ? 'Activated by the coordinator' : 'Plan active', detail: list(d.unmetNeeds).length ? `Unmet: ${domainsOf(d.unmetNeeds)}` : 'Every priority need has a provider' };
    case 'contact.recorded.v1':
      return { title: `Session ${str(d.kind)}`, detail: `${provider}, ${formatDate(str(d.date))}` };
    case 'contact.corrected.v1': {
      // The session as it read before is in the event (previous): say what it was and what it is now, never a note (there is none).
      const before = (d.previous ?? {}) as { date?: unknown; kind?: unknown };
      const was = `${formatDate(str(before.date))}, ${label(str(before.kind)).toLowerCase()}`;
      const reason = label(str(d.reason)).toLowerCase();
      return d.withdrawn
        ? { title: `Session ${str(d.session)} withdrawn`, detail: `${provider}: ${was}; ${reason}. It counts nowhere` }
        : { title: `Session ${str(d.session)} corrected`, detail: `${provider}: was ${was}, now ${formatDate(str(d.date))}, ${label(str(d.kind)).toLowerCase()}; ${reason}` };
    }
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
    case 'plan.escalation-acknowledged.v1':
      return { title: `Escalation picked up: ${escalationLabel({ kind: str(d.kind), ...(typeof d.ref === 'string' ? { ref: d.ref } : {}) }).toLowerCase()}`, detail: 'By a team lead; it stays open until what it is about is resolved' };
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

/** One line of the timeline: an event, or an escalation raised again and again with nothing else between. */
export type TimelineEntry =
  | { kind: 'event'; item: HistoryItem; title: string; detail?: string }
  | { kind: 'repeated'; items: HistoryItem[]; title: string; detail: string };

const DAY_MS = 86_400_000;
const escalationKey = (item: HistoryItem) => (item.type === 'plan.escalated.v1' ? `${str(item.data.kind)}|${str(item.data.ref)}` : undefined);

/**
 * How often the repeats came: "weekly" or "every 3 days" when every gap is the same, "about weekly"
 * when they vary around it (a repeat after 5 working days is a week but for bank holidays).
 */
function cadenceWords(items: readonly HistoryItem[]): string {
  const gaps = items.slice(1).map((item, i) => Math.round((Date.parse(item.time) - Date.parse(items[i]!.time)) / DAY_MS)).sort((a, b) => a - b);
  const typical = gaps[Math.floor((gaps.length - 1) / 2)] ?? 0;
  if (typical < 1) return '';
  const every = typical === 7 ? 'weekly' : typical === 1 ? 'daily' : `every ${typical} days`;
  return gaps[0] === gaps.at(-1) ? ` ${every}` : ` about ${every}`;
}

const times = (n: number) => (n === 1 ? 'once' : n === 2 ? 'twice' : `${n} times`);

/**
 * The timeline's lines, oldest first. An escalation raised again while nobody acts (weekly, for years
 * if the plan is left) is one line for its run: from its first event while only escalations follow
 * (other escalations' repeats interleave with it), with every date kept in `items`. A run of one is
 * an event line as before. `open`: the plan's open escalations, so the last run of one can say it is
 * still open.
 */
export function timelineEntries(items: readonly HistoryItem[], providerName: (id: string) => string, open: readonly { kind: string; ref?: string }[] = []): TimelineEntry[] {
  const runs: HistoryItem[][] = [];
  // The runs of the escalations being repeated now; any other event ends them all.
  let current = new Map<string, HistoryItem[]>();
  for (const item of items) {
    const key = escalationKey(item);
    if (!key) {
      current = new Map();
      runs.push([item]);
      continue;
    }
    const run = current.get(key);
    if (run && item.data.repeated) run.push(item);
    else {
      const fresh = [item];
      current.set(key, fresh);
      runs.push(fresh);
    }
  }
  const lastRun = new Map<string, HistoryItem[]>();
  for (const run of runs) {
    const key = escalationKey(run[0]!);
    if (key) lastRun.set(key, run);
  }
  const isOpen = (item: HistoryItem) => open.some((e) => e.kind === str(item.data.kind) && (e.ref ?? '') === str(item.data.ref));
  return runs.map((run): TimelineEntry => {
    const first = run[0]!;
    if (run.length === 1) return { kind: 'event', item: first, ...describe(first, providerName) };
    const last = formatDate(run.at(-1)!.time);
    const how = first.data.repeated
      ? `Repeated${cadenceWords(run)} ${times(run.length)}, ${formatDate(first.time)} to ${last}`
      : `First ${formatDate(first.time)}, repeated${cadenceWords(run)} ${times(run.length - 1)} to ${last}`;
    // Only the last run of an escalation can say how it stands: a later run shows it went on.
    const standing = lastRun.get(escalationKey(first)!) !== run ? '' : isOpen(first) ? '; still open' : '; no longer open';
    const detail = `${how}${standing}`;
    return { kind: 'repeated', items: run, title: describe(first, providerName).title, detail };
  });
}
