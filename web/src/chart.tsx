import { useEffect, useRef } from 'react';
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
} from 'chart.js';

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
}

/** What the canvas shows (a chart is redrawn when this changes). */
type Drawn = Pick<ChartProps, 'kind' | 'labels' | 'series' | 'yTitle' | 'yMin' | 'yMax' | 'percent' | 'horizontal'>;

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
  // Callers build fresh arrays on every render: redraw only when what is drawn changes, from that.
  const drawn = JSON.stringify({ kind, labels, series, yTitle, yMin, yMax, percent, horizontal } satisfies Drawn);

  useEffect(() => {
    if (!canvas.current) return;
    const { kind, labels, series, yTitle, yMin, yMax, percent, horizontal } = JSON.parse(drawn) as Drawn;
    const valueAxis = horizontal ? 'x' : 'y';
    const config: ChartConfiguration<'line' | 'bar', (number | null)[], string> = {
      type: kind,
      data: {
        labels,
        datasets: series.map((s, i) => {
          const colour = SERIES_COLOURS[i % SERIES_COLOURS.length] as string;
          return {
            label: s.label,
            data: s.values,
            borderColor: colour,
            backgroundColor: kind === 'bar' ? colour : `${colour}22`,
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
        plugins: {
          legend: { display: series.length > 1, labels: { usePointStyle: true } },
          tooltip: { callbacks: { label: (ctx) => `${ctx.dataset.label}: ${ctx.raw === null ? 'no value' : formatRef.current(Number(ctx.raw))}` } },
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
    const chart = new Chart(canvas.current, config as ChartConfiguration);
    return () => chart.destroy();
  }, [drawn]);

  const missing = props.missing ?? (() => '–');
  return (
    <figure className="chart">
      <figcaption className="chart-title">{props.title}</figcaption>
      {series.every((s) => s.values.every((v) => v === null)) && <p className="hint">Nothing to draw for this period: every value is suppressed or there is none yet.</p>}
      <div className="chart-canvas" style={{ height: props.height ?? 260 }}>
        <canvas ref={canvas} role="img" aria-label={`${props.title}. ${props.summary}`} />
      </div>
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
                    return <td key={s.label}>{v === null || v === undefined ? missing(si, li) : format(v)}</td>;
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
