// Charts drawn as plain SVG (a chart library would outweigh the whole desk): bars per day with
// a scale, and horizontal bars for shares. Each chart carries its numbers as an accessible
// table for screen readers; colours come from the Telegram theme.
import { bars, labelIndexes, ticks } from './logic';

const W = 336;
const H = 150;
const LEFT = 48;
const BOTTOM = 18;
const TOP = 6;

export function DayBars({
  title,
  labels,
  values,
  format,
  integer = false,
  testId,
}: {
  title: string;
  labels: string[];
  values: number[];
  /** Axis and table text for a value. */
  format: (v: number) => string;
  integer?: boolean;
  testId: string;
}) {
  const scale = ticks(Math.max(0, ...values), 4, integer);
  const top = scale[scale.length - 1] ?? 1;
  const plotW = W - LEFT;
  const plotH = H - BOTTOM - TOP;
  const rects = bars(values, plotW, plotH, top);
  const shown = labelIndexes(labels.length, 6);
  return (
    <figure className="desk-chart" data-testid={testId}>
      <figcaption className="strong">{title}</figcaption>
      <svg viewBox={`0 0 ${W} ${H}`} width="100%" role="img" aria-label={title}>
        {scale.map((v) => {
          const y = TOP + plotH - (v / top) * plotH;
          return (
            <g key={v}>
              <line x1={LEFT} x2={W} y1={y} y2={y} className="grid-line" />
              <text x={LEFT - 4} y={y + 3} textAnchor="end" className="axis">
                {format(v)}
              </text>
            </g>
          );
        })}
        {rects.map((r, i) => (
          <rect
            key={labels[i] ?? i}
            x={LEFT + r.x}
            y={TOP + r.y}
            width={r.width}
            height={r.height}
            rx={Math.min(3, r.width / 2)}
            className="bar"
          >
            <title>{`${labels[i] ?? ''}: ${format(values[i] ?? 0)}`}</title>
          </rect>
        ))}
        {shown.map((i) => {
          // The first and last labels are aligned to their bar's outer edge, so they stay inside.
          const r = rects[i];
          const edge = i === 0 && shown.length > 1 ? 'start' : i === labels.length - 1 && shown.length > 1 ? 'end' : 'middle';
          const x = LEFT + (r ? (edge === 'start' ? r.x : edge === 'end' ? r.x + r.width : r.x + r.width / 2) : 0);
          return (
            <text key={i} x={x} y={H - 4} textAnchor={edge} className="axis">
              {labels[i]}
            </text>
          );
        })}
      </svg>
      <table className="sr-only">
        <caption>{title}</caption>
        <tbody>
          {labels.map((l, i) => (
            <tr key={l}>
              <th scope="row">{l}</th>
              <td>{format(values[i] ?? 0)}</td>
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}

/** A horizontal bar: `share` (0…1) of the row's width (decoration: the numbers are in text). */
export function ShareBar({ share }: { share: number }) {
  const pct = Math.max(0, Math.min(1, share)) * 100;
  return (
    <div className="desk-sharebar" aria-hidden="true">
      <div style={{ width: `${pct > 0 ? Math.max(pct, 1.5) : 0}%` }} />
    </div>
  );
}
