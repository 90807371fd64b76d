/**
 * Links in agent output: http(s) and same-origin relative ones only. Anything else (javascript:, data:,
 * mailto:, a scheme hidden behind control characters) is no link at all.
 */
export function sanitizeHref(raw: string): string | null {
  // Browsers ignore control characters and whitespace inside a scheme ("java\tscript:"), so drop them first.
  let cleaned = '';
  for (const char of raw) {
    const code = char.charCodeAt(0);
    if (code > 32 && code !== 127) cleaned += char;
  }
  if (cleaned === '') return null;
  if (/^https?:/i.test(cleaned)) return cleaned;
  // A backslash counts as a slash in URLs: "/\\evil.example" is another host too.
  if (/^[/\\]{2}/.test(cleaned)) return cleaned;
  const schemeEnd = cleaned.search(/[:/?#]/);
  if (schemeEnd !== -1 && cleaned.charAt(schemeEnd) === ':') return null;
  return cleaned;
}
