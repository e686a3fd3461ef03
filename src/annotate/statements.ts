// statements.ts: prepared statements kept per database connection (preparing costs more than most of
// the queries the API runs).
import type Database from 'better-sqlite3';
import type { Statement } from 'better-sqlite3';

const caches = new WeakMap<Database.Database, Map<string, Statement>>();

/** The prepared statement for `sql` on `db`, prepared once. */
export function statement(db: Database.Database, sql: string): Statement {
  let cache = caches.get(db);
  if (!cache) caches.set(db, (cache = new Map()));
  let s = cache.get(sql);
  if (!s) cache.set(sql, (s = db.prepare(sql)));
  return s;
}
