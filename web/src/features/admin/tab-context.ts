import type { ProjectRole } from './api/admin-queries.js';
import type { MeritConnection } from './api/request.js';

/** What every editable tab gets from the admin page. */
export interface TabContext {
  connection: MeritConnection;
  csrfToken: string | null;
  /** Admins and owners see the controls that change something. */
  canAdmin: boolean;
  role: ProjectRole | null;
  /** Local mode: no accounts, and built-in categories stay read-only. */
  localMode: boolean;
}
