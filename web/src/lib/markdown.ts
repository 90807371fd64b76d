/**
 * A small Markdown parser for agent results. It produces a tree of plain values that a React component
 * renders, so no string from a result is ever interpreted as HTML: raw tags stay visible text.
 * Supported: ATX headings, paragraphs, unordered/ordered lists, fenced code, blockquotes, rules,
 * inline code, bold, italic, links (http, https, mailto and relative only).
 */

export type Inline =
  | { type: 'text'; text: string }
  | { type: 'code'; text: string }
  | { type: 'strong'; children: Inline[] }
  | { type: 'em'; children: Inline[] }
  | { type: 'link'; href: string; children: Inline[] }
  | { type: 'break' };

export type Block =
  | { type: 'heading'; level: 1 | 2 | 3 | 4 | 5 | 6; children: Inline[] }
  | { type: 'paragraph'; children: Inline[] }
  | { type: 'list'; ordered: boolean; start: number; items: Inline[][] }
  | { type: 'code'; language: string; text: string }
  | { type: 'quote'; children: Block[] }
  | { type: 'rule' };

const FENCE = /^\s*(```|~~~)\s*([\w+-]*)\s*$/;
const HEADING = /^(#{1,6})\s+(.*?)\s*#*\s*$/;
const RULE = /^\s*([-*_])(\s*\1){2,}\s*$/;
const BULLET = /^\s*[-*+]\s+(.*)$/;
const ORDERED = /^\s*(\d{1,9})[.)]\s+(.*)$/;
const QUOTE = /^\s*>\s?(.*)$/;

/** Returns the href when it is safe to link to, else null (blocks javascript:, data: and the like). */
export function sanitizeHref(raw: string): string | null {
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:"), so drop them first.
  let cleaned = '';
  for (const char of raw) {
    const code = char.charCodeAt(0);
    if (code > 32 && code !== 127) cleaned += char;
  }
  if (cleaned === '') return null;
  if (/^(https?:|mailto:)/i.test(cleaned)) return cleaned;
  const schemeEnd = cleaned.search(/[:/?#]/);
  if (schemeEnd !== -1 && cleaned.charAt(schemeEnd) === ':') return null;
  return cleaned;
}

function findClosing(text: string, delimiter: string, from: number): number {
  let index = text.indexOf(delimiter, from);
  while (index !== -1) {
    const inner = text.slice(from, index);
    const escaped = text.charAt(index - 1) === '\\';
    // A single * must not be the first half of a ** (that belongs to a bold run).
    const doubled = delimiter.length === 1 && text.charAt(index + 1) === delimiter;
    if (inner.trim() !== '' && !escaped && !doubled) {
      // In `***`, the closing pair is the last two characters (the first one closes an inner emphasis).
      while (delimiter.length === 2 && text.charAt(index + 2) === delimiter.charAt(0)) index += 1;
      return index;
    }
    index = text.indexOf(delimiter, index + (doubled ? 2 : 1));
  }
  return -1;
}

export function parseInline(text: string): Inline[] {
  const nodes: Inline[] = [];
  let buffer = '';
  const flush = () => {
    if (buffer !== '') nodes.push({ type: 'text', text: buffer });
    buffer = '';
  };
  let i = 0;
  while (i < text.length) {
    const char = text.charAt(i);
    const rest = text.slice(i);
    if (char === '\\' && i + 1 < text.length && /[\\`*_[\]()#+\-.!>~|]/.test(text.charAt(i + 1))) {
      buffer += text.charAt(i + 1);
      i += 2;
      continue;
    }
    if (char === '\n') {
      flush();
      nodes.push({ type: 'break' });
      i += 1;
      continue;
    }
    if (char === '`') {
      const close = text.indexOf('`', i + 1);
      if (close > i + 1) {
        flush();
        nodes.push({ type: 'code', text: text.slice(i + 1, close) });
        i = close + 1;
        continue;
      }
    }
    if (rest.startsWith('**') || rest.startsWith('__')) {
      const delimiter = rest.slice(0, 2);
      const close = findClosing(text, delimiter, i + 2);
      if (close !== -1) {
        flush();
        nodes.push({ type: 'strong', children: parseInline(text.slice(i + 2, close)) });
        i = close + 2;
        continue;
      }
    }
    if ((char === '*' || char === '_') && !rest.startsWith(char + char)) {
      // An underscore inside a word (snake_case) is not emphasis.
      const wordBefore = char === '_' && i > 0 && /\w/.test(text.charAt(i - 1));
      const close = wordBefore ? -1 : findClosing(text, char, i + 1);
      const wordAfter = close !== -1 && char === '_' && /\w/.test(text.charAt(close + 1));
      if (close !== -1 && !wordAfter && text.charAt(i + 1) !== ' ') {
        flush();
        nodes.push({ type: 'em', children: parseInline(text.slice(i + 1, close)) });
        i = close + 1;
        continue;
      }
    }
    if (char === '[') {
      const match = /^\[([^\]]+)\]\(\s*([^)\s]+)(?:\s+"[^"]*")?\s*\)/.exec(rest);
      if (match?.[1] !== undefined && match[2] !== undefined) {
        const href = sanitizeHref(match[2]);
        flush();
        if (href === null) nodes.push(...parseInline(match[1]));
        else nodes.push({ type: 'link', href, children: parseInline(match[1]) });
        i += match[0].length;
        continue;
      }
    }
    if (rest.startsWith('http://') || rest.startsWith('https://')) {
      const match = /^https?:\/\/[^\s<>()]+[^\s<>().,;:!?'"]/.exec(rest);
      if (match && (i === 0 || /\s|\(/.test(text.charAt(i - 1)))) {
        flush();
        nodes.push({ type: 'link', href: match[0], children: [{ type: 'text', text: match[0] }] });
        i += match[0].length;
        continue;
      }
    }
    buffer += char;
    i += 1;
  }
  flush();
  return nodes;
}

function isBlockStart(line: string): boolean {
  return (
    FENCE.test(line) ||
    HEADING.test(line) ||
    RULE.test(line) ||
    BULLET.test(line) ||
    ORDERED.test(line) ||
    QUOTE.test(line)
  );
}

export function parseMarkdown(source: string): Block[] {
  const lines = source.replace(/\r\n?/g, '\n').split('\n');
  const blocks: Block[] = [];
  let i = 0;
  while (i < lines.length) {
    const line = lines[i] as string;
    if (line.trim() === '') {
      i += 1;
      continue;
    }
    const fence = FENCE.exec(line);
    if (fence) {
      const marker = fence[1] as string;
      const body: string[] = [];
      i += 1;
      while (i < lines.length && (lines[i] as string).trim() !== marker) {
        body.push(lines[i] as string);
        i += 1;
      }
      i += 1;
      blocks.push({ type: 'code', language: fence[2] ?? '', text: body.join('\n') });
      continue;
    }
    const heading = HEADING.exec(line);
    if (heading) {
      const level = (heading[1] as string).length as 1 | 2 | 3 | 4 | 5 | 6;
      blocks.push({ type: 'heading', level, children: parseInline(heading[2] ?? '') });
      i += 1;
      continue;
    }
    if (RULE.test(line)) {
      blocks.push({ type: 'rule' });
      i += 1;
      continue;
    }
    if (QUOTE.test(line)) {
      const body: string[] = [];
      while (i < lines.length && QUOTE.test(lines[i] as string)) {
        body.push(QUOTE.exec(lines[i] as string)?.[1] ?? '');
        i += 1;
      }
      blocks.push({ type: 'quote', children: parseMarkdown(body.join('\n')) });
      continue;
    }
    const ordered = ORDERED.exec(line);
    if (ordered || BULLET.test(line)) {
      const pattern = ordered ? ORDERED : BULLET;
      const items: string[] = [];
      while (i < lines.length) {
        const current = lines[i] as string;
        const item = pattern.exec(current);
        if (item) {
          items.push((ordered ? item[2] : item[1]) ?? '');
        } else if (current.trim() !== '' && /^\s+/.test(current) && items.length > 0) {
          // An indented line continues the previous item.
          items[items.length - 1] += `\n${current.trim()}`;
        } else {
          break;
        }
        i += 1;
      }
      blocks.push({
        type: 'list',
        ordered: ordered !== null,
        start: ordered ? Number(ordered[1]) : 1,
        items: items.map((item) => parseInline(item)),
      });
      continue;
    }
    const paragraph: string[] = [line.trim()];
    i += 1;
    while (i < lines.length && (lines[i] as string).trim() !== '' && !isBlockStart(lines[i] as string)) {
      paragraph.push((lines[i] as string).trim());
      i += 1;
    }
    blocks.push({ type: 'paragraph', children: parseInline(paragraph.join('\n')) });
  }
  return blocks;
}
