/**
 * Fences untrusted text (a user's command, an agent's answer, a user-written category) inside a prompt.
 * The tags carry a random boundary drawn for each call, so the text cannot close them by guessing; tags in
 * the text that look like the fence (any case, with or without a boundary) are escaped anyway, so a
 * reader of the prompt never sees two fences.
 */
import { randomBytes } from 'node:crypto';

export interface FencedText {
  /** The tag name, e.g. `command-3f9c0a1be2d45c76`: cite it in the instructions. */
  tag: string;
  /** `<tag>`, the escaped text, `</tag>`, on their own lines. */
  fenced: string;
}

/** A fresh boundary: 64 random bits, hex. */
export function drawFenceBoundary(): string {
  return randomBytes(8).toString('hex');
}

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** `label` names what is fenced (lower-case letters, digits and dashes). */
export function fenceUntrustedText(label: string, text: string, boundary = drawFenceBoundary()): FencedText {
  if (!/^[a-z][a-z0-9-]*$/.test(label)) throw new Error(`fence label must be lower-case words: ${label}`);
  const tag = `${label}-${boundary}`;
  // Any `<label`, `</label`, `< / LABEL-...` in the text loses its opening bracket.
  const lookAlike = new RegExp(`<(?=\\s*/?\\s*${escapeRegExp(label)})`, 'gi');
  return { tag, fenced: `<${tag}>\n${text.replace(lookAlike, '&lt;')}\n</${tag}>` };
}
