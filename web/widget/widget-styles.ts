/**
 * The widget's own styles: it lives on other sites (inside a shadow root for the script tag), so it brings
 * them. They style FeedbackForm's classes (the ones Mission Control's styles.css styles too), only inside
 * the widget's `.merit-fb` root, so a host page that renders the React component keeps its own rules.
 */
export const WIDGET_CSS = `
.merit-fb { position: relative; box-sizing: border-box; max-width: 28rem; padding: 0.75rem 2rem 0.75rem 0.75rem;
  border: 1px solid #d0d5dd; border-radius: 0.5rem; background: #fff; color: #1d2939;
  font: 14px/1.4 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; }
.merit-fb * { box-sizing: border-box; }
.merit-fb .feedback { display: flex; flex-direction: column; gap: 0.5rem; }
.merit-fb .feedback-collapsed, .merit-fb .feedback-rated { flex-direction: row; align-items: center; flex-wrap: wrap; }
.merit-fb .stars-fieldset { border: 0; margin: 0; padding: 0; min-width: 0; }
.merit-fb .feedback-label { padding: 0; margin-bottom: 0.25rem; font-weight: 600; }
.merit-fb .feedback-row, .merit-fb .feedback-actions { display: flex; align-items: center; gap: 0.5rem; flex-wrap: wrap; }
.merit-fb .stars { display: inline-flex; }
.merit-fb .star-input { position: absolute; opacity: 0; width: 1px; height: 1px; margin: 0; }
.merit-fb .star { cursor: pointer; font-size: 1.5rem; line-height: 1; padding: 0 0.1rem; color: #98a2b3; }
.merit-fb .star-on, .merit-fb .stars-static { color: #b54708; }
.merit-fb .star-off { color: #98a2b3; }
.merit-fb .star-input:focus-visible + .star { outline: 2px solid #2563eb; outline-offset: 2px; border-radius: 0.25rem; }
.merit-fb .rating-word, .merit-fb .feedback-quote { color: #475467; }
.merit-fb .feedback-summary { display: inline-flex; gap: 0.5rem; align-items: center; }
.merit-fb textarea { display: block; width: 100%; padding: 0.4rem; border: 1px solid #d0d5dd;
  border-radius: 0.375rem; font: inherit; resize: vertical; }
.merit-fb .button { padding: 0.35rem 0.8rem; border: 0; border-radius: 0.375rem; background: #2563eb; color: #fff;
  font: inherit; cursor: pointer; }
.merit-fb .button:disabled { opacity: 0.6; cursor: default; }
.merit-fb .link-button { padding: 0; border: 0; background: none; color: #1d4ed8; font: inherit; text-decoration: underline; cursor: pointer; }
.merit-fb .feedback-close { position: absolute; top: 0.25rem; right: 0.4rem; border: 0; background: none; font-size: 1.25rem;
  line-height: 1; color: #475467; cursor: pointer; }
.merit-fb button:focus-visible, .merit-fb textarea:focus-visible { outline: 2px solid #2563eb; outline-offset: 2px; }
.merit-fb .feedback-message { margin: 0; }
.merit-fb .tone-error { color: #b42318; }
.merit-fb .tone-success { color: #067647; }
.merit-fb .tone-info { color: #475467; }
.merit-fb .visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;
