import { randomInt, randomUUID } from 'node:crypto';
import type { Kysely } from 'kysely';
import { chooseAgentModel } from '../agents/agent-runner.js';
import { RUN_AGENT_TASK_MAX_ATTEMPTS } from '../agents/agents.jobs.js';
import { insertRunAgentTaskJob } from '../agents/agents.queries.js';
import { ensureExternalAgents } from '../agents/external-agents.js';
import { parseCommand } from '../commands/commands.js';
import type { Config } from '../config.js';
import type { ArenaVote, Database } from '../db/database.js';
import { ConflictError, NotFoundError, ValidationError } from '../errors.js';
import type { EventBus } from '../events/event-bus.js';
import { runTransactionWithEvents } from '../events/transactional-events.js';
import type { Scope } from '../identity/scope.js';
import { getCategoryClassifier } from '../routing/classification.service.js';
import { chooseAgent, type RoutingCandidate } from '../routing/router.js';
import { loadRoutingSnapshot } from '../routing/routing.service.js';
import type { ExecutionTracker } from '../tasks/execution-tracker.js';
import { type BattleInput, winnerOfVote } from './arena.js';
import {
  type ArenaBattleRow,
  type ComparisonWithAnswers,
  findAgentsByIds,
  findBattleCategories,
  findBattleFingerprint,
  findBattleOutcomes,
  findComparableAgentIds,
  findComparison,
  findComparisonBattles,
  insertBattles,
  insertComparison,
  insertJudgeComparisonJob,
  type NewArenaBattle,
  updateComparisonTaskB,
  updateComparisonVote,
} from './arena.queries.js';
import { type ArenaLeaderboard, computeArenaLeaderboard } from './bradley-terry.js';

export interface RecordedBattles {
  accepted: number;
  duplicates: number;
  battle_ids: string[];
  /** Contestants the battles named that were not agents of the project yet (registered as external). */
  new_agents: string[];
}

/**
 * Stores battles whose contestants are named as the source named them: an agent id or nickname of the
 * project is that agent; any other name is registered as an external agent. A battle with an external
 * key the project already holds is counted as a duplicate and changes nothing. One transaction, which
 * also announces the changed ratings and any new agent to every process (`events`: this process's bus).
 */
export async function recordBattles(
  db: Kysely<Database>,
  projectId: string,
  battles: readonly BattleInput[],
  options: { recordedBy: string | null; fieldPrefix?: string; events?: EventBus } = { recordedBy: null },
): Promise<RecordedBattles> {
  return runTransactionWithEvents(db, options.events, async (trx, emit) => {
    const recorded = await storeBattles(trx, projectId, battles, options);
    if (recorded.accepted > 0) emit({ type: 'leaderboard', projectId, agentIds: [] });
    if (recorded.new_agents.length > 0) emit({ type: 'agents', projectId });
    return recorded;
  });
}

/** recordBattles inside the caller's transaction (an import stores a whole file in one). */
export async function storeBattles(
  trx: Kysely<Database>,
  projectId: string,
  battles: readonly BattleInput[],
  options: { recordedBy: string | null; fieldPrefix?: string; firstIndex?: number },
): Promise<RecordedBattles> {
  const prefix = options.fieldPrefix ?? 'battles';
  const names = [...new Set(battles.flatMap((battle) => [battle.modelA, battle.modelB]))];
  const before = new Set(
    (await trx.selectFrom('agents').select('agent_id').where('project_id', '=', projectId).execute()).map(
      (row) => row.agent_id,
    ),
  );
  const ids = await ensureExternalAgents(trx, projectId, names);
  const rows: NewArenaBattle[] = battles.map((battle, index) => {
    const agentA = ids.get(battle.modelA.trim()) as string;
    const agentB = ids.get(battle.modelB.trim()) as string;
    if (agentA === agentB) {
      throw new ValidationError(
        `${prefix}[${index + (options.firstIndex ?? 0)}].model_b`,
        `names the same agent as model_a (${agentA})`,
      );
    }
    return {
      project_id: projectId,
      agent_a: agentA,
      agent_b: agentB,
      winner: battle.winner,
      category: battle.category,
      judge: battle.judge,
      source: battle.source,
      anony: battle.anony,
      command: battle.command,
      external_key: battle.externalKey,
      recorded_by: options.recordedBy,
      ...(battle.tstamp ? { tstamp: battle.tstamp } : {}),
    };
  });
  const inserted = await insertBattles(trx, rows);
  const newAgents = [...new Set(ids.values())].filter((agentId) => !before.has(agentId)).sort();
  return {
    accepted: inserted.length,
    duplicates: rows.length - inserted.length,
    battle_ids: inserted.map((row) => row.id),
    new_agents: newAgents,
  };
}

/**
 * Leaderboards already computed in this process, by project, category, rounds, seed and battle set: the
 * bootstrap takes seconds on 100,000 battles, and the same battles and seed always give the same figures.
 */
const computedBoards = new Map<string, ArenaLeaderboard>();
const MAX_COMPUTED_BOARDS = 32;

function rememberBoard(key: string, board: ArenaLeaderboard): void {
  computedBoards.set(key, board);
  // Maps iterate in insertion order: the first key is the oldest.
  if (computedBoards.size > MAX_COMPUTED_BOARDS)
    computedBoards.delete(computedBoards.keys().next().value as string);
}

/** The Arena leaderboard of a project (or one category of it), with names for the agents (read fresh). */
export async function buildArenaLeaderboard(
  db: Kysely<Database>,
  projectId: string,
  options: { category: string | null; rounds: number; seed: number },
) {
  const [fingerprint, categories] = await Promise.all([
    findBattleFingerprint(db, projectId, options.category),
    findBattleCategories(db, projectId),
  ]);
  const key = JSON.stringify([projectId, options.category, options.rounds, options.seed, fingerprint]);
  let board = computedBoards.get(key);
  if (board === undefined) {
    const outcomes = await findBattleOutcomes(db, projectId, options.category);
    board = computeArenaLeaderboard(
      outcomes.map((row) => ({ agentA: row.agent_a, agentB: row.agent_b, winner: row.winner })),
      { rounds: options.rounds, seed: options.seed },
    );
    rememberBoard(key, board);
  }
  const agents = new Map(
    (
      await findAgentsByIds(
        db,
        projectId,
        board.ratings.map((rating) => rating.agentId),
      )
    ).map((agent) => [agent.agent_id, agent]),
  );
  const round1 = (value: number | null) => (value === null ? null : Math.round(value * 10) / 10);
  const ids = board.ratings.map((rating) => rating.agentId);
  const matrix = <T>(pick: (record: { battles: number; winRate: number }) => T) =>
    Object.fromEntries(
      ids.map((row) => [
        row,
        Object.fromEntries(
          ids
            .filter((column) => column !== row)
            .map((column) => {
              const record = board.pairs[row]?.[column];
              return [column, record === undefined ? null : pick(record)];
            }),
        ),
      ]),
    );
  return {
    category: options.category,
    total_battles: board.totalBattles,
    bootstrap_rounds: board.bootstrapRounds,
    seed: board.seed,
    level: board.level,
    method:
      'Bradley-Terry maximum likelihood (ties count half a win for each side), 400 * theta / ln 10 centred on a mean of 1000; percentile bootstrap over battles; rank = 1 + agents whose lower bound is above this upper bound',
    ratings: board.ratings.map((rating) => {
      const agent = agents.get(rating.agentId);
      return {
        agent_id: rating.agentId,
        nickname: agent?.nickname ?? rating.agentId,
        display_name: agent?.display_name ?? rating.agentId,
        origin: agent?.origin ?? 'external',
        rating: round1(rating.rating) as number,
        lower: round1(rating.lower),
        upper: round1(rating.upper),
        rank: rating.rank,
        battles: rating.battles,
      };
    }),
    win_rates: matrix((record) => Math.round(record.winRate * 1000) / 1000),
    battle_counts: matrix((record) => record.battles),
    categories,
  };
}

export interface CompareServices {
  db: Kysely<Database>;
  tracker: ExecutionTracker;
  config: Pick<Config, 'llm'>;
}

/**
 * Picks the two agents of a comparison: the two named (active agents Merit runs), or two drawn by the
 * router for the command's category: a Thompson draw, then another among the rest.
 */
async function chooseContestants(
  db: Kysely<Database>,
  scope: Scope,
  command: string,
  requested: readonly string[] | undefined,
) {
  const comparable = await findComparableAgentIds(db, scope.projectId);
  const snapshot = await loadRoutingSnapshot(db, scope.projectId);
  const classification = await getCategoryClassifier(db).classify(
    scope.projectId,
    command,
    snapshot.templates,
  );
  if (requested !== undefined) {
    const [first, second] = requested;
    if (first === second) throw new ValidationError('agents', 'must name two different agents');
    for (const agentId of requested) {
      if (!comparable.includes(agentId)) {
        throw new ValidationError(
          'agents',
          `'${agentId}' is not an active agent Merit runs in this project; comparable agents: ${comparable.join(', ') || 'none'}`,
        );
      }
    }
    return { agentIds: [first as string, second as string], classification };
  }
  const candidates: RoutingCandidate[] = snapshot.candidates.filter((candidate) =>
    comparable.includes(candidate.agentId),
  );
  if (candidates.length < 2) {
    throw new ValidationError(
      'agents',
      'the project needs at least two active agents that Merit runs to compare',
    );
  }
  const request = {
    category: classification.category,
    pairStats: snapshot.pairStats,
    agentStats: snapshot.agentStats,
    random: Math.random,
  };
  const first = chooseAgent({ ...request, candidates }).agentId;
  const second = chooseAgent({
    ...request,
    candidates: candidates.filter((candidate) => candidate.agentId !== first),
  }).agentId;
  return { agentIds: [first, second], classification };
}

/**
 * A blind comparison: the command goes to two agents as two ordinary Mission Control tasks (each with
 * its run_agent_task job, as a command's), shown as A and B in an order drawn now and kept hidden until
 * the vote. With `llmJudge`, the judge compares the answers once both are finished.
 */
export async function createComparison(
  services: CompareServices,
  scope: Scope,
  input: { command: string; agents?: string[] | undefined; llmJudge?: boolean | undefined },
): Promise<ComparisonWithAnswers> {
  const { db, tracker, config } = services;
  if (parseCommand(input.command).mention !== null) {
    throw new ValidationError(
      'command',
      'must not @mention an agent: a comparison is blind (name the two agents in `agents`)',
    );
  }
  const { agentIds, classification } = await chooseContestants(db, scope, input.command, input.agents);
  // Which one the user sees as A: drawn here, revealed only with the vote.
  const shown = randomInt(2) === 0 ? agentIds : [...agentIds].reverse();
  const agents = await findAgentsByIds(db, scope.projectId, shown);
  const comparisonId = randomUUID();
  const taskIds = [randomUUID(), randomUUID()] as const;
  const simulated = config.llm === undefined;
  for (const [index, agentId] of shown.entries()) {
    const agent = agents.find((row) => row.agent_id === agentId);
    if (!agent) throw new NotFoundError('agent_not_found', `Agent ${agentId} not found`);
    await tracker.createTask(
      scope,
      {
        id: taskIds[index] as string,
        agent_id: agentId,
        command: input.command,
        status: 'queued',
        model: chooseAgentModel(config.llm, agent),
      },
      {
        source: 'mission_control',
        simulated,
        classification: {
          category: classification.category,
          confidence: classification.confidence,
          source: classification.source,
        },
        onCreated: async (trx, task) => {
          await insertRunAgentTaskJob(
            trx,
            { taskId: task.id, projectId: task.project_id, userId: task.user_id },
            RUN_AGENT_TASK_MAX_ATTEMPTS,
          );
          // The comparison is written with the first task and points at each task in the transaction
          // that creates it: it never names a task that does not exist, and from the first task's commit
          // on, the task list and the live stream know to hide both (src/arena/arena-blindness.ts).
          if (index === 0) {
            await insertComparison(trx, {
              project_id: scope.projectId,
              id: comparisonId,
              user_id: task.user_id,
              command: input.command,
              category: classification.category,
              agent_a: shown[0] as string,
              agent_b: shown[1] as string,
              task_a_id: taskIds[0],
              task_b_id: null,
              llm_judge: input.llmJudge ?? false,
            });
          } else {
            await updateComparisonTaskB(trx, scope.projectId, comparisonId, taskIds[1]);
            if (input.llmJudge) {
              await insertJudgeComparisonJob(
                trx,
                { projectId: scope.projectId, comparisonId, attempt: 1 },
                new Date(Date.now() + JUDGE_FIRST_DELAY_MS),
              );
            }
          }
        },
      },
    );
  }
  return requireComparison(db, scope, comparisonId);
}

/** The first look for finished answers; later looks back off (see arena.jobs.ts). */
export const JUDGE_FIRST_DELAY_MS = 5_000;

export async function requireComparison(
  db: Kysely<Database>,
  scope: Scope,
  comparisonId: string,
): Promise<ComparisonWithAnswers> {
  const comparison = await findComparison(db, scope, comparisonId);
  if (!comparison) throw new NotFoundError('not_found', `No comparison ${comparisonId}`);
  return comparison;
}

const isFinished = (status: string | null) => status === 'completed' || status === 'failed';

/** Both answers are in (completed or failed): the comparison can be voted on or judged. */
export function areAnswersFinished(comparison: ComparisonWithAnswers): boolean {
  return isFinished(comparison.answer_a.status) && isFinished(comparison.answer_b.status);
}

/**
 * Records the user's vote as a battle (judge `user:<id>`, source `vote`, anonymous) in one transaction
 * with the comparison's vote; a comparison takes one vote, once both answers are in.
 */
export async function voteOnComparison(
  db: Kysely<Database>,
  scope: Scope,
  input: { comparisonId: string; vote: ArenaVote },
  events?: EventBus,
): Promise<ComparisonWithAnswers> {
  const comparison = await requireComparison(db, scope, input.comparisonId);
  if (comparison.vote !== null) {
    throw new ConflictError(
      'conflict',
      `Comparison ${input.comparisonId} was already voted on (${comparison.vote})`,
    );
  }
  if (!areAnswersFinished(comparison)) {
    throw new ConflictError('conflict', 'Both answers must be finished before the vote');
  }
  await runTransactionWithEvents(db, events, async (trx, emit) => {
    const voted = await updateComparisonVote(trx, scope, {
      comparisonId: input.comparisonId,
      vote: input.vote,
      votedBy: scope.userId,
    });
    if (!voted) throw new ConflictError('conflict', `Comparison ${input.comparisonId} was already voted on`);
    await insertBattles(trx, [
      {
        project_id: scope.projectId,
        agent_a: voted.agent_a,
        agent_b: voted.agent_b,
        winner: winnerOfVote(input.vote),
        category: voted.category,
        judge: `user:${scope.userId}`,
        source: 'vote',
        anony: true,
        command: voted.command,
        task_a_id: voted.task_a_id,
        task_b_id: voted.task_b_id,
        comparison_id: voted.id,
        recorded_by: scope.userId,
      },
    ]);
    emit({ type: 'leaderboard', projectId: scope.projectId, agentIds: [] });
    // The vote lifts the blindness: the live streams now get the two tasks they were not sent.
    for (const taskId of [voted.task_a_id, voted.task_b_id]) {
      if (taskId !== null) emit({ type: 'task', projectId: scope.projectId, userId: voted.user_id, taskId });
    }
  });
  return requireComparison(db, scope, input.comparisonId);
}

type AnswerView = Omit<ComparisonWithAnswers['answer_a'], 'task_id'>;

/**
 * What Mission Control shows of a comparison: the answers as A and B, and (only once voted) which agent
 * gave each, the battles recorded and the judge's verdict. Task ids stay hidden before the vote: a
 * task names its agent.
 */
export async function toComparisonView(db: Kysely<Database>, comparison: ComparisonWithAnswers) {
  const answer = (value: ComparisonWithAnswers['answer_a']): AnswerView => ({
    status: value.status,
    result: value.result,
    error: value.error,
  });
  const voted = comparison.vote !== null;
  let revealed = null;
  let battles: ArenaBattleRow[] = [];
  if (voted) {
    const agents = await findAgentsByIds(db, comparison.project_id, [comparison.agent_a, comparison.agent_b]);
    const describe = (agentId: string, taskId: string | null) => {
      const agent = agents.find((row) => row.agent_id === agentId);
      return {
        agent_id: agentId,
        nickname: agent?.nickname ?? agentId,
        display_name: agent?.display_name ?? agentId,
        task_id: taskId,
      };
    };
    revealed = {
      A: describe(comparison.agent_a, comparison.task_a_id),
      B: describe(comparison.agent_b, comparison.task_b_id),
    };
    battles = await findComparisonBattles(db, comparison.project_id, comparison.id);
  }
  return {
    id: comparison.id,
    command: comparison.command,
    category: comparison.category,
    created_at: comparison.created_at.toISOString(),
    status: voted
      ? ('voted' as const)
      : areAnswersFinished(comparison)
        ? ('ready' as const)
        : ('answering' as const),
    answers: { A: answer(comparison.answer_a), B: answer(comparison.answer_b) },
    llm_judge: comparison.llm_judge,
    vote: comparison.vote,
    voted_at: comparison.voted_at?.toISOString() ?? null,
    agents: revealed,
    battles: battles.map((battle) => ({
      id: battle.id,
      winner: battle.winner,
      judge: battle.judge,
      source: battle.source,
      reasoning: battle.reasoning,
    })),
  };
}
