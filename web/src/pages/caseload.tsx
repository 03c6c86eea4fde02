import { query } from '../api.ts';
import { label, needLabel } from '../domain.ts';
import { formatDateTime } from '../format.ts';
import { Link, navigate, useLocation } from '../router.tsx';
import type { ProviderAllocation } from '../types.ts';
import { LoadError, Loading, PageTitle, StatusBadge, useApp, useResource } from '../ui.tsx';
import { needsOf } from './inbox.tsx';

const STATUSES = ['accepted', 'offered', 'ended', 'declined', 'expired', 'withdrawn'] as const;

/** The allocations the provider holds (GET /providers/{id}/allocations), by status. */
export function CaseloadPage() {
  const { session, services } = useApp();
  const { search } = useLocation();
  const status = search.get('status') ?? 'accepted';
  const providerId = session.providerId ?? '';
  const held = useResource<{ items: ProviderAllocation[] }>(`/providers/${encodeURIComponent(providerId)}/allocations${query({ status: status === 'all' ? undefined : status })}`);
  const serviceName = (id?: string) => (id ? (services.find((s) => s.serviceId === id)?.name ?? id) : '');
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
        (held.data.items.length === 0 ? (
          <p className="empty">Nothing here.</p>
        ) : (
          <ul className="plan-list">
            {held.data.items.map((a) => (
              <li key={a.allocationId} className="plan-item">
                <div className="plan-item-head">
                  <Link to={`/caseload/${a.allocationId}`} className="plan-link">
                    {needsOf(a.needs).map(needLabel).join(', ') || a.allocationId}
                  </Link>
                  <StatusBadge status={a.status} />
                  {a.lead && <span className="badge badge-lead">Lead</span>}
                </div>
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
    </>
  );
}
