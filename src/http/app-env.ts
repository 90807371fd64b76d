import type { Principal } from '../identity/principal.js';

/** Hono variables set by middleware. */
export interface AppEnv {
  Variables: {
    /** Who is calling; set by the authentication middleware on every non-public route. */
    principal: Principal;
  };
}
