import type { ReactNode } from 'react';

/**
 * A table wrapper that scrolls sideways when the table is wider than the screen (a phone), so the page
 * itself never does. A region that scrolls must be reachable by keyboard (axe: scrollable-region-focusable).
 */
export function ScrollRegion({ label, children }: { label: string; children: ReactNode }) {
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrolling region is scrolled with the keyboard once focused
    <section className="table-wrap" aria-label={label} tabIndex={0}>
      {children}
    </section>
  );
}
