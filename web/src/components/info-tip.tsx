import { type ReactNode, useId, useState } from 'react';

/**
 * A small "?" that explains a term: the text shows on hover (title) and, for keyboard and touch users,
 * in a note toggled by the button.
 */
export function InfoTip({ label, children }: { label: string; children: string | ReactNode }) {
  const id = useId();
  const [open, setOpen] = useState(false);
  const text = typeof children === 'string' ? children : undefined;
  return (
    <span className="info-tip">
      <button
        type="button"
        className="info-tip-button"
        aria-expanded={open}
        aria-controls={id}
        aria-label={label}
        title={text}
        onClick={() => setOpen((value) => !value)}
        data-testid="info-tip"
      >
        ?
      </button>
      <span id={id} className="info-tip-text" role="note" hidden={!open}>
        {children}
      </span>
    </span>
  );
}
