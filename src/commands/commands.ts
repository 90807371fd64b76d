/**
 * Mission Control commands: what the user typed and who it is addressed to. Pure: no database, no HTTP.
 */

export interface ParsedCommand {
  /** The leading `@nickname`, lower-cased, or null when the command addresses nobody. */
  mention: string | null;
  /** The command without its leading mention: what the agent is asked to do. */
  text: string;
}

// A mention is `@` then a nickname, followed by whitespace or punctuation such as "@bob, " or "@bob:".
const LEADING_MENTION = /^\s*@([A-Za-z0-9_-]+)(?=$|[\s,:;.!?])[\s,:;]*/;

/** Splits a leading `@nickname` (case-insensitive) from the rest of the command. */
export function parseCommand(command: string): ParsedCommand {
  const match = LEADING_MENTION.exec(command);
  if (!match) return { mention: null, text: command.trim() };
  return { mention: (match[1] as string).toLowerCase(), text: command.slice(match[0].length).trim() };
}

/** The message for a mention of a nickname nobody has, listing the nicknames that exist. */
export function describeUnknownMention(nickname: string, known: readonly string[]): string {
  const list = [...known].sort().map((name) => `@${name}`);
  return `no agent is called @${nickname}; known agents: ${list.join(', ')}`;
}
