/**
 * Plain-text helpers shared by the offline evaluator and the command classifier: one tokenizer, one
 * stop-word list and one light stemmer, so both read text the same way.
 */

export const STOP_WORDS: ReadonlySet<string> = new Set(
  (
    'a about above after again all also am an and any are as at be been before being below between both but by ' +
    'can could did do does doing down during each few for from further had has have having he her here hers him ' +
    'his how i if in into is it its itself just let lets me might may more most must my myself no nor not now of ' +
    'off on once only or other our ours out over own please same shall she should so some such than that the ' +
    'their theirs them then there these they this those through to too under until up us very was we were what ' +
    'when where which while who whom why will with within without would yes you your yours yourself'
  ).split(' '),
);

const SUFFIXES: readonly [string, string][] = [
  ['ational', 'ate'],
  ['ization', 'ize'],
  ['isation', 'ize'],
  ['ations', ''],
  ['ation', ''],
  ['ments', ''],
  ['ment', ''],
  ['ness', ''],
  ['ities', ''],
  ['ity', ''],
  ['ingly', ''],
  ['ings', ''],
  ['ing', ''],
  ['ies', 'y'],
  ['ied', 'y'],
  ['ers', ''],
  ['er', ''],
  ['ed', ''],
  ['es', ''],
  ['ly', ''],
  ['s', ''],
];
// Stems shorter than this are too ambiguous to keep ("us", "is").
const MIN_STEM_LENGTH = 3;

/**
 * Light stemming: drops one common suffix, a doubled final consonant and a final "e", so "computing",
 * "computers", "computed" and "compute" all give "comput".
 */
export function stemWord(word: string): string {
  let stem = word;
  for (const [suffix, replacement] of SUFFIXES) {
    // "ss", "is" and "us" endings are word stems (class, analysis, status), not plurals.
    if (suffix === 's' && /(?:ss|is|us)$/.test(stem)) break;
    if (stem.endsWith(suffix) && stem.length - suffix.length >= MIN_STEM_LENGTH) {
      stem = stem.slice(0, -suffix.length) + replacement;
      break;
    }
  }
  if (/([b-df-hj-km-np-rtv-z])\1$/.test(stem) && !/(?:ll|ss|zz)$/.test(stem)) stem = stem.slice(0, -1);
  if (stem.endsWith('e') && stem.length - 1 >= MIN_STEM_LENGTH) stem = stem.slice(0, -1);
  // British and American spellings share a stem (analyse/analyze, organise/organize); analysis joins them.
  return stem.replace(/ysis$/, 'ys').replace(/([iy])z$/, '$1s');
}

/** Lower-cased words of two or more letters, without @mentions and stop words (not stemmed). */
export function tokenizeWords(text: string): string[] {
  return text
    .toLowerCase()
    .replace(/@[\p{L}\p{N}_.-]+/gu, ' ')
    .split(/[^\p{L}\p{N}]+/u)
    .filter((token) => token.length >= 2 && !STOP_WORDS.has(token));
}
