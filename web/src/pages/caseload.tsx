import { useState } from 'react';
import { api, ApiError, query } from '../api.ts';
import { label, needLabel } from '../domain.ts';
import { formatDateTime } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { ProviderAllocation } from '../types.ts';
import { LoadError, Loading, PageTitle, StatusBadge, useApp, useResource } from '../ui.tsx';
import { needsOf } from './inbox.tsx';
import { PurgeNotices } from './allocation.tsx';

const STATUSES = ['accepted', 'offered', 'ended', 'declined', 'expired', 'withdrawn'] as const;

/** Allocations a page; "Show more allocations" reads the next. */
const PAGE = 50;

interface AllocationPage {
  items: ProviderAllocation[];
  nextCursor: string | null;
}

/** The allocations the provider holds (GET /providers/{id}/allocations), by status. */
export function CaseloadPage() {
  const { session, services } = useApp();
  const { search } = useLocation();
  const status = search.get('status') ?? 'accepted';
  const providerId = session.providerId ?? '';
  const path = `/providers/${encodeURIComponent(providerId)}/allocations${query({ status: status === 'all' ? undefined : status, limit: PAGE })}`;
  const held = useResource<AllocationPage>(path);
  const serviceName = (id?: string) => (id ? (services.find((s) => s.serviceId === id)?.name ?? id) : '');
  // Pages read after the first, kept with the first they follow: another filter, or a reload, starts again.
  const [later, setLater] = useState<{ after: AllocationPage; pages: AllocationPage[]; error?: ApiError }>();
  const [busy, setBusy] = useState(false);
  const mine = held.data && later?.after === held.data ? later : undefined;
  const pages = held.data ? [held.data, ...(mine?.pages ?? [])] : [];
  const items = pages.flatMap((p) => p.items);
  const cursor = pages.at(-1)?.nextCursor ?? null;
  const showMore = () => {
    const first = held.data;
    if (!cursor || !first) return;
    setBusy(true);
    api<AllocationPage>('GET', `${path}&cursor=${encodeURIComponent(cursor)}`)
      .then((page) => setLater({ after: first, pages: [...pages.slice(1), page] }))
      .catch((e: unknown) => setLater({ after: first, pages: pages.slice(1), error: e instanceof ApiError ? e : new ApiError(0, 'Error', String(e)) }))
      .finally(() => setBusy(false));
  };
  return (
    <>
      <PageTitle>Caseload</PageTitle>
      <p className="lead">Allocations your organisation holds. Open one to record sessions or end your part.</p>
      <div className="filters">
        <label htmlFor="status-filter">Show</label>
        <select id="status-filter" value={status} onChange={(e) => navigate(`/caseload${query({ status: e.target.value })}`)}>
          {STATUSES.map((s) => (
            <option key={s} value={s}>
              {label(s)}
            </option>
          ))}
          <option value="all">All</option>
        </select>
      </div>
      {held.loading && !held.data && <Loading what="your caseload" />}
      {held.error && <LoadError error={held.error} what="your caseload" onRetry={held.reload} />}
      {held.data &&
        (items.length === 0 ? (
          // A status filter reads a bounded number of records a page (the API's rounds): an empty page with more to read is not an empty caseload.
          <p className="empty">{cursor ? 'None found yet: this page read only part of your allocations (there are many). Show more allocations to read on.' : 'Nothing here.'}</p>
        ) : (
          <ul className="plan-list">
            {items.map((a) => (
              <li key={a.allocationId} className="plan-item">
                <div className="plan-item-head">
                  <Link to={`/caseload/${a.allocationId}`} className="plan-link">
                    {needsOf(a.needs).map(needLabel).join(', ') || a.allocationId}
                  </Link>
                  <StatusBadge status={a.status} />
                  {a.lead && <span className="badge badge-lead">Lead</span>}
                </div>
                <PurgeNotices instructions={a.purgeInstructions} />
                <dl className="plan-item-facts">
                  <div>
                    <dt>Plan</dt>
                    <dd>{a.planRef}</dd>
                  </div>
                  <div>
                    <dt>Service</dt>
                    <dd>{serviceName(a.serviceId)}</dd>
                  </div>
                  {a.updatedAt && (
                    <div>
                      <dt>Last change</dt>
                      <dd>{formatDateTime(a.updatedAt)}</dd>
                    </div>
                  )}
                </dl>
              </li>
            ))}
          </ul>
        ))}
      {mine?.error && <LoadError error={mine.error} what="more allocations" onRetry={showMore} />}
      {cursor && (
        <p>
          <button type="button" className="button secondary" disabled={busy} aria-busy={busy || undefined} onClick={showMore}>
            {busy ? 'Working…' : 'Show more allocations'}
          </button>
        </p>
      )}
    </>
  );
}
