import { useQuery } from '@tanstack/react-query';
import { pricesQuery } from './api/admin-queries.js';
import { describeRequestError, type MeritConnection } from './api/request.js';
import { ScrollRegion } from './scroll-region.js';

const usd = (value: number) => `$${value.toFixed(value < 1 ? 3 : 2)}`;

/** The model price table, and the models in use it cannot price (their tasks' costs are unknown). */
export function PricesTab({ connection }: { connection: MeritConnection }) {
  const prices = useQuery(pricesQuery(connection));
  if (prices.isPending)
    return (
      <p className="muted" role="status">
        Loading prices…
      </p>
    );
  if (prices.isError)
    return (
      <div className="notice notice-error" role="alert">
        {describeRequestError(prices.error)}
      </div>
    );
  const data = prices.data;
  return (
    <>
      {data.unpriced_models.length > 0 && (
        <div className="notice" role="status" data-testid="unpriced-models">
          No price for {data.unpriced_models.join(', ')}: the cost of their tasks is unknown (not zero). Add
          them to a file named by MERIT_PRICES_FILE.
        </div>
      )}
      <h3 className="panel-title">Models in use</h3>
      <ScrollRegion label="Models used by this project's tasks or configured">
        <table className="keys-table" data-testid="models-in-use-table">
          <caption className="visually-hidden">Models used by this project's tasks or configured</caption>
          <thead>
            <tr>
              <th scope="col">Model</th>
              <th scope="col">Tasks</th>
              <th scope="col">Of unknown cost</th>
              <th scope="col">Price ({data.unit})</th>
            </tr>
          </thead>
          <tbody>
            {data.models_in_use.map((use) => (
              <tr key={use.model}>
                <th scope="row">
                  {use.model}
                  {use.configured_as.length > 0 && (
                    <div className="muted small">{use.configured_as.join(', ')}</div>
                  )}
                </th>
                <td>{use.tasks}</td>
                <td>{use.unpriced_tasks}</td>
                <td>
                  {use.price === null ? (
                    <span className="tone-error">no price</span>
                  ) : (
                    `${usd(use.price.input_per_million)} in · ${usd(use.price.output_per_million)} out${
                      use.matched_by === 'pattern' ? ' (by pattern)' : ''
                    }`
                  )}
                </td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <details>
        <summary>
          The price table: {data.models.length} models and {data.pattern_count} patterns
          {data.checked ? `, checked ${data.checked}` : ''}
        </summary>
        <ScrollRegion label="The price table">
          <table className="keys-table" data-testid="price-table">
            <caption className="visually-hidden">Prices in {data.unit}</caption>
            <thead>
              <tr>
                <th scope="col">Model</th>
                <th scope="col">Input</th>
                <th scope="col">Cached input</th>
                <th scope="col">Output</th>
              </tr>
            </thead>
            <tbody>
              {data.models.map((model) => (
                <tr key={model.model}>
                  <th scope="row">{model.model}</th>
                  <td>{usd(model.input_per_million)}</td>
                  <td>{usd(model.cached_input_per_million)}</td>
                  <td>{usd(model.output_per_million)}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </ScrollRegion>
      </details>
    </>
  );
}
