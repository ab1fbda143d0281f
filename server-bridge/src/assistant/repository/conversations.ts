/** The `conversations` and `conversation_messages` tables (migration 19). */
import { z } from 'zod';
import type { ChatMessage, ConversationSummary } from '../../contract';
import type { Store } from '../../store';

/** Title of a conversation its first message has not named yet. */
export const UNTITLED = 'New conversation';

const ConversationRowSchema = z.object({
  id: z.string(),
  owner: z.string(),
  endpoint_id: z.string(),
  title: z.string().nullable(),
  created_at: z.string(),
  updated_at: z.string()
});
export type ConversationRow = z.infer<typeof ConversationRowSchema>;

const MessageRowSchema = z.object({
  role: z.enum(['user', 'assistant']),
  content: z.string(),
  context: z.string().nullable(),
  tokens: z.number().int().nullable(),
  created_at: z.string()
});

export function summaryOf(row: ConversationRow): ConversationSummary {
  return {
    id: row.id,
    title: row.title ?? UNTITLED,
    endpointId: row.endpoint_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at
  };
}

export class ConversationTable {
  constructor(private readonly store: Store) {}

  private get db() {
    return this.store.db;
  }

  insert(row: ConversationRow): void {
    this.db
      .prepare(
        `INSERT INTO conversations (id, owner, endpoint_id, title, created_at, updated_at)
         VALUES (@id, @owner, @endpoint_id, @title, @created_at, @updated_at)`
      )
      .run(row);
  }

  get(id: string): ConversationRow | undefined {
    const row = this.db
      .prepare('SELECT * FROM conversations WHERE id = ?')
      .get(id);
    return row === undefined ? undefined : ConversationRowSchema.parse(row);
  }

  /** The owner's conversations, the latest changed first. */
  list(owner: string): ConversationRow[] {
    return this.db
      .prepare(
        'SELECT * FROM conversations WHERE owner = ? ORDER BY updated_at DESC, rowid DESC'
      )
      .all(owner)
      .map(r => ConversationRowSchema.parse(r));
  }

  delete(id: string): void {
    this.db.prepare('DELETE FROM conversations WHERE id = ?').run(id);
  }

  /** Deletes the owner's conversations but the `keep` latest changed; how many went. */
  keepLatest(owner: string, keep: number): number {
    return this.db
      .prepare(
        `DELETE FROM conversations WHERE id IN (SELECT id FROM conversations
           WHERE owner = ? ORDER BY updated_at DESC, rowid DESC LIMIT -1 OFFSET ?)`
      )
      .run(owner, keep).changes;
  }

  /** Names a conversation (when it has no title yet) and marks it changed. */
  touch(id: string, at: string, title?: string): void {
    this.db
      .prepare(
        'UPDATE conversations SET updated_at = ?, title = COALESCE(title, ?) WHERE id = ?'
      )
      .run(at, title ?? null, id);
  }

  messages(id: string): ChatMessage[] {
    return this.db
      .prepare(
        'SELECT * FROM conversation_messages WHERE conversation_id = ? ORDER BY seq'
      )
      .all(id)
      .map(r => {
        const m = MessageRowSchema.parse(r);
        return {
          role: m.role,
          content: m.content,
          context: m.context,
          createdAt: m.created_at,
          tokens: m.tokens
        };
      });
  }

  /** Adds a message; the oldest go beyond `keep` messages. */
  addMessage(id: string, message: ChatMessage, keep: number): void {
    this.db
      .prepare(
        `INSERT INTO conversation_messages (conversation_id, role, content, context, tokens, created_at)
         VALUES (?, ?, ?, ?, ?, ?)`
      )
      .run(
        id,
        message.role,
        message.content,
        message.context,
        message.tokens,
        message.createdAt
      );
    this.db
      .prepare(
        `DELETE FROM conversation_messages WHERE conversation_id = ? AND seq NOT IN
           (SELECT seq FROM conversation_messages WHERE conversation_id = ?
            ORDER BY seq DESC LIMIT ?)`
      )
      .run(id, id, keep);
  }
}
