import { useState } from 'react';
import { api, query } from '../api.ts';
import { directoryNames, escalationLabel } from '../domain.ts';
import { ExactErrors, Form, SubmitButton, useSubmit } from '../forms.tsx';
import { formatDateTime } from '../format.ts';
import type { Escalation, PlanSummary } from '../types.ts';
import { LoadError, Loading, PageTitle, useApp, useResource } from '../ui.tsx';
import { PagedPlans, type PlanPage } from './worklist.tsx';

/** Plans a page; "Show more plans" reads the next. */
const PAGE = 50;

/**
 * The team lead's list: plans with an open escalation (GET /escalations). The API pages them the
 * longest-open first, each page most urgent first. Each escalation says who picked it up, or offers
 * to pick it up.
 */
export function EscalationsPage() {
  const path = `/escalations${query({ limit: PAGE })}`;
  const escalations = useResource<PlanPage>(path);
  return (
    <>
      <PageTitle>Escalations</PageTitle>
      <p className="lead">
        Overdue assessments and reviews, offers nobody answered, needs with no provider, plans with no contact: the longest-open first, {PAGE} at a time, each {PAGE} most urgent first.
      </p>
      {escalations.loading && <Loading what="escalations" />}
      {escalations.error && <LoadError error={escalations.error} what="escalations" onRetry={escalations.reload} />}
      {escalations.data && (
        <PagedPlans first={escalations.data} path={path} empty="No open escalations." escalationAction={(plan, e) => <PickUp key={`${plan.planId}:${e.kind}:${e.ref ?? ''}`} plan={plan} escalation={e} />} />
      )}
    </>
  );
}

/** "Picked up by … at …", or the button that records it (POST /plans/{id}/escalations/acknowledge). */
function PickUp({ plan, escalation }: { plan: PlanSummary; escalation: Escalation }) {
  const [picked, setPicked] = useState(escalation.acknowledged);
  const submit = useSubmit();
  const { services } = useApp();
  if (picked) return <span className="picked-up">Picked up by {picked.byName ?? picked.by} at {formatDateTime(picked.at)}</span>;
  const what = escalationLabel(escalation, directoryNames(services));
  const pickUp = () =>
    void submit.run(async (idempotencyKey) => {
      const after = await api<{ openEscalations: Escalation[] }>('POST', `/plans/${plan.planId}/escalations/acknowledge`, {
        idempotencyKey,
        body: { kind: escalation.kind, ...(escalation.ref ? { ref: escalation.ref } : {}) },
      });
      const mine = after.openEscalations.find((e) => e.kind === escalation.kind && e.ref === escalation.ref);
      if (mine?.acknowledged) setPicked(mine.acknowledged);
    });
  const prefix = `ack-${plan.planId}-${escalation.kind}-${escalation.ref ?? ''}-`.replace(/[^A-Za-z0-9_-]/g, '-');
  return (
    <Form onSubmit={pickUp} error={submit.error} className="inline-form" label={`Pick up: ${what}, plan ${plan.planId}`} idPrefix={prefix}>
      <span id={`${prefix}f-kind`}>
        <ExactErrors path="kind" />
      </span>
      <span id={`${prefix}f-ref`}>
        <ExactErrors path="ref" />
      </span>
      <SubmitButton busy={submit.busy} tone="secondary">
        I’m picking this up
      </SubmitButton>
    </Form>
  );
}
