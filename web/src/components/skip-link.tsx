/**
 * "Skip to …" for keyboard users: moves focus without touching the hash, which holds the app's route.
 * Hidden until focused.
 */
export function SkipLink({ targetId, children }: { targetId: string; children: string }) {
  return (
    <a
      className="skip-link"
      href={`#${targetId}`}
      onClick={(event) => {
        event.preventDefault();
        const target = document.getElementById(targetId);
        if (!target) return;
        if (!target.hasAttribute('tabindex')) target.setAttribute('tabindex', '-1');
        target.focus();
        target.scrollIntoView({ block: 'start' });
      }}
      data-testid={`skip-${targetId}`}
    >
      {children}
    </a>
  );
}
