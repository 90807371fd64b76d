/** Wire types of `GET /api/evaluators/calibration` (server: src/evaluation/calibration.routes.ts). */

/** An agreement figure with its 95% interval. */
export interface CalibrationEstimate {
  value: number;
  lower: number;
  upper: number;
}

/** One automatic evaluator's agreement with users' ratings on the tasks both scored. */
export interface EvaluatorCalibration {
  /** 'judge', 'judge.accuracy', 'judge.relevance', 'judge.completeness', 'offline' or 'reviewer:<agent_id>'. */
  evaluator: string;
  n: number;
  /** Spearman rank correlation; null below the minimum n or without variation (see reason). */
  spearman: CalibrationEstimate | null;
  /** Quadratic weighted kappa of the scores as stars against the ratings; null like spearman. */
  qwk: CalibrationEstimate | null;
  /** How much the evaluator's scores count in overall scores now (0-1). */
  weight: number;
  reason: string | null;
}

export interface EvaluatorCalibrationList {
  evaluators: EvaluatorCalibration[];
}
