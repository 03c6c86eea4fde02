import { useState } from 'react';
import { addCalendarDays } from '../../../lib/domain/calendar.ts';
import { api, ApiError, query } from '../api.ts';
import { label } from '../domain.ts';
import { Form, SubmitButton, TextInput } from '../forms.tsx';
import { Link, navigate, useLocation } from '../router.tsx';
import { LoadError, Loading, PageTitle, Section, useApp, useResource } from '../ui.tsx';
import type { AuditRecord } from '../../../lib/adapters/dynamodb/audit-record.ts';
import { auditActionWords, auditOutcomeWords, serviceChangeWords } from '../../../lib/domain/audit-actions.ts';
import { MAX_AUDIT_DAYS, MAX_AUDIT_DAYS_ONE_PLAN } from '../../../lib/domain/vocabulary.ts';

/** One page of GET /audit (AuditList in lib/api/openapi.ts). */
type AuditPage = { items: AuditRecord[]; nextCursor?: string };

const PAGE_SIZE = 50;

/**
 * When a record was made, in UK time with its zone: the night the clocks go back, 01:00 to 01:59
 * happens twice, and a record of 01:30 BST is an hour before one of 01:30 GMT (the log is matched
 * against other records of the night, so which one matters).
 */
const whenFmt = new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/London', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', timeZoneName: 'short' });
const when = (at: string) => (Number.isNaN(Date.parse(at)) ? at : whenFmt.format(new Date(at)));

/**
 * The team lead's audit log: who read or wrote identity or plan detail, in which role, what and why,
 * over a range of days (the last 7 unless asked), optionally about one plan. The range and the plan
 * live in the address, so a plan's page can link here and the API's errors sit next to the field.
 * About one plan (a plan page's "Who has seen this plan") the range is the longest the API allows for
 * one plan unless asked: who read her contact details a month ago is the question, not only this week.
 */
export function AuditPage() {
  const { now } = useApp();
  const { search } = useLocation();
  // The records are kept by UTC day (their `at` is a UTC instant): the range is of UTC days too.
  const today = now.slice(0, 10);
  const planId = search.get('plan') ?? '';
  const to = search.get('to') ?? today;
  const askedFrom = search.get('from');
  // On a table given the plan index after records were written, a plan's widest range may reach further
  // before the index's start than the API reads in one go (its days there are read whole); the API's 400
  // names the earliest `from` it reads, and the range not asked for starts there instead, saying so.
  const [shortened, setShortened] = useState<{ range: string; bound: IndexBound }>();
  const range = `${to}|${planId}`;
  const bound = askedFrom === null && shortened?.range === range ? shortened.bound : undefined;
  const from = askedFrom ?? bound?.earliestFrom ?? addCalendarDays(to, planId ? -MAX_AUDIT_DAYS_ONE_PLAN : -6);
  // One read per range: each read of the log is itself recorded (a refused one is not).
  const records = useResource<AuditPage>(auditPath(from, to, planId));
  const refusedBound = askedFrom === null && bound === undefined ? indexBoundOf(records.error) : undefined;
  // Adjusting state while rendering (React's pattern for state derived from an answer): at most once a range.
  if (refusedBound) setShortened({ range, bound: refusedBound });
  return (
    <>
      <PageTitle>Audit log</PageTitle>
      <p className="lead">Who read or changed a woman's identity or plan, in which role, what and why, and whether each change was done or refused: every read of her contact details is here, refused ones too. Oldest first.</p>
      {bound && <ShortenedRange bound={bound} to={to} planId={planId} />}
      <AuditFilters key={`${from}|${to}|${planId}`} from={from} to={to} planId={planId} busy={records.loading || refusedBound !== undefined} error={records.error?.status === 400 && !refusedBound ? records.error : undefined} />
      {/* Keyed like the filters: another range starts with no later pages and no error of the last one's. */}
      <AuditRecords key={`records|${from}|${to}|${planId}`} from={from} to={to} planId={planId} records={records} />
    </>
  );
}

/** What GET /audit's 400 says of a plan range reaching too far before the plan index's start (functions/api-queries). */
type IndexBound = { earliestFrom: string; planIndexFrom?: string };

const UTC_DAY = /^\d{4}-\d{2}-\d{2}$/;

function indexBoundOf(error: ApiError | undefined): IndexBound | undefined {
  const earliestFrom = error?.status === 400 ? error.problem.earliestFrom : undefined;
  if (typeof earliestFrom !== 'string' || !UTC_DAY.test(earliestFrom)) return undefined;
  const planIndexFrom = error?.problem.planIndexFrom;
  return { earliestFrom, ...(typeof planIndexFrom === 'string' && UTC_DAY.test(planIndexFrom) ? { planIndexFrom } : {}) };
}

/**
 * Why a plan's range starts later than three years back, and the way to the records before it: the
 * month just before, which the API reads in one go (a range of at most MAX_AUDIT_DAYS days).
 */
function ShortenedRange({ bound, to, planId }: { bound: IndexBound; to: string; planId: string }) {
  const before = addCalendarDays(bound.earliestFrom, -1);
  const monthBefore = `/audit-log${query({ from: addCalendarDays(before, -MAX_AUDIT_DAYS), to: before, plan: planId })}`;
  return (
    <div className="notice" role="status">
      <p>
        Shown from {bound.earliestFrom} to {to}, not three years:{' '}
        {bound.planIndexFrom
          ? `records about a plan from before ${bound.planIndexFrom}, when this log started keeping them by plan, are read a day at a time, at most ${MAX_AUDIT_DAYS + 1} days in one view.`
          : `this log does not yet keep records by plan, so they are read a day at a time, at most ${MAX_AUDIT_DAYS + 1} days in one view.`}
      </p>
      <p>
        <Link to={monthBefore}>Show the records before {bound.earliestFrom}</Link>, a month at a time.
      </p>
    </div>
  );
}

const auditPath = (from: string, to: string, planId: string, cursor?: string) => `/audit${query({ from, to, planId, limit: PAGE_SIZE, cursor })}`;

/** The range and plan asked for; the API checks them, and its 400 is shown next to the field it names. */
function AuditFilters(props: { from: string; to: string; planId: string; busy: boolean; error: ApiError | undefined }) {
  const [from, setFrom] = useState(props.from);
  const [to, setTo] = useState(props.to);
  const [planId, setPlanId] = useState(props.planId);
  return (
    <Form label="Which records" className="form filters-form" error={props.error} onSubmit={() => navigate(`/audit-log${query({ from: from.trim(), to: to.trim(), plan: planId.trim() })}`)}>
      <TextInput path="from" label="From (UTC day)" type="date" width="medium" value={from} onChange={setFrom} />
      <TextInput path="to" label="To (UTC day)" type="date" width="medium" value={to} onChange={setTo} hint={`At most ${MAX_AUDIT_DAYS} days after From; about one plan, at most ${MAX_AUDIT_DAYS_ONE_PLAN.toLocaleString('en-GB')} (three years).`} />
      <TextInput path="planId" label="Plan id (optional)" hint="Only the records about this plan, like pl_…" width="medium" value={planId} onChange={setPlanId} />
      <SubmitButton busy={props.busy}>Show records</SubmitButton>
    </Form>
  );
}

/**
 * Who made the access: her name as her token gave it at the time and, for a provider's staff, her
 * organisation. A record written before names were kept, or from a token without one (`wraparound
 * token` without --name), has only the token's subject id, and says no name was given; a record of the
 * system's own work says that.
 */
function Who({ record }: { record: AuditRecord }) {
  const { providerName } = useApp();
  const organisation = record.whoProviderId ? providerName(record.whoProviderId) : undefined;
  return (
    <>
      {/* The sweeper's own records (anonymising after the retention period) are nobody's: no name to miss. */}
      <div>{record.whoName ?? (record.role === 'system' ? `Wraparound itself (${record.who})` : `no name given (id ${record.who})`)}</div>
      {/* Not twice for an account named after its organisation (the embedded stack's demo providers). */}
      {organisation && organisation !== record.whoName && <div className="hint">{organisation}</div>}
    </>
  );
}

function AuditRecords({ from, to, planId, records }: { from: string; to: string; planId: string; records: ReturnType<typeof useResource<AuditPage>> }) {
  const { services, providerName } = useApp();
  const serviceName = (id: string) => services.find((s) => s.serviceId === id)?.name ?? id;
  // The pages read after the first with Show more, kept while the first is the same answer.
  const [later, setLater] = useState<{ after: AuditPage; pages: AuditPage[] } | undefined>();
  const [moreError, setMoreError] = useState<ApiError | undefined>();
  const [moreBusy, setMoreBusy] = useState(false);
  const pages = records.data ? [records.data, ...(later?.after === records.data ? later.pages : [])] : [];
  const items = pages.flatMap((p) => p.items);
  const nextCursor = pages.at(-1)?.nextCursor;
  const showMore = () => {
    if (!nextCursor || !records.data) return;
    const first = records.data;
    setMoreBusy(true);
    api<AuditPage>('GET', auditPath(from, to, planId, nextCursor))
      .then((page) => (setLater({ after: first, pages: [...pages.slice(1), page] }), setMoreError(undefined)))
      .catch((e: unknown) => setMoreError(e instanceof ApiError ? e : new ApiError(0, 'Error', String(e))))
      .finally(() => setMoreBusy(false));
  };
  return (
    <Section title="Records" id="records">
      <p className="hint">
        UTC days {from} to {to}
        {planId && (
          <>
            , about plan <code>{planId}</code>
          </>
        )}
      </p>
      {records.loading && !records.data && <Loading what="the audit log" />}
      {/* A 400 is shown next to the field it names, in the form above. */}
      {records.error && records.error.status !== 400 && <LoadError error={records.error} what="the audit log" onRetry={records.reload} />}
      {records.data &&
        (items.length === 0 ? (
          <p className="empty">No records for these days{planId ? ' and this plan' : ''}.</p>
        ) : (
          <div className="table-scroll" role="region" aria-label={`${items.length} records shown${nextCursor ? ', more to show' : ''}`} tabIndex={0}>
            <table className="audit-table">
              <thead>
                <tr>
                  <th scope="col">When (UK time)</th>
                  <th scope="col">Who</th>
                  <th scope="col">Role</th>
                  <th scope="col">Action</th>
                  <th scope="col">Outcome</th>
                  <th scope="col">About</th>
                  <th scope="col">Why</th>
                </tr>
              </thead>
              <tbody>
                {items.map((r) => (
                  <tr key={r.auditId}>
                    <td>
                      <time dateTime={r.at}>{when(r.at)}</time>
                    </td>
                    <td>
                      <Who record={r} />
                    </td>
                    <td>{label(r.role)}</td>
                    {/* A code this release has no words for (a newer one's) is shown as it is. */}
                    <td>{auditActionWords(r.action) ?? r.action}</td>
                    <td>{auditOutcomeWords(r)}</td>
                    <td>
                      {r.planId && (
                        <div>
                          Plan <Link to={`/plan/${encodeURIComponent(r.planId)}`}>{r.planId}</Link>
                        </div>
                      )}
                      {r.allocationId && <div>Allocation {r.allocationId}</div>}
                      {/* By its name, as Who says it: a governance lead reads "Black Country Women's Aid", not "bcwa". */}
                      {r.providerId && <div>Provider {providerName(r.providerId)}</div>}
                      {r.serviceId && <div>Service {serviceName(r.serviceId)}</div>}
                      {r.change && <div>{serviceChangeWords(r.change)}</div>}
                      {r.possibleDuplicates && r.possibleDuplicates.length > 0 && (
                        <div>
                          Shown as possibly hers:{' '}
                          {r.possibleDuplicates.map((id, i) => (
                            <span key={id}>
                              {i > 0 && ', '}
                              plan <Link to={`/plan/${encodeURIComponent(id)}`}>{id}</Link>
                            </span>
                          ))}
                        </div>
                      )}
                      {r.notDuplicateOf && r.notDuplicateOf.length > 0 && (
                        <div>
                          Confirmed a different woman from{' '}
                          {r.notDuplicateOf.map((id, i) => (
                            <span key={id}>
                              {i > 0 && ', '}
                              plan <Link to={`/plan/${encodeURIComponent(id)}`}>{id}</Link>
                            </span>
                          ))}
                        </div>
                      )}
                    </td>
                    <td>{label(r.why)}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        ))}
      {moreError && <LoadError error={moreError} what="more records" onRetry={showMore} />}
      {nextCursor && (
        <button type="button" className="button secondary" onClick={showMore} disabled={moreBusy}>
          Show more records
        </button>
      )}
    </Section>
  );
}
