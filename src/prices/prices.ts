/** The price table as the admin page shows it, and which models in use it cannot price. */
import type { LlmSettings } from '../config.js';
import { findModelPrice, type ModelPrice, type PriceTable } from '../llm/pricing.js';

export interface PriceView {
  input_per_million: number;
  output_per_million: number;
  cached_input_per_million: number;
  cache_write_per_million: number;
  reasoning_per_million: number;
}

export function toPriceView(price: ModelPrice): PriceView {
  return {
    input_per_million: price.inputPerMillion,
    output_per_million: price.outputPerMillion,
    cached_input_per_million: price.cachedInputPerMillion,
    cache_write_per_million: price.cacheWritePerMillion,
    reasoning_per_million: price.reasoningPerMillion,
  };
}

/** The table's named models, by name. */
export function listTablePrices(table: PriceTable): ({ model: string } & PriceView)[] {
  return [...table.exact.entries()]
    .sort(([a], [b]) => a.localeCompare(b))
    .map(([model, price]) => ({ model, ...toPriceView(price) }));
}

export interface ModelUse {
  model: string;
  /** Tasks of the scope that name this model. */
  tasks: number;
  /** Finished tasks of this model whose cost is unknown. */
  unpriced_tasks: number;
}

export interface ModelInUseView extends ModelUse {
  /** What Merit's configuration uses it for (`default`, `judge`, `agent <nickname>`). */
  configured_as: string[];
  /** `exact`: named in the table; `pattern`: matched by a glob or regex entry; null: no price. */
  matched_by: 'exact' | 'pattern' | null;
  price: PriceView | null;
}

/** Each model the scope's tasks or the configuration use, with the price the table gives it (or none). */
export function describeModelsInUse(
  uses: readonly ModelUse[],
  llm: LlmSettings | undefined,
  table: PriceTable,
): ModelInUseView[] {
  const configured = new Map<string, string[]>();
  const configure = (model: string, role: string) =>
    configured.set(model, [...(configured.get(model) ?? []), role]);
  if (llm) {
    configure(llm.model, 'default');
    configure(llm.judgeModel, 'judge');
    for (const [nickname, model] of Object.entries(llm.agentModels)) configure(model, `agent ${nickname}`);
  }
  const byModel = new Map(uses.map((use) => [use.model, use]));
  for (const model of configured.keys())
    if (!byModel.has(model)) byModel.set(model, { model, tasks: 0, unpriced_tasks: 0 });
  // Without its patterns the table answers for its named models only: tells exact from pattern matches.
  const namedOnly: PriceTable = { ...table, patterns: [] };
  return [...byModel.values()]
    .sort((a, b) => b.tasks - a.tasks || a.model.localeCompare(b.model))
    .map((use) => {
      const price = findModelPrice(use.model, table);
      const matchedBy = price === null ? null : findModelPrice(use.model, namedOnly) ? 'exact' : 'pattern';
      return {
        ...use,
        configured_as: configured.get(use.model) ?? [],
        matched_by: matchedBy,
        price: price === null ? null : toPriceView(price),
      };
    });
}
