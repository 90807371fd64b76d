import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { type FormEvent, useId, useState } from 'react';
import { inEveryScope } from '../../lib/query-keys.js';
import { type Category, categoriesQuery } from './api/admin-queries.js';
import { describeRequestError, requestJson } from './api/request.js';
import { ScrollRegion } from './scroll-region.js';
import type { TabContext } from './tab-context.js';

const splitLines = (text: string) =>
  text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');

/** The objective categories with their judge criteria; admins create categories and edit them. */
export function CategoriesTab({ connection, csrfToken, canAdmin, localMode }: TabContext) {
  const categories = useQuery(categoriesQuery(connection));
  const [editing, setEditing] = useState<string | null>(null);
  if (categories.isPending)
    return (
      <p className="muted" role="status">
        Loading categories…
      </p>
    );
  if (categories.isError)
    return (
      <div className="notice notice-error" role="alert">
        {describeRequestError(categories.error)}
      </div>
    );
  return (
    <>
      <ScrollRegion label="Objective categories">
        <table className="keys-table" data-testid="categories-table">
          <caption className="visually-hidden">Objective categories</caption>
          <thead>
            <tr>
              <th scope="col">Category</th>
              <th scope="col">Description</th>
              <th scope="col">Judge criteria</th>
              <th scope="col">Keywords</th>
              {canAdmin && <th scope="col">Change</th>}
            </tr>
          </thead>
          <tbody>
            {categories.data.categories.map((category) => {
              // Built-in categories are read-only in local mode (the API says why).
              const editable = canAdmin && !(localMode && category.is_builtin);
              return (
                <tr key={category.category} data-testid={`category-${category.category}`}>
                  <th scope="row">
                    {category.display_name}
                    <div className="muted small">
                      {category.category}
                      {category.is_builtin ? ' · built in' : ''}
                    </div>
                  </th>
                  <td>
                    {editing === category.category ? (
                      <CategoryEditor
                        category={category}
                        context={{ connection, csrfToken }}
                        onDone={() => setEditing(null)}
                      />
                    ) : (
                      category.description
                    )}
                  </td>
                  <td>
                    <ul className="tags">
                      {category.evaluation_criteria.map((criterion) => (
                        <li key={criterion}>{criterion}</li>
                      ))}
                    </ul>
                  </td>
                  <td className="small">
                    {category.keywords.join(', ') || <span className="muted">none</span>}
                  </td>
                  {canAdmin && (
                    <td>
                      {editable && editing !== category.category && (
                        <button
                          type="button"
                          className="button button-small"
                          onClick={() => setEditing(category.category)}
                          aria-label={`Edit ${category.display_name}`}
                        >
                          Edit
                        </button>
                      )}
                    </td>
                  )}
                </tr>
              );
            })}
          </tbody>
        </table>
      </ScrollRegion>
      {canAdmin && <CreateCategoryForm connection={connection} csrfToken={csrfToken} />}
    </>
  );
}

function CategoryEditor({
  category,
  context,
  onDone,
}: {
  category: Category;
  context: Pick<TabContext, 'connection' | 'csrfToken'>;
  onDone: () => void;
}) {
  const baseId = useId();
  const client = useQueryClient();
  const [description, setDescription] = useState(category.description);
  const [criteria, setCriteria] = useState(category.evaluation_criteria.join('\n'));
  const save = useMutation({
    mutationFn: () =>
      requestJson<Category>(
        context.connection,
        'PATCH',
        `/categories/${encodeURIComponent(category.category)}`,
        {
          body: { description: description.trim(), evaluation_criteria: splitLines(criteria) },
          csrfToken: context.csrfToken,
        },
      ),
    onSuccess: async () => {
      // The stream's and leaderboard's category pickers list them too.
      await Promise.all([
        client.invalidateQueries({ queryKey: categoriesQuery(context.connection).queryKey }),
        client.invalidateQueries(inEveryScope('categories')),
      ]);
      onDone();
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    save.mutate();
  };
  return (
    <form onSubmit={submit} data-testid="category-editor">
      <label className="field" htmlFor={`${baseId}-description`}>
        <span className="field-label">Description</span>
        <textarea
          id={`${baseId}-description`}
          className="field-input"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
        />
      </label>
      <label className="field" htmlFor={`${baseId}-criteria`}>
        <span className="field-label">Judge criteria, one a line</span>
        <textarea
          id={`${baseId}-criteria`}
          className="field-input"
          value={criteria}
          onChange={(event) => setCriteria(event.target.value)}
        />
      </label>
      {save.isError && (
        <div className="notice notice-error" role="alert">
          {describeRequestError(save.error)}
        </div>
      )}
      <button type="submit" className="button button-primary button-small" disabled={save.isPending}>
        Save
      </button>{' '}
      <button type="button" className="button button-small" onClick={onDone}>
        Cancel
      </button>
    </form>
  );
}

function CreateCategoryForm({ connection, csrfToken }: Pick<TabContext, 'connection' | 'csrfToken'>) {
  const baseId = useId();
  const client = useQueryClient();
  const [name, setName] = useState('');
  const [description, setDescription] = useState('');
  const [criteria, setCriteria] = useState('');
  const create = useMutation({
    mutationFn: () =>
      requestJson<Category>(connection, 'POST', '/categories', {
        body: {
          category: name.trim(),
          description: description.trim(),
          evaluation_criteria: splitLines(criteria),
        },
        csrfToken,
      }),
    onSuccess: async () => {
      setName('');
      setDescription('');
      setCriteria('');
      await Promise.all([
        client.invalidateQueries({ queryKey: categoriesQuery(connection).queryKey }),
        client.invalidateQueries(inEveryScope('categories')),
      ]);
    },
  });
  const submit = (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    create.mutate();
  };
  return (
    <form
      className="key-form"
      onSubmit={submit}
      aria-labelledby={`${baseId}-title`}
      data-testid="category-form"
    >
      <h3 id={`${baseId}-title`} className="panel-title">
        New category
      </h3>
      <label className="field" htmlFor={`${baseId}-name`}>
        <span className="field-label">Name (lowercase, e.g. legal_research)</span>
        <input
          id={`${baseId}-name`}
          className="field-input"
          value={name}
          onChange={(event) => setName(event.target.value)}
          required
        />
      </label>
      <label className="field" htmlFor={`${baseId}-description`}>
        <span className="field-label">Description</span>
        <textarea
          id={`${baseId}-description`}
          className="field-input"
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          required
        />
      </label>
      <label className="field" htmlFor={`${baseId}-criteria`}>
        <span className="field-label">Judge criteria, one a line</span>
        <textarea
          id={`${baseId}-criteria`}
          className="field-input"
          value={criteria}
          onChange={(event) => setCriteria(event.target.value)}
          required
        />
      </label>
      {create.isError && (
        <div className="notice notice-error" role="alert" data-testid="category-error">
          {describeRequestError(create.error)}
        </div>
      )}
      <button type="submit" className="button button-primary" disabled={create.isPending}>
        Create category
      </button>
    </form>
  );
}
