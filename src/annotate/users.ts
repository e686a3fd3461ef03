// users.ts: annotators and their bearer tokens. A token is 32 random bytes (base64url) shown once when
// the user is made; only its sha256 is stored. With 256 bits of entropy a plain hash is enough (a slow
// hash such as scrypt protects guessable passwords, and would cost every request milliseconds).
import { createHash, randomBytes } from 'node:crypto';
import type Database from 'better-sqlite3';
import { ensureAnnotateSchema } from './schema.js';
import { statement } from './statements.js';

export interface Annotator {
  name: string;
  admin: boolean;
  createdAt: number;
}

export const USER_NAME_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$/;
const TOKEN_PREFIX = 'trw_';

export function tokenHash(token: string): string {
  return createHash('sha256').update(token, 'utf8').digest('hex');
}

export function checkUserName(name: unknown): string {
  if (typeof name !== 'string' || !USER_NAME_PATTERN.test(name)) {
    throw new Error(`Expected a user name of 1 to 64 letters, digits, '.', '_', '@' or '-' (starting with a letter or digit) for name but received ${JSON.stringify(name)}`);
  }
  return name;
}

/**
 * Makes an annotator (or, with `replaceToken`, gives an existing one a new token, which revokes the
 * old one) and returns the token: the only time it exists outside the user's hands.
 */
export function addUser(db: Database.Database, name: string, options: { admin?: boolean; replaceToken?: boolean; now?: number } = {}): { user: Annotator; token: string } {
  checkUserName(name);
  ensureAnnotateSchema(db);
  const token = TOKEN_PREFIX + randomBytes(32).toString('base64url');
  const admin = options.admin ?? false;
  const createdAt = options.now ?? Date.now();
  db.transaction(() => {
    const existing = db.prepare('SELECT admin FROM annotate_users WHERE name = ?').get(name) as { admin: number } | undefined;
    if (existing && !options.replaceToken) {
      throw new Error(`Expected a new user name for name but received ${JSON.stringify(name)} (that user exists; pass --new-token to replace its token)`);
    }
    if (existing) {
      db.prepare('UPDATE annotate_users SET token_sha256 = ?, admin = ? WHERE name = ?').run(tokenHash(token), admin || existing.admin === 1 ? 1 : 0, name);
    } else {
      db.prepare('INSERT INTO annotate_users (name, token_sha256, admin, created_at) VALUES (?, ?, ?, ?)').run(name, tokenHash(token), admin ? 1 : 0, createdAt);
    }
  }).immediate();
  return { user: userByName(db, name)!, token };
}

export function userByName(db: Database.Database, name: string): Annotator | undefined {
  const row = db.prepare('SELECT name, admin, created_at FROM annotate_users WHERE name = ?').get(name) as { name: string; admin: number; created_at: number } | undefined;
  return row && { name: row.name, admin: row.admin === 1, createdAt: row.created_at };
}

export function listUsers(db: Database.Database): Annotator[] {
  ensureAnnotateSchema(db);
  return (db.prepare('SELECT name, admin, created_at FROM annotate_users ORDER BY name').all() as { name: string; admin: number; created_at: number }[])
    .map((r) => ({ name: r.name, admin: r.admin === 1, createdAt: r.created_at }));
}

/** The annotator a bearer token belongs to, or undefined for an unknown token. */
export function userByToken(db: Database.Database, token: string): Annotator | undefined {
  if (!token.startsWith(TOKEN_PREFIX) || token.length > 200) return undefined;
  const row = statement(db, 'SELECT name, admin, created_at FROM annotate_users WHERE token_sha256 = ?').get(tokenHash(token)) as { name: string; admin: number; created_at: number } | undefined;
  return row && { name: row.name, admin: row.admin === 1, createdAt: row.created_at };
}
