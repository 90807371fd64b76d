/**
 * Offline, deterministic classification of a command into its objective category.
 *
 * A multinomial naive Bayes model over lightly stemmed words and word bigrams, trained from the category
 * templates (description, keywords, example commands) and from commands whose category is known. The
 * model is a plain JSON-serialisable object so it can be stored and reloaded.
 */
import { stemWord, tokenizeWords } from '../lib/text.js';

export interface CategoryTemplate {
  category: string;
  description: string;
  /** Rubric items an LLM judge scores a task of this category against. */
  evaluation_criteria: string[];
  keywords: string[];
  example_commands: string[];
  recommended_agents: string[];
  typical_tokens: number;
  typical_duration_ms: number;
}

/** The parts of a template the classifier learns from. */
export type TrainingTemplate = Pick<
  CategoryTemplate,
  'category' | 'description' | 'keywords' | 'example_commands'
>;

export interface LabelledCommand {
  text: string;
  category: string;
}

export interface ClassifierModel {
  version: 1;
  categories: string[];
  /** Weighted token counts per category. */
  tokenCounts: Record<string, Record<string, number>>;
  tokenTotals: Record<string, number>;
  vocabularySize: number;
  /** Additive (Laplace) smoothing per token. */
  smoothing: number;
  /** Softmax temperature applied to the log-likelihoods; above 1 tempers naive Bayes' overconfidence. */
  temperature: number;
}

export interface CategoryConfidence {
  category: string;
  confidence: number;
}

export interface Classification extends CategoryConfidence {
  /** The next most likely categories (other than `category`), best first. */
  alternatives: CategoryConfidence[];
  /** True when the top category was not confident enough and `fallbackCategory` was returned instead. */
  fellBack: boolean;
}

export interface TrainingOptions {
  smoothing?: number;
  temperature?: number;
}

export interface ClassifyOptions {
  minConfidence?: number;
  fallbackCategory?: string;
  maxAlternatives?: number;
}

export const FALLBACK_CATEGORY = 'general';
export const DEFAULT_MIN_CONFIDENCE = 0.4;

// Keywords are hand-picked signals, so they count more than the free text of descriptions and examples.
const KEYWORD_WEIGHT = 3;
const EXAMPLE_WEIGHT = 2;
const DESCRIPTION_WEIGHT = 1;
const LABELLED_WEIGHT = 1;

/** Removes leading @mentions ("@bob ", "@bob, @sue:") so an addressee never sways the category. */
export function stripLeadingMentions(text: string): string {
  return text.replace(/^\s*(?:@[\w.-]+[\s,:;]*)+/, '');
}

/** Turns a command into features: stemmed non-stopword words plus bigrams of adjacent ones. */
export function tokenizeCommand(text: string): string[] {
  const words = tokenizeWords(stripLeadingMentions(text)).map(stemWord);
  const bigrams = words.slice(1).map((word, i) => `${words[i]}_${word}`);
  return [...words, ...bigrams];
}

/** Reads a count from a token map that may have come from JSON (own properties only). */
function readCount(counts: Record<string, number> | undefined, token: string): number {
  return counts !== undefined && Object.hasOwn(counts, token) ? (counts[token] ?? 0) : 0;
}

function addTokens(counts: Record<string, number>, tokens: readonly string[], weight: number): void {
  for (const token of tokens) counts[token] = readCount(counts, token) + weight;
}

/** Creates an empty token map without a prototype, so tokens like "constructor" are plain keys. */
function createCountMap(): Record<string, number> {
  return Object.create(null) as Record<string, number>;
}

/** Counts one template's keywords, examples and description into its category's token counts. */
function addTemplateTokens(counts: Record<string, number>, template: TrainingTemplate): void {
  for (const keyword of template.keywords) addTokens(counts, tokenizeCommand(keyword), KEYWORD_WEIGHT);
  for (const example of template.example_commands)
    addTokens(counts, tokenizeCommand(example), EXAMPLE_WEIGHT);
  addTokens(counts, tokenizeCommand(template.description), DESCRIPTION_WEIGHT);
}

/**
 * Trains the classifier. Categories are the union of template categories and labelled ones; class priors
 * are uniform because template counts say nothing about how often each category is asked for.
 */
export function trainClassifier(
  templates: readonly TrainingTemplate[],
  labelled: readonly LabelledCommand[] = [],
  options: TrainingOptions = {},
): ClassifierModel {
  const tokenCounts: Record<string, Record<string, number>> = Object.create(null);
  const countsFor = (category: string) => {
    tokenCounts[category] ??= createCountMap();
    return tokenCounts[category];
  };
  for (const template of templates) addTemplateTokens(countsFor(template.category), template);
  for (const command of labelled)
    addTokens(countsFor(command.category), tokenizeCommand(command.text), LABELLED_WEIGHT);
  const categories = Object.keys(tokenCounts).sort();
  const vocabulary = new Set(categories.flatMap((category) => Object.keys(tokenCounts[category] ?? {})));
  const tokenTotals: Record<string, number> = createCountMap();
  for (const category of categories) {
    tokenTotals[category] = Object.values(tokenCounts[category] ?? {}).reduce((sum, count) => sum + count, 0);
  }
  return {
    version: 1,
    categories,
    tokenCounts,
    tokenTotals,
    vocabularySize: vocabulary.size,
    smoothing: options.smoothing ?? 0.5,
    temperature: options.temperature ?? 1,
  };
}

/** The log-likelihood of the known tokens under one category (unknown tokens carry no evidence). */
function computeLogLikelihood(model: ClassifierModel, category: string, tokens: readonly string[]): number {
  const counts = model.tokenCounts[category];
  const denominator = readCount(model.tokenTotals, category) + model.smoothing * model.vocabularySize;
  return tokens.reduce(
    (sum, token) => sum + Math.log((readCount(counts, token) + model.smoothing) / denominator),
    0,
  );
}

/** Converts log scores into probabilities, dividing by the temperature first. */
function applySoftmax(logits: readonly number[], temperature: number): number[] {
  const scaled = logits.map((logit) => logit / temperature);
  const max = Math.max(...scaled);
  const exponentials = scaled.map((value) => Math.exp(value - max));
  const total = exponentials.reduce((sum, value) => sum + value, 0);
  return exponentials.map((value) => value / total);
}

/** Every category's posterior probability for a command, best first (ties by name, for determinism). */
export function scoreCategories(model: ClassifierModel, text: string): CategoryConfidence[] {
  const tokens = tokenizeCommand(text).filter((token) =>
    model.categories.some((category) => readCount(model.tokenCounts[category], token) > 0),
  );
  const logits = model.categories.map((category) => computeLogLikelihood(model, category, tokens));
  const probabilities = applySoftmax(logits, model.temperature);
  return model.categories
    .map((category, i) => ({ category, confidence: probabilities[i] ?? 0 }))
    .sort((left, right) => right.confidence - left.confidence || left.category.localeCompare(right.category));
}

/**
 * Classifies a command. When the best category's confidence is below `minConfidence`, returns
 * `fallbackCategory` with `fellBack: true`; `confidence` stays the best category's probability so callers
 * can see how unsure the classifier was.
 */
export function classifyCommand(
  model: ClassifierModel,
  text: string,
  options: ClassifyOptions = {},
): Classification {
  const {
    minConfidence = DEFAULT_MIN_CONFIDENCE,
    fallbackCategory = FALLBACK_CATEGORY,
    maxAlternatives = 3,
  } = options;
  const ranked = scoreCategories(model, text);
  const best = ranked[0] ?? { category: fallbackCategory, confidence: 0 };
  const fellBack = best.confidence < minConfidence && best.category !== fallbackCategory;
  const category = fellBack ? fallbackCategory : best.category;
  return {
    category,
    confidence: best.confidence,
    alternatives: ranked.filter((entry) => entry.category !== category).slice(0, maxAlternatives),
    fellBack,
  };
}

// ---------------------------------------------------------------------------------------------------
// Default templates (agent roster: agent_a bob research, agent_b sue compliance, agent_c rex data analysis,
// agent_d kai planning, agent_e maya quality review, agent_f alice writing, agent_chat chat, agent_leo leo
// orchestrator)

export const DEFAULT_CATEGORY_TEMPLATES: CategoryTemplate[] = [
  {
    category: 'research',
    description: 'Find, gather and synthesise information from sources on a topic, with citations.',
    evaluation_criteria: [
      'Covers the main aspects of the topic',
      'Cites credible, specific sources',
      'Distinguishes established facts from speculation',
      'Information is current and accurate',
      'Synthesises findings instead of listing them',
    ],
    keywords: [
      'research',
      'investigate',
      'find out',
      'look up',
      'search',
      'sources',
      'citations',
      'literature',
      'papers',
      'study',
      'studies',
      'survey',
      'state of the art',
      'background',
      'learn about',
      'what is known',
      'explore',
      'discover',
      'academic',
      'evidence',
      'competitors',
      'market research',
      'trends',
      'latest developments',
    ],
    example_commands: [
      'research quantum computing',
      'find recent papers on retrieval augmented generation',
      'investigate what competitors charge for similar products',
      'look up the latest developments in battery technology',
      'gather sources on remote work productivity',
    ],
    recommended_agents: ['agent_a', 'agent_leo'],
    typical_tokens: 6000,
    typical_duration_ms: 90_000,
  },
  {
    category: 'analysis',
    description:
      'Examine a situation, option or result in depth: compare, evaluate, find causes and implications.',
    evaluation_criteria: [
      'Identifies the relevant factors',
      'Reasoning is logical and supported by evidence',
      'Considers alternatives and trade-offs',
      'Conclusions follow from the analysis',
      'Quantifies where possible',
    ],
    keywords: [
      'analyze',
      'analyse',
      'analysis',
      'compare',
      'comparison',
      'evaluate',
      'assess',
      'assessment',
      'pros and cons',
      'trade-offs',
      'swot',
      'root cause',
      'why did',
      'impact',
      'implications',
      'break down',
      'benchmark',
      'diagnose',
      'interpret',
      'risk assessment',
      'cost benefit',
      'performance',
      'insights',
    ],
    example_commands: [
      'analyze why churn increased last quarter',
      'compare the pros and cons of Postgres and MongoDB for our use case',
      'evaluate the impact of the price change on revenue',
      'do a SWOT analysis of our product',
      'assess the risks of moving to a four day week',
    ],
    recommended_agents: ['agent_c', 'agent_d'],
    typical_tokens: 5000,
    typical_duration_ms: 75_000,
  },
  {
    category: 'writing',
    description: 'Draft, rewrite or edit prose: documents, emails, articles, reports and summaries.',
    evaluation_criteria: [
      'Clear, well-structured and easy to read',
      'Tone fits the audience and purpose',
      'Grammar and spelling are correct',
      'Covers what was asked without padding',
      'Consistent formatting',
    ],
    keywords: [
      'write',
      'draft',
      'rewrite',
      'edit',
      'proofread',
      'email',
      'letter',
      'article',
      'blog post',
      'essay',
      'report',
      'summary',
      'summarize',
      'document',
      'documentation',
      'copy',
      'newsletter',
      'press release',
      'tone',
      'paragraph',
      'memo',
      'announcement',
      'cover letter',
      'translate',
    ],
    example_commands: [
      'write a blog post about our new feature',
      'draft an email to customers announcing the price change',
      'summarize this meeting transcript',
      'rewrite this paragraph in a friendlier tone',
      'proofread the attached report',
    ],
    recommended_agents: ['agent_f', 'agent_e'],
    typical_tokens: 3500,
    typical_duration_ms: 45_000,
  },
  {
    category: 'planning',
    description: 'Turn goals into plans: roadmaps, schedules, strategies, milestones and task breakdowns.',
    evaluation_criteria: [
      'Goals and scope are explicit',
      'Steps are concrete, ordered and actionable',
      'Dependencies, owners and timelines are realistic',
      'Risks and contingencies are addressed',
      'Success is measurable',
    ],
    keywords: [
      'plan',
      'planning',
      'roadmap',
      'strategy',
      'strategic',
      'schedule',
      'timeline',
      'milestones',
      'goals',
      'objectives',
      'okrs',
      'prioritize',
      'priorities',
      'project plan',
      'launch plan',
      'next steps',
      'organize',
      'agenda',
      'itinerary',
      'sprint',
      'quarter',
      'allocate',
      'go to market',
    ],
    example_commands: [
      'plan the product launch for next quarter',
      'create a roadmap for the mobile app',
      'draft OKRs for the sales team',
      'prioritize the backlog for the next sprint',
      'build a go to market strategy for Europe',
    ],
    recommended_agents: ['agent_d', 'agent_leo'],
    typical_tokens: 4500,
    typical_duration_ms: 60_000,
  },
  {
    category: 'compliance',
    description: 'Check documents and practices against laws, regulations, policies and contracts.',
    evaluation_criteria: [
      'Identifies the applicable regulations and clauses',
      'Flags every material issue with its location',
      'Explains the risk and its severity',
      'Recommends concrete remediation',
      'Does not overstate legal certainty',
    ],
    keywords: [
      'compliance',
      'compliant',
      'gdpr',
      'hipaa',
      'sox',
      'ccpa',
      'regulation',
      'regulatory',
      'legal',
      'law',
      'contract',
      'clause',
      'terms',
      'policy',
      'privacy',
      'audit',
      'license',
      'liability',
      'consent',
      'data protection',
      'violation',
      'obligations',
      'iso 27001',
      'aml',
      'kyc',
    ],
    example_commands: [
      'check this contract for GDPR issues',
      'review our privacy policy for CCPA compliance',
      'are we allowed to store customer data in the US',
      'audit the onboarding flow for KYC requirements',
      'list the liability clauses in this agreement',
    ],
    recommended_agents: ['agent_b', 'agent_e'],
    typical_tokens: 5500,
    typical_duration_ms: 80_000,
  },
  {
    category: 'coding',
    description: 'Write, fix, refactor or explain software: code, scripts, queries, tests and APIs.',
    evaluation_criteria: [
      'Code is correct and runs',
      'Handles edge cases and errors',
      'Readable, idiomatic and maintainable',
      'Includes tests or a way to verify it',
      'Explains non-obvious choices',
    ],
    keywords: [
      'code',
      'coding',
      'program',
      'function',
      'script',
      'bug',
      'debug',
      'fix',
      'error',
      'exception',
      'refactor',
      'implement',
      'api',
      'endpoint',
      'typescript',
      'javascript',
      'python',
      'sql query',
      'regex',
      'unit test',
      'compile',
      'deploy',
      'repository',
      'pull request',
      'stack trace',
    ],
    example_commands: [
      'write a python script to rename files by date',
      'fix the bug in this function',
      'refactor the payment module to use async await',
      'implement an API endpoint for user signup',
      'explain this stack trace',
    ],
    recommended_agents: ['agent_leo', 'agent_c'],
    typical_tokens: 4000,
    typical_duration_ms: 60_000,
  },
  {
    category: 'data',
    description: 'Work with datasets: clean, transform, query, aggregate, chart and compute statistics.',
    evaluation_criteria: [
      'Numbers are computed correctly',
      'Data cleaning steps are stated',
      'Appropriate statistics and aggregations',
      'Charts and tables are labelled and readable',
      'Limitations of the data are noted',
    ],
    keywords: [
      'data',
      'dataset',
      'spreadsheet',
      'csv',
      'excel',
      'table',
      'chart',
      'graph',
      'plot',
      'visualize',
      'dashboard',
      'statistics',
      'average',
      'median',
      'correlation',
      'regression',
      'forecast',
      'metrics',
      'kpi',
      'aggregate',
      'clean',
      'pivot',
      'numbers',
      'sales figures',
    ],
    example_commands: [
      'clean this csv and remove duplicate rows',
      'plot monthly sales by region',
      'compute the average order value per customer segment',
      'build a dashboard of weekly active users',
      'forecast next month revenue from this spreadsheet',
    ],
    recommended_agents: ['agent_c', 'agent_a'],
    typical_tokens: 4500,
    typical_duration_ms: 70_000,
  },
  {
    category: 'chat',
    description: 'Casual conversation, greetings, quick questions and small talk that need no deliverable.',
    evaluation_criteria: [
      'Responds naturally and politely',
      'Answers the question directly',
      'Keeps it brief',
      'Stays on topic',
    ],
    keywords: [
      'hi',
      'hello',
      'hey',
      'thanks',
      'thank you',
      'good morning',
      'how are you',
      'chat',
      'talk',
      'joke',
      'funny',
      'bored',
      'weekend',
      'weather',
      'opinion',
      'favorite',
      'quick question',
      'bye',
      'nice',
      'cool',
    ],
    example_commands: [
      'hi, how are you today',
      'tell me a joke',
      'thanks for the help',
      'what is your favorite movie',
      'good morning team',
    ],
    recommended_agents: ['agent_chat'],
    typical_tokens: 600,
    typical_duration_ms: 8_000,
  },
  {
    category: 'review',
    description: 'Critique and quality-check existing work: find flaws, score it and suggest improvements.',
    evaluation_criteria: [
      'Finds the most important problems first',
      'Feedback is specific and actionable',
      'Balanced: notes strengths as well as weaknesses',
      'Judgement is justified',
      'Suggests concrete improvements',
    ],
    keywords: [
      'review',
      'critique',
      'feedback',
      'quality',
      'check',
      'double check',
      'verify',
      'validate',
      'assess quality',
      'improve',
      'improvements',
      'reflect',
      'retrospective',
      'lessons learned',
      'grade',
      'rate',
      'score',
      'weaknesses',
      'mistakes',
      'sanity check',
      'second opinion',
      'qa',
    ],
    example_commands: [
      'review this proposal and give feedback',
      'critique the draft report before it goes out',
      'double check the numbers in this presentation',
      'run a retrospective on the last project',
      'give a second opinion on this design',
    ],
    recommended_agents: ['agent_e', 'agent_b'],
    typical_tokens: 3000,
    typical_duration_ms: 40_000,
  },
  {
    category: 'general',
    description: 'Anything that fits no other category well: miscellaneous requests and mixed tasks.',
    evaluation_criteria: [
      'Understands what was asked',
      'Result is useful and correct',
      'Asks for clarification when the request is ambiguous',
      'Clear and concise',
    ],
    keywords: [
      'help',
      'assist',
      'task',
      'request',
      'something',
      'anything',
      'misc',
      'general',
      'handle',
      'take care',
      'sort out',
      'figure out',
      'do this',
      'various',
      'stuff',
      'thing',
    ],
    example_commands: [
      'help me with this',
      'can you take care of this for me',
      'figure out what to do here',
      'handle this request',
    ],
    recommended_agents: ['agent_leo', 'agent_chat'],
    typical_tokens: 2500,
    typical_duration_ms: 30_000,
  },
];
