import { useState, type ReactNode } from 'react';
import { INCOMPLETE_HEADLINE, incompleteDetail } from '../../../lib/domain/metrics/incomplete-notice.ts';
import { roundedRateExample } from '../../../lib/domain/metrics/definitions.ts';
import { RATE_ABOVE_NONE, RATE_BELOW_ALL } from '../../../lib/domain/metrics/rate-caps.ts';
import { download, query, type ApiError } from '../api.ts';
import { ChartFigure, MarkedValue, type ValueMark } from '../chart.tsx';
import { label, METRIC_DIMENSIONS, needLabel, type MetricDimension } from '../domain.ts';
import { formatDate, formatDateTime, formatNumber, londonDay } from '../format.ts';
import { suppressedWords } from '../suppression-words.ts';
import { periodHint, periodPlaceholder, type PeriodRules } from '../period-words.ts';
import { Form, options, Select, SubmitButton, useSubmit } from '../forms.tsx';
import { navigate, useLocation } from '../router.tsx';
import type { FigureValue, Figures, MetricsReport } from '../types.ts';
import { LoadError, Loading, Notice, PageTitle, Section, useApp, useResource } from '../ui.tsx';

const HEADLINES = [
  'referrals',
  'activated',
  'activeAtEnd',
  'completionRate',
  'daysReferralToActiveMedian',
  'acceptanceRate',
  'reviewOnTimeRate',
  'plansWithGap',
  'reoffendingRate12',
] as const;

/** Figures in the breakdown table, in this order. */
const TABLE_FIGURES = [
  'referrals',
  'consentRate',
  'activated',
  'daysReferralToActiveMedian',
  'activeAtEnd',
  'exits',
  'completionRate',
  'offers',
  'acceptanceRate',
  'responseHoursMedian',
  'offersExpired',
  'gaps',
  'reviewOnTimeRate',
  'scoreChangeMean',
  'reoffendingRate6',
  'reoffendingRate12',
] as const;

const FALLBACK_LABELS: Record<string, string> = {
  referrals: 'Referrals',
  activated: 'Activated',
  activeAtEnd: 'Active at end of period',
  completionRate: 'Completion rate',
  daysReferralToActiveMedian: 'Days referral to active: median',
  daysReferralToActiveP90: 'Days referral to active: 90th percentile',
  acceptanceRate: 'Offer acceptance rate',
  reviewOnTimeRate: 'Review on-time rate',
  plansWithGap: 'Plans with unmet need',
  reoffendingRate6: 'Reoffending within 6 months',
  reoffendingRate12: 'Reoffending within 12 months',
  responseHoursMedian: 'Offer response time: median',
  gaps: 'Unmet needs (gaps)',
};

const isSuppressed = (v: FigureValue) => v === 'suppressed';
const numberOf = (v: FigureValue): number | null => (typeof v === 'number' && Number.isFinite(v) ? v : null);

/**
 * Commissioner figures (GET /metrics): aggregates only, small numbers suppressed. Filters for the
 * period and the breakdown live in the address, so a view can be bookmarked and shared.
 */
export function DashboardPage() {
  const { search } = useLocation();
  const from = search.get('from') ?? '';
  const to = search.get('to') ?? '';
  const requested = search.get('breakdown') ?? 'provider';
  const known = (METRIC_DIMENSIONS as readonly string[]).includes(requested);
  const breakdown = known ? (requested as MetricDimension) : 'provider';
  const params = { from: from || undefined, to: to || undefined, groupBy: METRIC_DIMENSIONS.join(',') };
  const report = useResource<MetricsReport>(`/metrics${query(params)}`);
  const csv = useSubmit();

  return (
    <>
      <div className="page-head">
        <PageTitle>Programme figures</PageTitle>
        <button
          type="button"
          className="button secondary"
          disabled={csv.busy}
          onClick={() => void csv.run(() => download(`/metrics.csv${query(params)}`, 'wraparound-metrics.csv'), 'CSV downloaded.')}
        >
          {csv.busy ? 'Preparing…' : 'Download CSV'}
        </button>
      </div>
      {csv.done && <Notice>{csv.done}</Notice>}
      {csv.error && (
        <p className="field-error" role="alert">
          The CSV could not be downloaded: {csv.error.message}
        </p>
      )}
      {!known && (
        <Notice tone="warning">
          There is no breakdown “{requested}”: the table below is by provider. The breakdowns are {METRIC_DIMENSIONS.map((d) => label(d)).join(', ')}.
        </Notice>
      )}
      <Filters from={from} to={to} breakdown={breakdown} error={report.error} periodRules={report.data?.periodRules} />
      {report.loading && !report.data && <Loading what="the figures" />}
      {report.error && report.error.status !== 400 && <LoadError error={report.error} what="the figures" onRetry={report.reload} />}
      {report.data && <Report report={report.data} breakdown={breakdown} />}
    </>
  );
}

const QUARTER_MONTHS = ['January to March', 'April to June', 'July to September', 'October to December'] as const;

/**
 * The quarters the figures can be asked for, latest first: the API answers whole calendar quarters, and
 * only complete ones (a period sliding a day at a time gave one woman's outcome away), so the last is
 * the one before today's. Today is the London date, as the API reckons it.
 */
function completeQuarters(today: string, count = 16): { from: string; to: string; label: string }[] {
  const year = Number(today.slice(0, 4));
  const quarter = Math.floor((Number(today.slice(5, 7)) - 1) / 3);
  const out: { from: string; to: string; label: string }[] = [];
  for (let i = 1; i <= count; i += 1) {
    const index = year * 4 + quarter - i;
    const y = Math.floor(index / 4);
    const q = index - y * 4;
    const first = `${y}-${String(q * 3 + 1).padStart(2, '0')}-01`;
    const lastMonth = q * 3 + 3;
    const lastDay = new Date(Date.UTC(y, lastMonth, 0)).getUTCDate();
    out.push({ from: first, to: `${y}-${String(lastMonth).padStart(2, '0')}-${lastDay}`, label: `Q${q + 1} ${y} (${QUARTER_MONTHS[q]})` });
  }
  return out;
}

function Filters({ from, to, breakdown, error, periodRules }: { from: string; to: string; breakdown: string; error: ApiError | undefined; periodRules: PeriodRules | undefined }) {
  const [f, setFrom] = useState(from);
  const [t, setTo] = useState(to);
  const [b, setBreakdown] = useState(breakdown);
  // The query's own errors (from, to) are shown next to these fields.
  const queryError = error?.status === 400 ? error : undefined;
  // The stack's clock, as the API reckons complete quarters (a simulated clock may be months from the browser's).
  const { now } = useApp();
  const quarters = completeQuarters(londonDay(now));
  // A period from an older bookmark stays as it was sent, so the API's refusal names it next to its field.
  const withSent = (sent: string, listed: (readonly [string, string])[]) => (sent && !listed.some(([v]) => v === sent) ? [[sent, sent] as const, ...listed] : listed);
  return (
    <Form onSubmit={() => navigate(`/dashboard${query({ from: f, to: t, breakdown: b })}`)} error={queryError} label="Filters" className="form filters-form">
      <Select
        path="from"
        label="From"
        hint={periodHint(periodRules)}
        value={f}
        onChange={setFrom}
        placeholder={periodPlaceholder(periodRules)}
        options={withSent(from, quarters.map((q) => [q.from, q.label] as const))}
      />
      <Select
        path="to"
        label="To"
        hint="Complete quarters only; default: the latest"
        value={t}
        onChange={setTo}
        placeholder="The latest complete quarter"
        options={withSent(to, quarters.map((q) => [q.to, q.label] as const))}
      />
      <Select path="groupBy" label="Breakdown" value={b} onChange={setBreakdown} options={options(METRIC_DIMENSIONS, label)} />
      <SubmitButton busy={false}>Show</SubmitButton>
    </Form>
  );
}

function Report({ report, breakdown }: { report: MetricsReport; breakdown: MetricDimension }) {
  const { providerName } = useApp();
  const defs = report.definitions?.figures ?? {};
  const labelOf = (key: string) => defs[key]?.label ?? FALLBACK_LABELS[key] ?? key;
  const unitOf = (key: string) => defs[key]?.unit;
  const groupLabel = (dimension: string, group: string) =>
    dimension === 'provider' ? providerName(group) : dimension === 'needDomain' ? needLabel(group) : dimension === 'month' ? monthLabel(group) : label(group);
  const groups = (dimension: string) => report.breakdowns?.[dimension] ?? [];
  const threshold = report.suppression?.threshold ?? 5;
  // Set when the answer stops at the end of the last complete quarter, before the `to` asked for.
  const period = report.period;
  const requestedTo = 'requestedTo' in period && typeof period.requestedTo === 'string' ? period.requestedTo : undefined;
  const boundOf = (dimension: string, group: string, figure: string) => report.boundedRates?.find((b) => b.dimension === dimension && b.group === group && b.figure === figure)?.bound;

  const chartOf = (
    dimension: string,
    keys: string[],
    build: (
      labels: string[],
      series: { label: string; values: (number | null)[] }[],
      suppressedNote: (bars: boolean) => string,
      mark: (seriesIndex: number, labelIndex: number) => ValueMark | undefined,
      suppressed: (seriesIndex: number, labelIndex: number) => boolean,
    ) => ReactNode,
  ) => {
    const rows = groups(dimension);
    if (rows.length === 0) return <p className="empty">No {label(dimension).toLowerCase()} breakdown in this answer.</p>;
    const labels = rows.map((r) => groupLabel(dimension, r.group));
    const series = keys.map((k) => ({ label: labelOf(k), values: rows.map((r) => numberOf(r.figures[k])) }));
    // Per series: a group with one series suppressed may have the other drawn.
    const suppressedGroups = keys.map((k) => ({ label: labelOf(k), groups: rows.flatMap((r, i) => (isSuppressed(r.figures[k]) ? [labels[i] as string] : [])) }));
    // A bar chart draws suppressed bars as placeholders only beside a value (chart.tsx): so say it only then.
    const anyDrawn = series.some((s) => s.values.some((v) => v !== null));
    const note = (bars: boolean) => suppressedWords(suppressedGroups, rows.length, `${label(dimension).toLowerCase()} groups`, bars && anyDrawn);
    const suppressed = (si: number, li: number) => isSuppressed(rows[li]?.figures[keys[si] as string]);
    // A capped rate is marked on the chart as in the tables: drawn at its cap, it reads "Under 100%" or "Over 0%".
    const mark = (si: number, li: number) => {
      const bound = boundOf(dimension, rows[li]?.group ?? '', keys[si] ?? '');
      return bound ? BOUND_MARKS[bound] : undefined;
    };
    return build(labels, series, note, mark, suppressed);
  };
  const missing = (rows: { figures: Figures }[], keys: string[]) => (si: number, li: number) => (isSuppressed(rows[li]?.figures[keys[si] as string]) ? 'suppressed' : 'no value');

  return (
    <>
      <p className="lead">
        {formatDate(report.period.from)} to {formatDate(report.period.to)}
        {requestedTo ? ` (asked up to ${formatDate(requestedTo)}: figures come only from complete quarters)` : ''}
        {report.asOf ? `, as of ${formatDateTime(report.asOf)}` : ''}. Aggregates only: never individuals.
      </p>
      {report.incomplete && (
        <Notice tone="warning">
          <strong>{INCOMPLETE_HEADLINE}</strong> {incompleteDetail(report.incomplete, (count) => formatNumber(count))}
        </Notice>
      )}
      <SuppressionNote report={report} />

      <section aria-labelledby="headline-heading" className="headlines-section">
        <h2 id="headline-heading">Headline figures</h2>
        <ul className="headlines">
          {HEADLINES.map((k) => (
            <li key={k} className="headline">
              <span className="headline-label">{labelOf(k)}</span>
              <FigureText value={report.overall[k]} unit={unitOf(k) ?? (k.endsWith('Rate') || k.startsWith('reoffendingRate') ? 'proportion' : undefined)} bound={boundOf('overall', 'all', k)} big />
              {defs[k]?.definition && <span className="headline-def">{defs[k]?.definition}</span>}
            </li>
          ))}
        </ul>
      </section>

      <div className="chart-grid">
        <Section title="Completion over time" id="completion">
          {chartOf('month', ['completionRate'], (labels, series, suppressedNote, mark, suppressed) => (
            <ChartFigure
              kind="line"
              title="Completion rate by month"
              summary={`Completed exits as a share of all exits, per month.${suppressedNote(false)}`}
              labels={labels}
              series={series}
              mark={mark}
              suppressed={suppressed}
              percent
              yMin={0}
              yMax={1}
              groupTitle="Month"
              missing={missing(groups('month'), ['completionRate'])}
            />
          ))}
        </Section>
        <Section title="Time to support" id="time-to-support">
          {chartOf('month', ['daysReferralToActiveMedian', 'daysReferralToActiveP90'], (labels, series, suppressedNote, mark, suppressed) => (
            <ChartFigure
              kind="line"
              title="Days from referral to active, by month"
              summary={`Median and 90th percentile days from referral to the plan becoming active.${suppressedNote(false)}`}
              labels={labels}
              series={series}
              mark={mark}
              suppressed={suppressed}
              yTitle="Days"
              groupTitle="Month"
              missing={missing(groups('month'), ['daysReferralToActiveMedian', 'daysReferralToActiveP90'])}
            />
          ))}
        </Section>
        <Section title="Provider responsiveness" id="responsiveness">
          {chartOf('provider', ['acceptanceRate'], (labels, series, suppressedNote, mark, suppressed) => (
            <ChartFigure
              kind="bar"
              title="Offer acceptance rate by provider"
              summary={`Offers accepted as a share of offers answered or expired.${suppressedNote(true)}`}
              labels={labels}
              series={series}
              mark={mark}
              suppressed={suppressed}
              percent
              yMin={0}
              yMax={1}
              horizontal
              groupTitle="Provider"
              missing={missing(groups('provider'), ['acceptanceRate'])}
            />
          ))}
          {chartOf('provider', ['responseHoursMedian'], (labels, series, suppressedNote, mark, suppressed) => (
            <ChartFigure
              kind="bar"
              title="Median hours to answer an offer, by provider"
              summary={`Median hours from offer to accept or decline.${suppressedNote(true)}`}
              labels={labels}
              series={series}
              mark={mark}
              suppressed={suppressed}
              yTitle="Hours"
              horizontal
              groupTitle="Provider"
              missing={missing(groups('provider'), ['responseHoursMedian'])}
            />
          ))}
        </Section>
        <Section title="Unmet need by area" id="unmet-need">
          {chartOf('localAuthority', ['gaps', 'plansWithGap'], (labels, series, suppressedNote, mark, suppressed) => (
            <ChartFigure
              kind="bar"
              title="Unmet needs and plans with unmet need, by local authority"
              summary={`Needs recorded as gaps (left without a provider), and plans with at least one.${suppressedNote(true)}`}
              labels={labels}
              series={series}
              mark={mark}
              suppressed={suppressed}
              horizontal
              height={360}
              groupTitle="Local authority"
              missing={missing(groups('localAuthority'), ['gaps', 'plansWithGap'])}
            />
          ))}
        </Section>
        <Section title="Outcomes by need cohort" id="outcomes">
          {chartOf('needDomain', ['reoffendingRate6', 'reoffendingRate12'], (labels, series, suppressedNote, mark, suppressed) => (
            <ChartFigure
              kind="bar"
              title="Reoffending within 6 and 12 months, by need cohort"
              summary={`Share of exited plans with a known follow-up that reoffended, for each need domain.${suppressedNote(true)}`}
              labels={labels}
              series={series}
              mark={mark}
              suppressed={suppressed}
              percent
              yMin={0}
              yMax={1}
              horizontal
              height={420}
              groupTitle="Need cohort"
              missing={missing(groups('needDomain'), ['reoffendingRate6', 'reoffendingRate12'])}
            />
          ))}
          {chartOf('needDomain', ['scoreChangeMean'], (labels, series, suppressedNote, mark, suppressed) => (
            <ChartFigure
              kind="bar"
              title="Mean score change, first to last review, by need"
              summary={`Positive is progress on the 1-10 scale.${suppressedNote(true)}`}
              labels={labels}
              series={series}
              mark={mark}
              suppressed={suppressed}
              horizontal
              height={420}
              groupTitle="Need"
              missing={missing(groups('needDomain'), ['scoreChangeMean'])}
            />
          ))}
        </Section>
      </div>

      <Section title={`By ${label(breakdown).toLowerCase()}`} id="breakdown">
        {report.definitions?.dimensions?.[breakdown] && <p className="hint">{report.definitions.dimensions[breakdown]}</p>}
        {groups(breakdown).length === 0 ? (
          <p className="empty">No {label(breakdown).toLowerCase()} breakdown in this answer.</p>
        ) : (
          <div className="table-scroll" role="region" aria-label={`Figures by ${label(breakdown).toLowerCase()}`} tabIndex={0}>
            <table className="figures-table">
              <caption className="visually-hidden">
                Figures by {label(breakdown).toLowerCase()}; “suppressed” marks a number hidden because it is below {threshold} or would reveal one that is.
              </caption>
              <thead>
                <tr>
                  <th scope="col">{label(breakdown)}</th>
                  {TABLE_FIGURES.map((k) => (
                    <th scope="col" key={k}>
                      {labelOf(k)}
                    </th>
                  ))}
                </tr>
              </thead>
              <tbody>
                <tr className="overall-row">
                  <th scope="row">All</th>
                  {TABLE_FIGURES.map((k) => (
                    <td key={k}>
                      <FigureText value={report.overall[k]} unit={unitOf(k)} bound={boundOf('overall', 'all', k)} />
                    </td>
                  ))}
                </tr>
                {groups(breakdown).map((g) => (
                  <tr key={g.group}>
                    <th scope="row">{groupLabel(breakdown, g.group)}</th>
                    {TABLE_FIGURES.map((k) => (
                      <td key={k}>
                        <FigureText value={g.figures[k]} unit={unitOf(k)} bound={boundOf(breakdown, g.group, k)} />
                      </td>
                    ))}
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
      </Section>

      <details className="card">
        <summary>What every figure means</summary>
        <dl className="definitions">
          {Object.entries(defs).map(([k, d]) => (
            <div key={k}>
              <dt>{d.label}</dt>
              <dd>
                {d.definition} <span className="hint">({d.unit})</span>
              </dd>
            </div>
          ))}
        </dl>
      </details>
    </>
  );
}

function monthLabel(month: string): string {
  const m = /^(\d{4})-(\d{2})$/.exec(month);
  if (!m) return month;
  return new Date(Date.UTC(Number(m[1]), Number(m[2]) - 1, 15)).toLocaleDateString('en-GB', { month: 'short', year: 'numeric', timeZone: 'UTC' });
}

type Bound = NonNullable<MetricsReport['boundedRates']>[number]['bound'];

/** A cap as the charts draw it: "99%", "1%". */
const asPercent = (rate: number) => `${Math.round(rate * 1000) / 10}%`;

/**
 * What a bound rate reads instead of its capped value, in the tables, the headlines and the charts
 * (which draw it at its cap, RATE_BELOW_ALL or RATE_ABOVE_NONE, marked): true whatever its exact counts
 * (the cap might not be).
 */
const BOUND_MARKS: Record<Bound, ValueMark> = {
  'below-all': { symbol: '‡', text: 'Under 100%', detail: 'not all, though the rounded counts would read 100%' },
  'above-none': { symbol: '‡', text: 'Over 0%', detail: 'some, though the rounded counts would read 0%' },
};

/** A figure, or a clearly marked suppressed cell that says why, or a rate that is not quite all or none. */
function FigureText({ value, unit, big, bound }: { value: FigureValue; unit: string | undefined; big?: boolean; bound?: Bound | undefined }) {
  if (isSuppressed(value))
    return (
      <span className={`suppressed${big ? ' figure-big' : ''}`}>
        <span aria-hidden="true">✱ </span>Suppressed<span className="visually-hidden"> (small number)</span>
      </span>
    );
  const n = numberOf(value);
  if (n === null) return <span className={big ? 'figure-big muted' : 'muted'}>–</span>;
  if (bound) return <MarkedValue mark={BOUND_MARKS[bound]} className={`bounded-rate${big ? ' figure-big' : ''}`} />;
  return <span className={big ? 'figure-big' : undefined}>{formatNumber(n, unit)}</span>;
}

/** How far a rate from rounded counts can be from the true one: the API's own example (its definitions and the CSV give it too), as this page writes a rate. */
function rateExample(roundTo: number): string {
  const { shown, lowest, highest } = roundedRateExample(roundTo);
  const pct = (r: { count: number; of: number }) => formatNumber(r.count / r.of, 'proportion');
  return `${shown.count} of ${shown.of} shown reads ${pct(shown)}, and the true rate may be anything from ${pct(lowest)} (${lowest.count} of ${lowest.of}) to ${pct(highest)} (${highest.count} of ${highest.of}).`;
}

function SuppressionNote({ report }: { report: MetricsReport }) {
  const threshold = report.suppression?.threshold ?? 5;
  // As the API says it rounded this answer (configurable; 1 is exact counts), not a constant here.
  const roundTo = report.suppression?.roundCountsTo ?? 1;
  return (
    <div className="notice notice-info suppression-note" role="note">
      <p>
        <strong>
          <span aria-hidden="true">✱ </span>Suppressed
        </strong>{' '}
        marks a number hidden to protect the women in it: any count below {threshold} (zero included), any rate or average built on one, and any other number that would let a hidden one be worked out.
      </p>
      {roundTo > 1 && (
        <p className="rounding-note">
          Counts are rounded to the nearest {roundTo}, so two figures cannot be subtracted to work out a hidden one; rounded counts need not add up to their total. Rates are worked out from the rounded counts shown, not the true rate rounded, so at small numbers a rate can be several points off: {rateExample(roundTo)} Averages are worked out from the exact values.
        </p>
      )}
      {report.boundedRates && report.boundedRates.length > 0 && (
        <p className="bounded-note">
          <strong>
            <span aria-hidden="true">{BOUND_MARKS['below-all'].symbol} </span>
            {BOUND_MARKS['below-all'].text}
          </strong>{' '}
          marks a rate that is not all, though its rounded counts are equal (48 of 50 both round to 50); <strong>{BOUND_MARKS['above-none'].text}</strong> one that is not none. A rate reads 100% or 0% only when it exactly is. Charts draw these rates at {asPercent(RATE_BELOW_ALL)} and {asPercent(RATE_ABOVE_NONE)}, marked {BOUND_MARKS['below-all'].symbol}. The CSV gives them as {RATE_BELOW_ALL} and {RATE_ABOVE_NONE} and names them in its last column.
        </p>
      )}
      {report.suppression?.rules && report.suppression.rules.length > 0 && (
        <details>
          <summary>The suppression rules</summary>
          <ul>
            {report.suppression.rules.map((r) => (
              <li key={r}>{r}</li>
            ))}
          </ul>
        </details>
      )}
    </div>
  );
}
