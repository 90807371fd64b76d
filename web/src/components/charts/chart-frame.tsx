import type { ReactNode } from 'react';

export interface ChartFrameProps {
  testId: string;
  title: string;
  /** A sentence summarising the data for screen readers. */
  summary: string;
  width: number;
  height: number;
  empty: boolean;
  emptyText: string;
  legend?: ReactNode;
  children: ReactNode;
}

/** A captioned figure holding an accessible SVG chart (role="img", aria-label, <title>), or a note when empty. */
export function ChartFrame({
  testId,
  title,
  summary,
  width,
  height,
  empty,
  emptyText,
  legend,
  children,
}: ChartFrameProps) {
  return (
    <figure className="chart" data-testid={testId} data-empty={empty ? 'true' : undefined}>
      <figcaption className="chart-caption">{title}</figcaption>
      {empty ? (
        <p className="chart-empty">{emptyText}</p>
      ) : (
        <>
          <svg viewBox={`0 0 ${width} ${height}`} role="img" aria-label={`${title}. ${summary}`}>
            <title>{title}</title>
            <desc>{summary}</desc>
            {children}
          </svg>
          {legend}
        </>
      )}
    </figure>
  );
}
