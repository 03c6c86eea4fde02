import { useEffect, useId, useRef } from 'react';
import {
  BarController,
  BarElement,
  CategoryScale,
  Chart,
  Filler,
  Legend,
  LinearScale,
  LineController,
  LineElement,
  PointElement,
  Tooltip,
  type ChartConfiguration,
  type Plugin,
} from 'chart.js';
import { suppressedWords } from './suppression-words.ts';

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, Legend, Tooltip, Filler);
Chart.defaults.font.family = 'system-ui, -apple-system, "Segoe UI", Roboto, Arial, sans-serif';
Chart.defaults.font.size = 13;
Chart.defaults.color = '#1f2328';
// Motion only helps nobody reading figures; it also keeps screenshots and tests steady.
Chart.defaults.animation = false;

/** Colours with at least 3:1 contrast against white (WCAG 1.4.11), told apart by shape too (point styles). */
export const SERIES_COLOURS = ['#1d4ed8', '#b45309', '#047857', '#7e22ce', '#be123c', '#0f766e', '#4d4d4d', '#a16207'];
const POINT_STYLES = ['circle', 'rect', 'triangle', 'rectRot', 'star', 'crossRot', 'rectRounded', 'cross'] as const;

export interface Series {
  label: string;
  /** null: no value (suppressed or none), drawn as a gap. */
  values: (number | null)[];
}

/**
 * A value that must not be read as the number it is drawn at (a rate capped at 99% that is not all):
 * its symbol is drawn beside it on the canvas and put before its words in the data table; its words
 * replace the number in the table and the tooltip, and are said under the chart.
 */
export interface ValueMark {
  symbol: string;
  /** What the value reads instead of its number ("Under 100%"). */
  text: string;
  /** Why, for people who cannot see the note that explains the symbol. */
  detail: string;
}

export interface ChartProps {
  kind: 'line' | 'bar';
  title: string;
  /** What the chart shows, for people who cannot see it; the data table under it has every value. */
  summary: string;
  labels: string[];
  series: Series[];
  yTitle?: string;
  yMin?: number;
  yMax?: number;
  /** Values are proportions 0-1, shown as percentages. */
  percent?: boolean;
  horizontal?: boolean;
  /** How a missing value reads in the table (default "–"). */
  missing?: (seriesIndex: number, labelIndex: number) => string;
  format?: (value: number) => string;
  height?: number;
  /** Heading of the table's first column. */
  groupTitle?: string;
  /** The mark of a value, if it has one (see ValueMark). */
  mark?: (seriesIndex: number, labelIndex: number) => ValueMark | undefined;
  /**
   * Whether a missing value was suppressed (small numbers). A bar chart draws it as a hatched grey
   * placeholder the length of the scale, labelled "suppressed", so it is not read as an empty (0) bar.
   */
  suppressed?: (seriesIndex: number, labelIndex: number) => boolean;
}

/** What the canvas shows (a chart is redrawn when this changes); marks by series, then by label. */
type Drawn = Pick<ChartProps, 'kind' | 'labels' | 'series' | 'yTitle' | 'yMin' | 'yMax' | 'percent' | 'horizontal'> & { marks: (ValueMark | null)[][]; hidden: boolean[][] };

/** The suppressed placeholders' grey (4.8:1 on white), used nowhere else on the charts. */
export const SUPPRESSED_COLOUR = '#6b6b6b';
const SUPPRESSED_WORD = 'suppressed';

/** Diagonal hatching, whole pixels (so its colour is exact), as a Chart.js bar fill. */
function hatch(): CanvasPattern | string {
  const tile = document.createElement('canvas');
  tile.width = 8;
  tile.height = 8;
  const ctx = tile.getContext('2d');
  if (!ctx) return `${SUPPRESSED_COLOUR}33`;
  ctx.fillStyle = SUPPRESSED_COLOUR;
  for (let i = 0; i < 8; i += 1) ctx.fillRect(i, 7 - i, 1, 1);
  return ctx.createPattern(tile, 'repeat') ?? `${SUPPRESSED_COLOUR}33`;
}

/** The word "suppressed" on each suppressed placeholder bar, at its start, so it reads without hovering. */
function suppressedPlugin(hidden: boolean[][], horizontal: boolean | undefined): Plugin<'line' | 'bar'> {
  return {
    id: 'suppressedBars',
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      ctx.save();
      ctx.font = `12px ${String(Chart.defaults.font.family)}`;
      ctx.fillStyle = '#1f2328';
      hidden.forEach((row, si) => {
        if (!chart.isDatasetVisible(si)) return;
        const elements = chart.getDatasetMeta(si).data;
        row.forEach((isHidden, li) => {
          const element = elements[li];
          if (!isHidden || !element) return;
          const { x, y, base, width: barWidth, height: barHeight } = element.getProps(['x', 'y', 'base', 'width', 'height'], true) as { x: number; y: number; base: number; width: number; height: number };
          // A bar too thin for the word keeps its hatching; the summary, the tooltip and the data say it.
          if ((horizontal ? barHeight : barWidth) < 14) return;
          const text = SUPPRESSED_WORD;
          const width = ctx.measureText(text).width;
          ctx.textBaseline = 'middle';
          // On a white ground, so the hatching does not cross the word.
          if (horizontal) {
            ctx.fillStyle = '#ffffff';
            ctx.fillRect(base + 4, y - 8, width + 6, 16);
            ctx.fillStyle = '#1f2328';
            ctx.fillText(text, base + 7, y);
          } else {
            ctx.save();
            ctx.translate(x, base - 4);
            ctx.rotate(-Math.PI / 2);
            ctx.fillStyle = '#ffffff';
            ctx.fillRect(0, -8, width + 6, 16);
            ctx.fillStyle = '#1f2328';
            ctx.fillText(text, 3, 0);
            ctx.restore();
          }
        });
      });
      ctx.restore();
    },
  };
}

/** Room beside the value axis's end for a mark drawn beside a value at the top of the scale. */
const MARK_ROOM = 18;

/** Each marked value's symbol drawn just past its bar's end or above its point, so it is seen without hovering. */
function markPlugin(marks: (ValueMark | null)[][], horizontal: boolean | undefined): Plugin<'line' | 'bar'> {
  return {
    id: 'valueMarks',
    afterDatasetsDraw(chart) {
      const { ctx } = chart;
      ctx.save();
      ctx.font = `bold 15px ${String(Chart.defaults.font.family)}`;
      ctx.fillStyle = Chart.defaults.color as string;
      ctx.textAlign = horizontal ? 'left' : 'center';
      ctx.textBaseline = horizontal ? 'middle' : 'bottom';
      marks.forEach((row, si) => {
        if (!chart.isDatasetVisible(si)) return;
        const elements = chart.getDatasetMeta(si).data;
        row.forEach((mark, li) => {
          const element = elements[li];
          if (!mark || !element) return;
          const { x, y } = element.getProps(['x', 'y'], true) as { x: number; y: number };
          if (horizontal) ctx.fillText(mark.symbol, x + 4, y);
          else ctx.fillText(mark.symbol, x, y - 6);
        });
      });
      ctx.restore();
    },
  };
}

/**
 * A chart (Chart.js on a canvas) with its text alternative: the canvas is an image with a summary,
 * and every value is in a table beneath it (open by default when asked), so nothing is only visual.
 */
export function ChartFigure(props: ChartProps) {
  const canvas = useRef<HTMLCanvasElement>(null);
  const { kind, labels, series, yTitle, yMin, yMax, percent, horizontal } = props;
  const format = props.format ?? ((v: number) => (percent ? `${Math.round(v * 1000) / 10}%` : String(Math.round(v * 100) / 100)));
  // The tooltip formats with the latest format, without redrawing for each caller's fresh function.
  const formatRef = useRef(format);
  useEffect(() => {
    formatRef.current = format;
  });
  const marks = series.map((_, si) => labels.map((_, li) => props.mark?.(si, li) ?? null));
  const hidden = series.map((s, si) => labels.map((_, li) => s.values[li] === null && (props.suppressed?.(si, li) ?? false)));
  // Callers build fresh arrays on every render: redraw only when what is drawn changes, from that.
  const drawn = JSON.stringify({ kind, labels, series, yTitle, yMin, yMax, percent, horizontal, marks, hidden } satisfies Drawn);

  useEffect(() => {
    if (!canvas.current) return;
    const { kind, labels, series, yTitle, yMin, yMax, percent, horizontal, marks, hidden } = JSON.parse(drawn) as Drawn;
    const marked = marks.some((row) => row.some((m) => m !== null));
    // Suppressed bars span the scale (its maximum, or the largest value drawn), hatched: never an empty bar.
    // Not when nothing at all is drawn: a chart of placeholders says nothing the note above it does not.
    const anyValue = series.some((s) => s.values.some((v) => v !== null));
    const placeholders = kind === 'bar' && anyValue && hidden.some((row) => row.some(Boolean));
    const fullLength = yMax ?? Math.max(1, ...series.flatMap((s) => s.values.filter((v): v is number => v !== null)));
    const pattern = placeholders ? hatch() : undefined;
    const isHidden = (si: number, li: number | undefined) => li !== undefined && (hidden[si]?.[li] ?? false);
    const valueAxis = horizontal ? 'x' : 'y';
    const config: ChartConfiguration<'line' | 'bar', (number | null)[], string> = {
      type: kind,
      data: {
        labels,
        datasets: series.map((s, i) => {
          const colour = SERIES_COLOURS[i % SERIES_COLOURS.length] as string;
          return {
            label: s.label,
            data: placeholders ? s.values.map((v, li) => (isHidden(i, li) ? fullLength : v)) : s.values,
            borderColor: placeholders ? (ctx: { dataIndex?: number }) => (isHidden(i, ctx.dataIndex) ? SUPPRESSED_COLOUR : colour) : colour,
            backgroundColor: kind === 'bar' ? (placeholders ? (ctx: { dataIndex?: number }) => (isHidden(i, ctx.dataIndex) ? (pattern as CanvasPattern | string) : colour) : colour) : `${colour}22`,
            pointStyle: POINT_STYLES[i % POINT_STYLES.length],
            pointRadius: 4,
            borderWidth: 2,
            spanGaps: false,
          };
        }),
      },
      options: {
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: horizontal ? 'y' : 'x',
        ...(marked ? { layout: { padding: horizontal ? { right: MARK_ROOM } : { top: MARK_ROOM } } } : {}),
        plugins: {
          legend: {
            display: series.length > 1,
            labels: {
              usePointStyle: true,
              // Each series in its own colour, never the hatching of a suppressed bar it may begin with.
              generateLabels: (chart) =>
                Chart.defaults.plugins.legend.labels.generateLabels(chart).map((item) => {
                  const colour = SERIES_COLOURS[(item.datasetIndex ?? 0) % SERIES_COLOURS.length] as string;
                  return { ...item, fillStyle: kind === 'bar' ? colour : `${colour}22`, strokeStyle: colour };
                }),
            },
          },
          tooltip: {
            callbacks: {
              label: (ctx) => {
                const mark = marks[ctx.datasetIndex]?.[ctx.dataIndex];
                if (isHidden(ctx.datasetIndex, ctx.dataIndex)) return `${ctx.dataset.label}: suppressed (small numbers), not drawn`;
                const value = ctx.raw === null ? 'no value' : mark ? `${mark.symbol} ${mark.text}` : formatRef.current(Number(ctx.raw));
                return `${ctx.dataset.label}: ${value}`;
              },
              afterLabel: (ctx) => {
                const mark = marks[ctx.datasetIndex]?.[ctx.dataIndex];
                return mark && ctx.raw !== null && !isHidden(ctx.datasetIndex, ctx.dataIndex) ? `${mark.detail}; drawn at ${formatRef.current(Number(ctx.raw))}` : '';
              },
            },
          },
        },
        scales: {
          [valueAxis]: {
            ...(yMin !== undefined ? { min: yMin } : { beginAtZero: true }),
            ...(yMax !== undefined ? { max: yMax } : {}),
            ...(yTitle ? { title: { display: true, text: yTitle } } : {}),
            ticks: { callback: (v: string | number) => (percent ? `${Math.round(Number(v) * 100)}%` : v), ...(yMax === 10 ? { stepSize: 1 } : {}) },
            grid: { color: '#d0d7de' },
          },
          [horizontal ? 'y' : 'x']: { grid: { display: false }, ticks: { autoSkip: true, maxRotation: 50 } },
        },
      },
    };
    const plugins = [...(marked ? [markPlugin(marks, horizontal) as Plugin] : []), ...(placeholders ? [suppressedPlugin(hidden, horizontal) as Plugin] : [])];
    const chart = new Chart(canvas.current, { ...(config as ChartConfiguration), plugins });
    return () => chart.destroy();
  }, [drawn]);

  const missing = props.missing ?? (() => '–');
  // As the effect decides it: suppressed bars are drawn as placeholders only beside a value.
  const hatched = kind === 'bar' && series.some((s) => s.values.some((v) => v !== null)) && hidden.some((row) => row.some(Boolean));
  // A line chart leaves a suppressed value out: said under it too, so a gap is not read as a 0 or as no data
  // by those who see the chart (the canvas's text alternative says it to those who do not).
  const lineGaps =
    kind === 'line' && series.some((s) => s.values.some((v) => v !== null)) && hidden.some((row) => row.some(Boolean))
      ? suppressedWords(series.map((s, si) => ({ label: s.label, groups: labels.filter((_, li) => hidden[si]?.[li]) })), labels.length, `${(props.groupTitle ?? 'Group').toLowerCase()} groups`, false)
      : '';
  const marksNote = marksSentence(marks, labels, series, format);
  const notesId = useId();
  return (
    <figure className="chart">
      <figcaption className="chart-title">{props.title}</figcaption>
      {series.every((s) => s.values.every((v) => v === null)) && <p className="hint">Nothing to draw for this period: every value is suppressed or there is none yet.</p>}
      <div className="chart-canvas" style={{ height: props.height ?? 260 }}>
        <canvas ref={canvas} role="img" aria-label={`${props.title}. ${props.summary}`} {...(marksNote ? { 'aria-describedby': notesId } : {})} />
      </div>
      {hatched && (
        <p className="hint chart-suppressed-key">
          <span className="hatch-swatch" aria-hidden="true" /> Hatched bars are suppressed (small numbers): they have no value, and are drawn the length of the scale so as not to look like 0.
        </p>
      )}
      {lineGaps && <p className="hint chart-suppressed-key">A gap in the line is not a 0.{lineGaps}</p>}
      {marksNote && (
        <p className="hint chart-marks" id={notesId}>
          {marksNote}
        </p>
      )}
      <details className="chart-data">
        <summary>Show the data of “{props.title}”</summary>
        <div className="table-scroll" role="region" aria-label={`${props.title}: data`} tabIndex={0}>
          <table>
            <thead>
              <tr>
                <th scope="col">{props.groupTitle ?? 'Group'}</th>
                {series.map((s) => (
                  <th scope="col" key={s.label}>
                    {s.label}
                  </th>
                ))}
              </tr>
            </thead>
            <tbody>
              {labels.map((l, li) => (
                <tr key={l}>
                  <th scope="row">{l}</th>
                  {series.map((s, si) => {
                    const v = s.values[li];
                    const mark = marks[si]?.[li];
                    if (v === null || v === undefined) return <td key={s.label}>{missing(si, li)}</td>;
                    return <td key={s.label}>{mark ? <MarkedValue mark={mark} /> : format(v)}</td>;
                  })}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}

/** A marked value's words in place of its number, the symbol hidden from screen readers (the words say it), with why. */
export function MarkedValue({ mark, className }: { mark: ValueMark; className?: string }) {
  return (
    <span className={className ?? 'marked-value'}>
      <span aria-hidden="true">{mark.symbol} </span>
      {mark.text}
      <span className="visually-hidden"> ({mark.detail})</span>
    </span>
  );
}

/**
 * The marked values in words, under the chart: for each mark, what it reads, where the value is drawn
 * and which values: "‡ Under 100% (not all, …), drawn at 99%: Domestic abuse (Reoffending within 6 months)". Empty when none.
 */
function marksSentence(marks: (ValueMark | null)[][], labels: string[], series: Series[], format: (value: number) => string): string {
  const byText = new Map<string, { mark: ValueMark; drawnAt: Set<string>; where: string[] }>();
  marks.forEach((row, si) =>
    row.forEach((mark, li) => {
      const value = series[si]?.values[li];
      if (!mark || value === null || value === undefined) return;
      const entry = byText.get(mark.text) ?? { mark, drawnAt: new Set<string>(), where: [] };
      entry.drawnAt.add(format(value));
      entry.where.push(series.length > 1 ? `${labels[li]} (${series[si]?.label})` : (labels[li] as string));
      byText.set(mark.text, entry);
    }),
  );
  return [...byText.values()].map(({ mark, drawnAt, where }) => `${mark.symbol} ${mark.text} (${mark.detail}), drawn at ${[...drawnAt].join(' or ')}: ${where.join('; ')}.`).join(' ');
}
