import { useMutation, useQuery, useQueryClient } from '@tanstack/react-query';
import { useState } from 'react';
import { type Member, membersQuery, type ProjectRole } from './api/admin-queries.js';
import { describeRequestError, requestJson } from './api/request.js';
import { ScrollRegion } from './scroll-region.js';
import type { TabContext } from './tab-context.js';

const ROLES: ProjectRole[] = ['owner', 'admin', 'member', 'viewer'];

/** The project's members and their roles; admins change a role (only an owner makes an owner). */
export function MembersTab({ connection, csrfToken, canAdmin, role, localMode }: TabContext) {
  const members = useQuery({ ...membersQuery(connection), enabled: canAdmin && !localMode });
  const client = useQueryClient();
  const [error, setError] = useState<string | null>(null);
  const change = useMutation({
    mutationFn: (input: { accountId: string; role: ProjectRole }) =>
      requestJson<Member>(connection, 'PUT', `/members/${encodeURIComponent(input.accountId)}`, {
        body: { role: input.role },
        csrfToken,
      }),
    onSuccess: () => {
      setError(null);
      return client.invalidateQueries({ queryKey: membersQuery(connection).queryKey });
    },
    onError: (cause) => setError(describeRequestError(cause)),
  });

  if (localMode)
    return <p className="muted">Local mode has no accounts: anyone on this machine acts as the owner.</p>;
  if (!canAdmin) return <p className="muted">The member list is shown to the project's admins.</p>;
  if (members.isPending)
    return (
      <p className="muted" role="status">
        Loading members…
      </p>
    );
  if (members.isError)
    return (
      <div className="notice notice-error" role="alert">
        {describeRequestError(members.error)}
      </div>
    );
  return (
    <>
      {error && (
        <div className="notice notice-error" role="alert" data-testid="member-error">
          {error}
        </div>
      )}
      <ScrollRegion label="Members of this project and their roles">
        <table className="keys-table" data-testid="members-table">
          <caption className="visually-hidden">Members of this project and their roles</caption>
          <thead>
            <tr>
              <th scope="col">Email</th>
              <th scope="col">Role</th>
              <th scope="col">Member since</th>
            </tr>
          </thead>
          <tbody>
            {members.data.members.map((member) => (
              <tr key={member.account_id}>
                <td>{member.email}</td>
                <td>
                  <select
                    aria-label={`Role of ${member.email}`}
                    value={member.role}
                    disabled={change.isPending || (member.role === 'owner' && role !== 'owner')}
                    onChange={(event) =>
                      change.mutate({ accountId: member.account_id, role: event.target.value as ProjectRole })
                    }
                  >
                    {ROLES.filter(
                      (option) => option !== 'owner' || role === 'owner' || member.role === 'owner',
                    ).map((option) => (
                      <option key={option} value={option}>
                        {option}
                      </option>
                    ))}
                  </select>
                </td>
                <td>{new Date(member.created_at).toLocaleDateString()}</td>
              </tr>
            ))}
          </tbody>
        </table>
      </ScrollRegion>
      <p className="muted small">New accounts are created with `npx merit users create`.</p>
    </>
  );
}
