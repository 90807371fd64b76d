/**
 * A deterministic evaluator that needs no LLM. It measures only what text statistics can show:
 * - relevance: how many of the command's key terms (stemmed, stop words and the @mention removed) the
 *   output uses and how much of the output mentions them, times its substance (content terms of its
 *   own beyond the command's, against the category's expectation), so echoing the command scores 0;
 * - completeness: key-term coverage, informative length (word trigrams said once, so repeated text
 *   does not count twice) against the category's expectation, structure (headings, lists,
 *   paragraphs) and a closing summary where the category calls for them;
 * - both times an originality factor: an output whose word trigrams are mostly repeats (keyword
 *   stuffing, pasted loops) loses in proportion;
 * - accuracy: only against a reference answer (share of its key terms the output contains), else null,
 *   because correctness cannot be read off the text.
 */
import { stemWord, tokenizeWords } from '../lib/text.js';
import { roundTo } from './scores.js';

export type CategoryExpectation = {
  /** Below this many words the output is considered short. */
  minWords: number;
  /** A typical good length; more than 4x this is treated as padding. */
  idealWords: number;
  wantsStructure: boolean;
  wantsConclusion: boolean;
};

export const DEFAULT_EXPECTATION: CategoryExpectation = {
  minWords: 60,
  idealWords: 300,
  wantsStructure: false,
  wantsConclusion: false,
};

/** Expectations per objective category; unknown categories use DEFAULT_EXPECTATION. */
export const CATEGORY_EXPECTATIONS: Readonly<Record<string, CategoryExpectation>> = {
  research: { minWords: 200, idealWords: 600, wantsStructure: true, wantsConclusion: true },
  analysis: { minWords: 200, idealWords: 500, wantsStructure: true, wantsConclusion: true },
  planning: { minWords: 120, idealWords: 400, wantsStructure: true, wantsConclusion: true },
  writing: { minWords: 150, idealWords: 500, wantsStructure: false, wantsConclusion: true },
  coding: { minWords: 40, idealWords: 200, wantsStructure: false, wantsConclusion: false },
  summarization: { minWords: 50, idealWords: 200, wantsStructure: false, wantsConclusion: false },
  question: { minWords: 20, idealWords: 120, wantsStructure: false, wantsConclusion: false },
};

const CATEGORY_ALIASES: Record<string, string> = {
  code: 'coding',
  summary: 'summarization',
  summarisation: 'summarization',
  qa: 'question',
  plan: 'planning',
};

export type OfflineEvaluationInput = {
  command: string;
  result: string | null;
  status?: 'completed' | 'failed';
  category?: string | null;
  referenceAnswer?: string | null;
  /** Overrides the category's expectation. */
  expectation?: CategoryExpectation;
};

export type OfflineEvaluation = {
  accuracy: number | null;
  /** Null when the command has no topical terms to look for (e.g. "@bob hi"). */
  relevance: number | null;
  completeness: number;
  reasoning: string;
  source: 'heuristic';
  evaluatorVersion: typeof HEURISTIC_EVALUATOR_VERSION;
};

/** The raw measurements behind the heuristic scores (also used by offline peer reviews). */
export type OutputSignals = {
  usable: boolean;
  unusableReason: string | null;
  words: number;
  /** Words that add information: distinct word trigrams + 2 (all the words when none repeats). */
  informativeWords: number;
  /** Share of the output's word trigrams that occur once in it (1 for text without repeats). */
  originality: number;
  /** Distinct content terms of the output that are neither command terms nor instruction words. */
  ownTerms: number;
  /** min(1, ownTerms / the category's expected own terms). */
  substance: number;
  commandTerms: string[];
  coveredTerms: string[];
  missingTerms: string[];
  /** Share of the command's key terms found in the output; null when the command has none. */
  coverage: number | null;
  /** min(1, 2 x share of output lines that mention a command term); null when the command has no terms. */
  focus: number | null;
  headings: number;
  listItems: number;
  paragraphs: number;
  hasConclusion: boolean;
  lengthScore: number;
  structureScore: number;
  /** Share of the four plan-signal groups present: numbered steps, sequencing, rationale, approach words. */
  planScore: number;
  expectation: CategoryExpectation;
  category: string | null;
};

// Version 2 penalises repetition and content-free echoes of the command.
export const HEURISTIC_EVALUATOR_VERSION = 'heuristic-2';

// Completeness weights; components the category does not ask for are left out and the rest re-normalised.
const COMPLETENESS_WEIGHTS = { coverage: 0.4, length: 0.3, structure: 0.2, conclusion: 0.1 };
// Relevance leans on coverage: using the command's terms at all is the strongest signal we have.
const RELEVANCE_WEIGHTS = { coverage: 0.7, focus: 0.3 };
// Half the lines mentioning the topic is already a focused answer (the rest elaborate).
const FOCUS_SATURATION_SHARE = 0.5;
// Up to half of the trigrams may repeat (lists, templates) before the originality factor drops below 1.
const ORIGINALITY_FLOOR = 0.5;
// One own content term is expected per this many of the category's minimum words.
const WORDS_PER_OWN_TERM = 20;
// Beyond 4x the ideal length the reader pays for padding.
const PADDING_FACTOR = 4;
const PADDED_LENGTH_SCORE = 0.8;

// Verbs and fillers that say what to do, not what about; outputs rarely repeat them.
const INSTRUCTION_WORDS = new Set(
  (
    'write create make explain describe research analyze analyse summarize summarise list give provide tell ' +
    'show find generate draft help please brief briefly detailed quick short overview outline prepare ' +
    'compose produce review look investigate'
  ).split(' '),
);

const INSTRUCTION_STEMS = new Set([...INSTRUCTION_WORDS].map(stemWord));

const CONCLUSION_HEADING =
  /^#{1,6}\s+.*\b(conclusions?|summary|takeaways?|next steps|recommendations?|verdict)\b/i;
const CONCLUSION_OPENING =
  /^(\*\*)?(in (summary|conclusion|short)|overall|to (sum up|summari[sz]e|conclude)|tl;dr|bottom line)\b/i;
const PLAN_SIGNAL_GROUPS: RegExp[] = [
  /\b(first(ly)?|then|next|finally|afterwards|step)\b/i,
  /\b(because|therefore|so that|trade-?offs?|risks?|assum(e|ption)s?|why)\b/i,
  /\b(approach|strategy|plan|options?|alternatives?|prioriti[sz]e|priority|milestones?)\b/i,
];

/** Scores an output without an LLM; failed, empty and error-message outputs score 0. */
export function evaluateOffline(input: OfflineEvaluationInput): OfflineEvaluation {
  const signals = measureOutputSignals(input);
  const accuracy = measureReferenceAgreement(input.result, input.referenceAnswer, signals.usable);
  if (!signals.usable) {
    return {
      accuracy,
      relevance: 0,
      completeness: 0,
      reasoning: `Heuristic (no LLM): ${signals.unusableReason}, so relevance and completeness are 0.`,
      source: 'heuristic',
      evaluatorVersion: HEURISTIC_EVALUATOR_VERSION,
    };
  }
  return {
    accuracy,
    relevance: scoreRelevance(signals),
    completeness: scoreCompleteness(signals),
    reasoning: describeMeasurements(signals, accuracy !== null),
    source: 'heuristic',
    evaluatorVersion: HEURISTIC_EVALUATOR_VERSION,
  };
}

export function measureOutputSignals(input: OfflineEvaluationInput): OutputSignals {
  const result = input.result ?? '';
  const category = normaliseCategory(input.category);
  const expectation =
    input.expectation ?? (category ? CATEGORY_EXPECTATIONS[category] : undefined) ?? DEFAULT_EXPECTATION;
  const commandTerms = extractKeyTerms(input.command, { dropInstructions: true });
  const resultTerms = new Set(extractKeyTerms(result, { dropInstructions: false }));
  const coveredTerms = commandTerms.filter((term) => resultTerms.has(term));
  const lines = splitLines(result);
  const words = countWords(result);
  const layout = measureLayout(result, lines);
  const repetition = measureRepetition(result);
  const ownTerms = countOwnTerms(
    resultTerms,
    new Set(extractKeyTerms(input.command, { dropInstructions: false })),
  );
  const expectedOwnTerms = Math.max(1, Math.round(expectation.minWords / WORDS_PER_OWN_TERM));
  return {
    ...detectUnusableOutput(input.status, result),
    words,
    informativeWords: repetition.informativeWords,
    originality: repetition.originality,
    ownTerms,
    substance: Math.min(1, ownTerms / expectedOwnTerms),
    commandTerms,
    coveredTerms,
    missingTerms: commandTerms.filter((term) => !resultTerms.has(term)),
    coverage: commandTerms.length === 0 ? null : coveredTerms.length / commandTerms.length,
    focus: commandTerms.length === 0 ? null : measureFocus(lines, new Set(commandTerms)),
    ...layout,
    lengthScore: scoreLength(repetition.informativeWords, expectation),
    structureScore: scoreStructure(layout),
    planScore: scorePlanSignals(result),
    expectation,
    category,
  };
}

export function scoreRelevance(signals: OutputSignals): number | null {
  if (!signals.usable) return 0;
  if (signals.coverage === null || signals.focus === null) return null;
  const onTopic = RELEVANCE_WEIGHTS.coverage * signals.coverage + RELEVANCE_WEIGHTS.focus * signals.focus;
  return roundTo(onTopic * signals.substance * scoreOriginality(signals), 2);
}

export function scoreCompleteness(signals: OutputSignals): number {
  if (!signals.usable) return 0;
  const parts: Array<[number, number]> = [[signals.lengthScore, COMPLETENESS_WEIGHTS.length]];
  // Naming the command's terms covers nothing unless the output says something of its own.
  if (signals.coverage !== null) {
    parts.push([signals.coverage * signals.substance, COMPLETENESS_WEIGHTS.coverage]);
  }
  if (signals.expectation.wantsStructure)
    parts.push([signals.structureScore, COMPLETENESS_WEIGHTS.structure]);
  if (signals.expectation.wantsConclusion) {
    parts.push([signals.hasConclusion ? 1 : 0, COMPLETENESS_WEIGHTS.conclusion]);
  }
  return roundTo(weightedMean(parts) * scoreOriginality(signals), 2);
}

/** 1 while at least ORIGINALITY_FLOOR of the trigrams are unique, then falling in proportion to 0. */
export function scoreOriginality(signals: Pick<OutputSignals, 'originality'>): number {
  return Math.min(1, signals.originality / ORIGINALITY_FLOOR);
}

/** Lower-cased, stemmed, de-duplicated content words; @mentions and stop words removed. */
export function extractKeyTerms(text: string, options: { dropInstructions: boolean }): string[] {
  const terms = new Set<string>();
  for (const token of tokenizeWords(text)) {
    if (options.dropInstructions && INSTRUCTION_WORDS.has(token)) continue;
    terms.add(stemWord(token));
  }
  return [...terms];
}

function normaliseCategory(category: string | null | undefined): string | null {
  if (!category) return null;
  const key = category.trim().toLowerCase();
  return CATEGORY_ALIASES[key] ?? key;
}

function detectUnusableOutput(
  status: 'completed' | 'failed' | undefined,
  result: string,
): { usable: boolean; unusableReason: string | null } {
  if (status === 'failed') return { usable: false, unusableReason: 'the task failed' };
  if (result.trim().length === 0) return { usable: false, unusableReason: 'the output is empty' };
  if (/^\s*(error|exception|traceback)\b/i.test(result)) {
    return { usable: false, unusableReason: 'the output is an error message' };
  }
  return { usable: true, unusableReason: null };
}

function splitLines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line.length > 0);
}

function countWords(text: string): number {
  return text.split(/\s+/).filter((word) => /[\p{L}\p{N}]/u.test(word)).length;
}

function measureLayout(
  text: string,
  lines: string[],
): { headings: number; listItems: number; paragraphs: number; hasConclusion: boolean } {
  const blocks = text.split(/\n\s*\n/).filter((block) => block.trim().length > 0);
  const lastBlock = blocks.at(-1)?.trim() ?? '';
  return {
    headings: lines.filter((line) => /^#{1,6}\s/.test(line)).length,
    listItems: lines.filter((line) => /^([-*+•]|\d+[.)])\s+/.test(line)).length,
    paragraphs: blocks.length,
    hasConclusion: lines.some((line) => CONCLUSION_HEADING.test(line)) || CONCLUSION_OPENING.test(lastBlock),
  };
}

/** Word trigrams of the whole text (lower-cased words, punctuation ignored): how many are said once. */
function measureRepetition(text: string): { informativeWords: number; originality: number } {
  const words = text.toLowerCase().match(/[\p{L}\p{N}]+/gu) ?? [];
  if (words.length < 3) return { informativeWords: words.length, originality: 1 };
  const counts = new Map<string, number>();
  for (let i = 0; i + 2 < words.length; i++) {
    const trigram = `${words[i]} ${words[i + 1]} ${words[i + 2]}`;
    counts.set(trigram, (counts.get(trigram) ?? 0) + 1);
  }
  const trigrams = words.length - 2;
  const once = [...counts.values()].filter((count) => count === 1).length;
  return { informativeWords: counts.size + 2, originality: once / trigrams };
}

/** Content terms the output brings of its own: not the command's words, not instruction verbs. */
function countOwnTerms(resultTerms: ReadonlySet<string>, commandWords: ReadonlySet<string>): number {
  let own = 0;
  for (const term of resultTerms) {
    if (!commandWords.has(term) && !INSTRUCTION_STEMS.has(term)) own++;
  }
  return own;
}

function measureFocus(lines: string[], commandTerms: Set<string>): number {
  if (lines.length === 0) return 0;
  const onTopic = lines.filter((line) =>
    extractKeyTerms(line, { dropInstructions: false }).some((term) => commandTerms.has(term)),
  ).length;
  return Math.min(1, onTopic / lines.length / FOCUS_SATURATION_SHARE);
}

function scoreLength(words: number, expectation: CategoryExpectation): number {
  if (words < expectation.minWords) return words / expectation.minWords;
  return words > PADDING_FACTOR * expectation.idealWords ? PADDED_LENGTH_SCORE : 1;
}

// One third each for headings, a list (2+ items) and more than one paragraph.
function scoreStructure(layout: { headings: number; listItems: number; paragraphs: number }): number {
  const present = [layout.headings > 0, layout.listItems >= 2, layout.paragraphs >= 2].filter(Boolean).length;
  return present / 3;
}

function scorePlanSignals(text: string): number {
  const numberedSteps = (text.match(/^\s*\d+[.)]\s+/gm) ?? []).length >= 2;
  const groups = PLAN_SIGNAL_GROUPS.filter((pattern) => pattern.test(text)).length;
  return (groups + (numberedSteps ? 1 : 0)) / (PLAN_SIGNAL_GROUPS.length + 1);
}

function measureReferenceAgreement(
  result: string | null,
  referenceAnswer: string | null | undefined,
  usable: boolean,
): number | null {
  if (!referenceAnswer) return null;
  const referenceTerms = extractKeyTerms(referenceAnswer, { dropInstructions: false });
  if (referenceTerms.length === 0) return null;
  if (!usable) return 0;
  const resultTerms = new Set(extractKeyTerms(result ?? '', { dropInstructions: false }));
  return roundTo(referenceTerms.filter((term) => resultTerms.has(term)).length / referenceTerms.length, 2);
}

function weightedMean(parts: Array<[number, number]>): number {
  const totalWeight = parts.reduce((sum, [, weight]) => sum + weight, 0);
  return parts.reduce((sum, [value, weight]) => sum + value * weight, 0) / totalWeight;
}

function describeMeasurements(signals: OutputSignals, hasReference: boolean): string {
  const relevance =
    signals.coverage === null
      ? 'Relevance: not measured (the command has no topical terms).'
      : `Relevance: ${signals.coveredTerms.length}/${signals.commandTerms.length} command terms found` +
        (signals.missingTerms.length > 0
          ? ` (missing: ${signals.missingTerms.slice(0, 5).join(', ')})`
          : '') +
        `, ${Math.round((signals.focus ?? 0) * 100)}% focus, ${signals.ownTerms} content terms of its own` +
        (signals.substance < 1 ? ` (${signals.category ?? 'this category'} expects more).` : '.');
  const layout = [
    signals.headings > 0 ? 'headings' : null,
    signals.listItems >= 2 ? 'a list' : null,
    signals.hasConclusion ? 'a conclusion' : null,
  ].filter((part): part is string => part !== null);
  const repeated =
    signals.informativeWords < signals.words ? `, ${signals.informativeWords} of them not repeated` : '';
  const completeness =
    `Completeness: ${signals.words} words${repeated} (${signals.category ?? 'this category'} expects at least ` +
    `${signals.expectation.minWords})` +
    (layout.length > 0 ? `; has ${layout.join(', ')}.` : '; no headings, list or conclusion.');
  const originality =
    signals.originality < ORIGINALITY_FLOOR
      ? ` Repetition: only ${Math.round(signals.originality * 100)}% of its word trigrams are unique, so both scores are cut in proportion.`
      : '';
  const accuracy = hasReference
    ? 'Accuracy: share of the reference answer’s key terms present.'
    : 'Accuracy: not measured (no reference answer).';
  return `Heuristic (no LLM). ${relevance} ${completeness}${originality} ${accuracy}`;
}
