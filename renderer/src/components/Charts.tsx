// Small inline-SVG charts: a picture where it reads faster than numbers, without a chart library.
import { formatBytes, formatRate } from '../lib/format';

/** Throughput over the last samples; the newest sample is at the right edge. */
export function Sparkline({ samples, width = 220, height = 36 }: { samples: number[]; width?: number; height?: number }) {
  if (samples.length < 2) {
    return (
      <div className="sparkline-empty muted" data-testid="sparkline" data-samples={samples.length}>
        collecting throughput…
      </div>
    );
  }
  const peak = Math.max(...samples);
  // Until a byte has moved there is no throughput to show: no "peak 1 B/s" from a flat line of zeros.
  if (peak <= 0) {
    return (
      <div className="sparkline-empty muted" data-testid="sparkline" data-samples={samples.length}>
        waiting for the first bytes…
      </div>
    );
  }
  const step = width / (samples.length - 1);
  const y = (v: number) => height - 2 - (v / peak) * (height - 4);
  const points = samples.map((v, i) => `${(i * step).toFixed(1)},${y(v).toFixed(1)}`).join(' ');
  const last = samples.at(-1) ?? 0;
  return (
    <figure className="sparkline" data-testid="sparkline" data-samples={samples.length}>
      <svg width={width} height={height} viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`Throughput, now ${formatRate(last)}, peak ${formatRate(peak)}`}>
        <polygon className="spark-area" points={`0,${height} ${points} ${width},${height}`} />
        <polyline className="spark-line" points={points} fill="none" />
      </svg>
      <figcaption>
        <span>now {formatRate(last)}</span>
        <span className="muted" data-testid="sparkline-peak">peak {formatRate(peak)}</span>
      </figcaption>
    </figure>
  );
}

export interface Bar {
  key: string;
  label: string;
  value: number;
  title?: string;
  className?: string;
}

/** Vertical bars (oldest left), scaled to the largest; each bar's title gives its exact value. */
export function BarChart({
  bars,
  height = 60,
  format = formatBytes,
  testId,
  legend,
}: {
  bars: Bar[];
  height?: number;
  format?: (n: number) => string;
  testId?: string;
  legend?: { className: string; label: string }[];
}) {
  if (bars.length === 0) return null;
  const max = Math.max(...bars.map((b) => b.value), 1);
  const barW = 26;
  const gap = 8;
  const width = bars.length * (barW + gap);
  return (
    <figure className="bar-chart" data-testid={testId}>
      <svg width={width} height={height + 14} viewBox={`0 0 ${width} ${height + 14}`} role="img" aria-label={`${bars.length} bars, largest ${format(max)}`}>
        {bars.map((b, i) => {
          const h = Math.max(1, (b.value / max) * height);
          return (
            <g key={b.key}>
              <rect className={`bar ${b.className ?? ''}`} x={i * (barW + gap)} y={height - h} width={barW} height={h} rx={2} data-value={b.value}>
                <title>{b.title ?? `${b.label}: ${format(b.value)}`}</title>
              </rect>
              <text className="bar-label" x={i * (barW + gap) + barW / 2} y={height + 11} textAnchor="middle">
                {b.label}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption className="muted">
        <div>largest {format(max)}</div>
        {legend?.map((l) => (
          <div key={l.className} className="legend-item">
            <span className={`legend-swatch ${l.className}`} /> {l.label}
          </div>
        ))}
      </figcaption>
    </figure>
  );
}

/** A horizontal progress bar with an accessible value. */
export function ProgressBar({ percent, label, className }: { percent: number; label?: string; className?: string }) {
  const pct = Number.isFinite(percent) ? Math.max(0, Math.min(100, percent)) : 0;
  return (
    <div className={`progress ${className ?? ''}`} role="progressbar" aria-label={label} aria-valuenow={Math.round(pct * 10) / 10} aria-valuemin={0} aria-valuemax={100}>
      <div className="progress-fill" style={{ width: `${pct}%` }} />
    </div>
  );
}
