import type { PlanSummary } from '../types.ts';
import { LoadError, Loading, PageTitle, useResource } from '../ui.tsx';
import { PlanList } from './worklist.tsx';

/** The team lead's list: plans with an open escalation, most urgent first (GET /escalations). */
export function EscalationsPage() {
  const escalations = useResource<{ items: PlanSummary[] }>('/escalations');
  return (
    <>
      <PageTitle>Escalations</PageTitle>
      <p className="lead">Overdue assessments and reviews, offers nobody accepted, plans with no contact: most urgent first.</p>
      {escalations.loading && <Loading what="escalations" />}
      {escalations.error && <LoadError error={escalations.error} what="escalations" onRetry={escalations.reload} />}
      {escalations.data && <PlanList items={escalations.data.items} empty="No open escalations." />}
    </>
  );
}
