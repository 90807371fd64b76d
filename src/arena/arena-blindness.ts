/**
 * Arena blindness: until a comparison is voted on, its two tasks stay out of every listing that names
 * agents (the task list, its export and the live stream), or a user could see there which agent answered
 * which side. Reading the comparison (`GET /api/arena/compare/{id}`) and a task by its id still work: the
 * arena page needs the answers, and a task id is only shown with the names, after the vote.
 *
 * Hidden for every user of the project, not only the one who asked: in required mode any member may vote.
 */
import { sql } from 'kysely';

/**
 * The condition, over `tasks t`, that leaves out the tasks of unvoted comparisons (an `AND ...` fragment
 * for a task query's WHERE). Two anti-joins rather than one `IN (task_a_id, task_b_id)`, so PostgreSQL
 * can hash them.
 */
export const excludeUnvotedArenaTasks = sql`
  AND NOT EXISTS (SELECT 1 FROM arena_comparisons ac
    WHERE ac.project_id = t.project_id AND ac.vote IS NULL AND ac.task_a_id = t.id)
  AND NOT EXISTS (SELECT 1 FROM arena_comparisons ac
    WHERE ac.project_id = t.project_id AND ac.vote IS NULL AND ac.task_b_id = t.id)`;
