import type { components } from './openapi.generated.js';

/**
 * Wire types of the Merit HTTP API, taken from the OpenAPI document the server serves
 * (openapi.generated.ts, `npm run generate:api-types`): a change on the server is a type error here.
 * Glossary: task = one command executed by one agent; node = one step inside a task; rating = a user's
 * 1-5 stars; score = a 0-1 quality figure; category = a task's objective category.
 */
type Schemas = components['schemas'];

export type Agent = Schemas['Agent'];
export type Node = Schemas['Node'];
export type Score = Schemas['Score'];
export type Task = Schemas['Task'];
export type TaskStatus = Task['status'];
export type TaskPage = Schemas['TaskPage'];
export type Ranking = Schemas['Ranking'];
export type Leaderboard = Schemas['Leaderboard'];
/** An agent's overall figures, the same shape as its leaderboard row. */
export type AgentStats = Ranking;
export type CategoryStats = Schemas['CategoryStats'];
export type ScoredTask = Schemas['ScoredTask'];
export type AgentPerformance = Schemas['AgentPerformance'];
export type NodeStats = Schemas['NodeStats'];
export type TrendPoint = Schemas['TrendPoint'];
export type CostQualityCell = Schemas['CostQualityCell'];
export type FeedbackResult = Schemas['FeedbackResult'];
export type TaskEvaluation = Schemas['TaskEvaluation'];
export type EvaluationState = Schemas['EvaluationState'];
export type ScoreWithSource = Schemas['ScoreWithSource'];
export type ScoreKind = keyof TaskEvaluation['scores'];
export type EvaluatorVerdict = TaskEvaluation['evaluations'][number];
export type EvaluatorUsage = EvaluatorVerdict['usage'];
export type PeerReview = TaskEvaluation['peer_reviews'][number];
export type AppliedReward = TaskEvaluation['rewards']['applied'][number];
export type EvaluatorSpend = Schemas['EvaluatorSpend'];
export type EvaluatorState = Schemas['EvaluatorState'];
export type ExternalScore = TaskEvaluation['external_scores'][number];
export type ReviewerAgreement = Schemas['ReviewerAgreement'];
export type AgentEvaluation = Schemas['AgentEvaluation'];
export type ScoreInterval = AgentEvaluation['interval'];
export type RoutingCandidateRow = Schemas['RoutingCandidateRow'];
/** The limits a routing decision was taken under (a stored decision keeps them as loosely typed JSON). */
export type RoutingConstraints = Pick<
  Schemas['RoutingDecision']['constraints'],
  'max_cost' | 'max_duration_ms' | 'load_penalty' | 'excluded_agent_ids'
>;
export type StoredRoutingDecision = Schemas['StoredRoutingDecision'];
export type RoutingOutcome = StoredRoutingDecision['outcome'];
export type RoutingQuality = Schemas['RoutingQuality'];
export type RoutingQualityDay = Schemas['RoutingQualityDay'];
/** GET /api/auth/session and POST /api/auth/login. In local mode: authenticated, no account, owner. */
export type AuthSession = Schemas['Session'];
/** How Merit tells who is calling: `local` (the seed's `?user_id=`) or `required` (sessions and keys). */
export type AuthMode = AuthSession['mode'];
export type Account = NonNullable<AuthSession['account']>;
export type Project = NonNullable<AuthSession['project']>;
export type ProjectMembership = AuthSession['projects'][number];
export type ProjectRole = ProjectMembership['role'];
/** Ratings from head-to-head comparisons (Bradley-Terry on an Elo-like scale, mean 1000). */
export type ArenaLeaderboard = Schemas['ArenaLeaderboard'];
export type ArenaRating = ArenaLeaderboard['ratings'][number];
export type ApiKey = Schemas['ApiKey'];
export type KeyScope = ApiKey['scopes'][number];
export type CreatedApiKey = Schemas['CreatedApiKey'];
/** The scopes a key may be given, in the order the form lists them (checked against the schema both ways). */
export const KEY_SCOPES = ['ingest', 'feedback', 'read', 'admin'] as const satisfies readonly KeyScope[];
type MissingScope = Exclude<KeyScope, (typeof KEY_SCOPES)[number]>;
const everyScopeListed: MissingScope extends never ? true : false = true;
void everyScopeListed;
export type CalibrationEstimate = Schemas['CalibrationEstimate'];
export type EvaluatorCalibration = Schemas['EvaluatorCalibration'];
export interface EvaluatorCalibrationList {
  evaluators: EvaluatorCalibration[];
}
