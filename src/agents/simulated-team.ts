import { createRng, hashSeed, sampleNormal } from '../lib/random.js';

/**
 * The simulated agent team used when no LLM is configured. Each agent has a hidden skill per objective
 * category (higher in its specializations); a simulated run produces structured Markdown, node steps
 * with realistic token and duration figures, and sometimes a failure — all deterministic for a given
 * seed, agent and command. Everything it produces is labelled simulated (model `simulated`).
 */

export const SIMULATED_MODEL = 'simulated';

export interface SimulatedAgent {
  agentId: string;
  nickname: string;
  specializations: readonly string[];
}

export interface SimulatedNode {
  node_name: string;
  duration_ms: number;
  prompt_tokens: number;
  completion_tokens: number;
}

export interface SimulatedRun {
  /** The hidden quality of this run, 0-1 (what a perfect evaluator would find). */
  quality: number;
  success: boolean;
  result: string;
  error: string | null;
  nodes: SimulatedNode[];
  prompt_tokens: number;
  completion_tokens: number;
  duration_ms: number;
}

/** The agent's hidden skill in a category: 0.8 in its specializations, 0.5 elsewhere, plus a fixed offset. */
export function hiddenSkill(agent: SimulatedAgent, category: string, seed: number): number {
  const offset = (createRng(hashSeed(`${seed}:${agent.agentId}:${category}`))() - 0.5) * 0.2;
  const primary = agent.specializations[0] === category;
  const base = primary ? 0.85 : agent.specializations.includes(category) ? 0.72 : 0.5;
  return clamp(base + offset, 0.05, 0.97);
}

const NODE_PLANS: Record<string, readonly string[]> = {
  research: ['plan', 'research', 'synthesize', 'respond'],
  analysis: ['plan', 'analyze', 'respond'],
  data: ['plan', 'query', 'analyze', 'respond'],
  coding: ['plan', 'code', 'test', 'respond'],
  writing: ['outline', 'draft', 'edit', 'respond'],
  planning: ['plan', 'prioritize', 'respond'],
  compliance: ['plan', 'check', 'respond'],
  review: ['read', 'critique', 'respond'],
  chat: ['respond'],
  general: ['plan', 'act', 'respond'],
};

export function nodePlanFor(category: string): readonly string[] {
  return NODE_PLANS[category] ?? (NODE_PLANS.general as readonly string[]);
}

/** Runs one command as the simulated agent would. */
export function simulateRun(input: {
  agent: SimulatedAgent;
  command: string;
  category: string;
  seed: number;
  /** Distinguishes repeated runs of the same command. */
  runKey?: string;
  failureRate?: number;
}): SimulatedRun {
  const random = createRng(
    hashSeed(`${input.seed}:${input.agent.agentId}:${input.command}:${input.runKey ?? ''}`),
  );
  const skill = hiddenSkill(input.agent, input.category, input.seed);
  const quality = clamp(skill + sampleNormal(random) * 0.12, 0, 1);
  const failed = random() < (input.failureRate ?? 0.04) * (1.5 - skill);
  const plan = nodePlanFor(input.category);
  const nodes: SimulatedNode[] = [];
  const stopAt = failed ? Math.max(1, Math.floor(random() * plan.length)) : plan.length;
  for (const name of plan.slice(0, stopAt)) {
    const heavy = name !== 'plan' && name !== 'respond' && name !== 'read';
    nodes.push({
      node_name: name,
      duration_ms: Math.round(
        (heavy ? 4000 : 1200) * Math.exp(sampleNormal(random) * 0.35) * (1.4 - skill * 0.5),
      ),
      prompt_tokens: Math.round((heavy ? 900 : 350) * Math.exp(sampleNormal(random) * 0.3)),
      completion_tokens: Math.round(
        (heavy ? 500 : 220) * Math.exp(sampleNormal(random) * 0.3) * (0.6 + quality),
      ),
    });
  }
  const promptTokens = nodes.reduce((sum, node) => sum + node.prompt_tokens, 0);
  const completionTokens = nodes.reduce((sum, node) => sum + node.completion_tokens, 0);
  const durationMs = nodes.reduce((sum, node) => sum + node.duration_ms, 0);
  const failedNode = nodes.at(-1)?.node_name ?? 'plan';
  return {
    quality,
    success: !failed,
    result: failed ? '' : writeResult(input.agent, input.command, input.category, quality, random),
    error: failed
      ? `Simulated failure in the '${failedNode}' step: the agent could not finish the task.`
      : null,
    nodes,
    prompt_tokens: promptTokens,
    completion_tokens: completionTokens,
    duration_ms: durationMs,
  };
}

function writeResult(
  agent: SimulatedAgent,
  command: string,
  category: string,
  quality: number,
  random: () => number,
) {
  const topic = command.replace(/^@\S+\s*/, '').trim() || 'the request';
  const terms = topic
    .split(/\W+/)
    .filter((word) => word.length > 3)
    .slice(0, 4);
  const sections = Math.max(1, Math.round(1 + quality * 3));
  const points = ['Key finding', 'Evidence', 'Trade-off', 'Risk', 'Recommendation', 'Open question'];
  const lines = [
    `> _Simulated output by ${agent.nickname} (no LLM configured)._`,
    '',
    `## ${capitalize(category)}: ${topic}`,
    '',
    `${capitalize(agent.nickname)} looked at **${topic}**${terms.length > 0 ? `, focusing on ${terms.join(', ')}` : ''}.`,
  ];
  for (let i = 0; i < sections; i++) {
    lines.push('', `### ${points[(i + Math.floor(random() * 2)) % points.length]} ${i + 1}`);
    const bullets = 1 + Math.round(quality * 2);
    for (let b = 0; b < bullets; b++) {
      const term = terms[(i + b) % Math.max(terms.length, 1)] ?? topic;
      lines.push(
        `- ${capitalize(term)}: ${quality > 0.6 ? 'a specific, sourced observation' : 'a general remark'} (${Math.round(random() * 90 + 10)}% confidence).`,
      );
    }
  }
  if (quality > 0.5)
    lines.push(
      '',
      '### Summary',
      '',
      `In short: ${topic} — ${quality > 0.75 ? 'clear next steps are listed above' : 'some points need follow-up'}.`,
    );
  return lines.join('\n');
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

function clamp(value: number, low: number, high: number): number {
  return Math.min(high, Math.max(low, value));
}
