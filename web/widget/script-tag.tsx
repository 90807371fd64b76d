/**
 * The script-tag build of the feedback widget (dist/widget/merit-feedback.js, served by Merit at
 * /widget/merit-feedback.js): mounts a widget into every
 * `<div data-merit-feedback data-task-id data-base-url data-key [data-user-id] [data-title]>`, now and as
 * such elements are added later, each inside a shadow root so the host page's styles and ours do not mix.
 */
import { createRoot, type Root } from 'react-dom/client';
import { MeritFeedbackWidget } from './merit-feedback-widget.js';

const SELECTOR = '[data-merit-feedback]';
const mounted = new WeakMap<Element, Root>();

/** Mounts the widget into one element from its data attributes; false when a required one is missing. */
export function mountFeedbackWidget(element: HTMLElement): boolean {
  if (mounted.has(element)) return true;
  const { taskId, baseUrl, key, userId, title } = element.dataset;
  if (!taskId || !key) {
    console.warn('[merit] data-merit-feedback needs data-task-id and data-key', element);
    return false;
  }
  // Without data-base-url the widget posts to the Merit that served this script.
  const base = baseUrl || scriptOrigin;
  if (!base) {
    console.warn('[merit] data-merit-feedback needs data-base-url', element);
    return false;
  }
  const root = createRoot(element.shadowRoot ?? element.attachShadow({ mode: 'open' }));
  mounted.set(element, root);
  const done = (name: string, detail: unknown) =>
    element.dispatchEvent(new CustomEvent(name, { detail, bubbles: true, composed: true }));
  root.render(
    <MeritFeedbackWidget
      taskId={taskId}
      baseUrl={base}
      apiKey={key}
      {...(userId ? { userId } : {})}
      {...(title ? { title } : {})}
      onRated={(rating, feedback) => done('merit-feedback:rated', { taskId, rating, feedback })}
      onDismiss={() => done('merit-feedback:dismissed', { taskId })}
    />,
  );
  return true;
}

function mountAll(scope: ParentNode): void {
  for (const element of scope.querySelectorAll<HTMLElement>(SELECTOR)) mountFeedbackWidget(element);
}

const scriptOrigin =
  document.currentScript instanceof HTMLScriptElement ? new URL(document.currentScript.src).origin : '';

if (document.readyState === 'loading')
  document.addEventListener('DOMContentLoaded', () => mountAll(document));
else mountAll(document);

// Host apps that render results later (a chat, a SPA) get widgets without calling anything.
new MutationObserver((records) => {
  for (const record of records) {
    for (const node of record.addedNodes) {
      if (!(node instanceof HTMLElement)) continue;
      if (node.matches(SELECTOR)) mountFeedbackWidget(node);
      mountAll(node);
    }
  }
}).observe(document.documentElement, { childList: true, subtree: true });

declare global {
  interface Window {
    MeritFeedback?: { mount: typeof mountFeedbackWidget };
  }
}
window.MeritFeedback = { mount: mountFeedbackWidget };
