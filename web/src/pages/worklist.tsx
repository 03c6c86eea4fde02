import { useState, type ReactNode } from 'react';
import { api, ApiError, query } from '../api.ts';
import { DUE_LISTS } from '../../../lib/domain/worklist.ts';
import { deadlineInWords } from '../deadline-words.ts';
import { directoryNames, escalationLabel, label, STAGES } from '../domain.ts';
import { formatDate } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { Escalation, PlanSummary } from '../types.ts';
import { LoadError, Loading, PageTitle, StageBadge, useApp, useResource } from '../ui.tsx';

const VIEWS = [
  ['overdue', DUE_LISTS.overdue.label],
  ['today', DUE_LISTS.today.label],
  ['this-week', DUE_LISTS['this-week'].label],
  ['all', 'All open plans'],
] as const;
type View = (typeof VIEWS)[number][0];

/** The most the API gives in one page. */
const PAGE = 100;

export interface PlanPage {
  items: PlanSummary[];
  nextCursor?: string | null;
}

/** What is due, overdue and escalated: GET /plans?due=…, or by stage. */
export function WorklistPage() {
  const { session } = useApp();
  const { search } = useLocation();
  const view = (VIEWS.some(([v]) => v === search.get('view')) ? search.get('view') : 'overdue') as View;
  const stage = search.get('stage') ?? '';
  const path = view === 'all' ? `/plans${query({ stage: stage || undefined, limit: PAGE })}` : `/plans${query({ due: view, stage: stage || undefined, limit: PAGE })}`;
  const plans = useResource<PlanPage>(path);
  const go = (next: { view?: string; stage?: string }) => navigate(`/worklist${query({ view: next.view ?? view, stage: next.stage ?? stage })}`);

  return (
    <>
      <div className="page-head">
        <PageTitle>Worklist</PageTitle>
        {session.role === 'coordinator' && (
          <Link to="/referrals/new" className="button primary">
            New referral
          </Link>
        )}
      </div>
      <nav aria-label="Worklist views" className="tabs">
        <ul>
          {VIEWS.map(([v, text]) => (
            <li key={v}>
              <Link to={`/worklist${query({ view: v, stage })}`} {...(v === view ? { 'aria-current': 'page' as const } : {})}>
                {text}
              </Link>
            </li>
          ))}
        </ul>
      </nav>
      <div className="filters">
        <label htmlFor="stage-filter">Stage</label>
        <select id="stage-filter" value={stage} onChange={(e) => go({ stage: e.target.value })}>
          <option value="">Any open stage</option>
          {STAGES.map((s) => (
            <option key={s} value={s}>
              {label(s)}
            </option>
          ))}
        </select>
      </div>
      {plans.loading && <Loading what="the worklist" />}
      {plans.error && <LoadError error={plans.error} what="the worklist" onRetry={plans.reload} />}
      {plans.data && <PagedPlanList key={path} first={plans.data} path={path} view={view} stage={stage} />}
    </>
  );
}

/**
 * The list with its further pages: the stage lists and the due lists page on with the API's cursor
 * ("Show more plans"); every open stage at once is one page only, and says when it may leave plans
 * out rather than looking complete.
 */
function PagedPlanList({ first, path, view, stage }: { first: PlanPage; path: string; view: View; stage: string }) {
  const capped = view === 'all' && !stage && !first.nextCursor && first.items.length >= PAGE;
  return (
    <PagedPlans
      first={first}
      path={path}
      empty={view === 'overdue' ? 'Nothing is overdue or escalated.' : 'No plans here.'}
      complete={!capped}
      note={
        capped && (
          <p className="notice notice-warning" role="note">
            {`Showing the ${PAGE} plans changed most recently; there may be more. Choose a stage to see every plan in it.`}
          </p>
        )
      }
    />
  );
}

/** What a list shows beside each open escalation of a plan (the team lead's "I'm picking this up"). */
type EscalationAction = (plan: PlanSummary, escalation: Escalation) => ReactNode;

/**
 * A list of plans read a page at a time: the first page, then each "Show more plans" reads the next
 * with the last page's cursor and adds it below, and a line says how many are shown and whether more
 * follow. The later pages (and a failure to read one) belong to the first page they followed, so a
 * reload of the list starts again from its first page. `complete` is false for a list the API gives in
 * one page that may leave plans out.
 */
export function PagedPlans({ first, path, empty, complete = true, note, escalationAction }: { first: PlanPage; path: string; empty: string; complete?: boolean; note?: ReactNode; escalationAction?: EscalationAction }) {
  const [later, setLater] = useState<{ after: PlanPage; pages: PlanPage[]; error?: ApiError }>();
  const [busy, setBusy] = useState(false);
  const mine = later?.after === first ? later : undefined;
  const pages = [first, ...(mine?.pages ?? [])];
  // A plan comes once, even if it moved in the list between two pages (an escalation resolved and raised again).
  const shown = new Set<string>();
  const items = pages.flatMap((p) => p.items).filter((p) => !shown.has(p.planId) && Boolean(shown.add(p.planId)));
  const cursor = pages.at(-1)?.nextCursor ?? null;
  const showMore = () => {
    if (!cursor) return;
    setBusy(true);
    api<PlanPage>('GET', `${path}${path.includes('?') ? '&' : '?'}cursor=${encodeURIComponent(cursor)}`)
      .then((page) => setLater({ after: first, pages: [...pages.slice(1), page] }))
      .catch((e: unknown) => setLater({ after: first, pages: pages.slice(1), error: e instanceof ApiError ? e : new ApiError(0, 'Error', String(e)) }))
      .finally(() => setBusy(false));
  };
  const count = `${items.length} plan${items.length === 1 ? '' : 's'}`;
  return (
    <>
      <PlanList items={items} empty={empty} {...(escalationAction ? { escalationAction } : {})} />
      {items.length > 0 && (
        <p className="hint" role="status">
          {cursor ? `Showing ${count}; there are more.` : complete ? `Showing all ${count}.` : `Showing ${count}.`}
        </p>
      )}
      {note}
      {mine?.error && <LoadError error={mine.error} what="more plans" onRetry={showMore} />}
      {cursor && (
        <p>
          <button type="button" className="button secondary" disabled={busy} aria-busy={busy || undefined} onClick={showMore}>
            {busy ? 'Working…' : 'Show more plans'}
          </button>
        </p>
      )}
    </>
  );
}

function PlanList({ items, empty, escalationAction }: { items: PlanSummary[]; empty: string; escalationAction?: EscalationAction }) {
  const { now, services } = useApp();
  const names = directoryNames(services);
  if (items.length === 0) return <p className="empty">{empty}</p>;
  return (
    <ul className="plan-list" aria-label={`${items.length} plan${items.length === 1 ? '' : 's'}`}>
      {items.map((p) => {
        const escalations = p.openEscalations ?? p.escalations ?? [];
        const due = p.nextDue ? deadlineInWords(p.nextDue, escalations, now, names, p.nextDue.followUpDueAt, p.nextDue.followUpsLapseAt) : undefined;
        // Overdue as the API's overdue list reckons it: an open escalation, or the next thing due (a review, a deadline) passed.
        const overdue = Boolean(p.nextReview?.overdue) || escalations.length > 0 || Boolean(due?.overdue);
        return (
          <li key={p.planId} className={`plan-item${overdue ? ' is-overdue' : ''}`}>
            <div className="plan-item-head">
              <Link to={`/plan/${p.planId}`} className="plan-link">
                Plan {p.planId}
              </Link>
              <StageBadge stage={p.stage} />
              {p.urgency === 'urgent' && <span className="badge urgent">Urgent</span>}
              {p.higherRisk && <span className="badge risk">Higher risk</span>}
              {(p.risksNotAssessed?.length ?? 0) > 0 && <span className="badge risk-not-assessed">Risks not assessed</span>}
            </div>
            <dl className="plan-item-facts">
              <div>
                <dt>Area</dt>
                <dd>{label(p.localAuthority)}</dd>
              </div>
              {due && (
                <div>
                  <dt>{due.term}</dt>
                  <dd className={due.overdue ? 'overdue-text' : undefined}>{due.words}</dd>
                </div>
              )}
              {p.nextReview && (
                <div>
                  <dt>Review {p.nextReview.reviewNumber}</dt>
                  <dd className={p.nextReview.overdue ? 'overdue-text' : undefined}>
                    {p.nextReview.overdue ? 'Overdue, due ' : 'Due '}
                    {formatDate(p.nextReview.dueAt)}
                  </dd>
                </div>
              )}
              {escalations.length > 0 && (
                <div>
                  <dt>Escalated</dt>
                  {escalationAction ? (
                    <dd>
                      <ul className="escalation-list">
                        {escalations.map((e) => (
                          <li key={`${e.kind}:${e.ref ?? ''}`}>
                            <span className="overdue-text">{`${escalationLabel(e, names)} (${formatDate(e.raisedAt)})`}</span> {escalationAction(p, e)}
                          </li>
                        ))}
                      </ul>
                    </dd>
                  ) : (
                    <dd className="overdue-text">{escalations.map((e) => `${escalationLabel(e, names)} (${formatDate(e.raisedAt)})`).join(', ')}</dd>
                  )}
                </div>
              )}
            </dl>
          </li>
        );
      })}
    </ul>
  );
}
