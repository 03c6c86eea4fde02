import { query } from '../api.ts';
import { LoadError, Loading, PageTitle, useResource } from '../ui.tsx';
import { PagedPlans, type PlanPage } from './worklist.tsx';

/** Plans a page; "Show more plans" reads the next. */
const PAGE = 50;

/**
 * The team lead's list: plans with an open escalation (GET /escalations). The API pages them the
 * longest-open first, each page most urgent first.
 */
export function EscalationsPage() {
  const path = `/escalations${query({ limit: PAGE })}`;
  const escalations = useResource<PlanPage>(path);
  return (
    <>
      <PageTitle>Escalations</PageTitle>
      <p className="lead">
        Overdue assessments and reviews, offers nobody accepted, plans with no contact: the longest-open first, {PAGE} at a time, each {PAGE} most urgent first.
      </p>
      {escalations.loading && <Loading what="escalations" />}
      {escalations.error && <LoadError error={escalations.error} what="escalations" onRetry={escalations.reload} />}
      {escalations.data && <PagedPlans first={escalations.data} path={path} empty="No open escalations." />}
    </>
  );
}
