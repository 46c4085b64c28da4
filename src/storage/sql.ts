// The small SQL executor each backend adapter provides; queries are written once, with `?` placeholders.

export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | null;
/** A statement parameter: a value, or (PostgreSQL only, for `unnest`) an array of values. */
export type SqlParam = SqlValue | readonly SqlValue[];

export interface Sql {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Rows as arrays of column values in SELECT order: no object per row, for the hot read paths. */
  rows(sql: string, params?: readonly SqlValue[]): Promise<SqlValue[][]>;
  /** Runs a statement and answers how many rows it changed. */
  run(sql: string, params?: readonly SqlParam[]): Promise<number>;
}

/** `(?, ?, ?), (?, ?, ?)` for a multi-row insert. */
const lists = new Map<number, string>();

export function valuesList(rows: number, columns: number): string {
  const key = rows * 1000 + columns;
  let list = lists.get(key);
  if (list === undefined) {
    const one = `(${new Array(columns).fill("?").join(", ")})`;
    list = new Array(rows).fill(one).join(", ");
    // Only the common shapes are worth keeping; odd batch sizes are built each time.
    if (lists.size < 256) lists.set(key, list);
  }
  return list;
}

/**
 * A multi-row statement's text per row count, built once: the statement cache looks its key up by hash, and a new
 * string of several kilobytes would be hashed again on every call.
 */
export function statementPerSize(build: (rows: number) => string): (rows: number) => string {
  const texts = new Map<number, string>();
  return (rows) => {
    let text = texts.get(rows);
    if (text === undefined) {
      text = build(rows);
      texts.set(rows, text);
    }
    return text;
  };
}

/**
 * Splits rows into the chunks one multi-row statement carries: full chunks of the dialect's largest size, then
 * the rest in powers of two (100 rows on SQLite: 64 + 32 + 4). Every size is a statement of its own, prepared
 * and kept (by SQLite's cache, by every pooled PostgreSQL connection), so the sizes are few: at most seven on
 * SQLite, ten on PostgreSQL, whose largest chunk stays far below its parameter limit and its parser's depth.
 */
export function chunksOf<T>(sql: Sql, rows: readonly T[]): T[][] {
  const out: T[][] = [];
  let i = 0;
  for (let size = sql.dialect === "sqlite" ? 64 : 512; size >= 1; size >>= 1) {
    for (; i + size <= rows.length; i += size) out.push(rows.slice(i, i + size));
  }
  return out;
}

/**
 * Like chunksOf, for statements where a repeated row changes nothing (`DELETE … IN (…)`): full chunks of the
 * largest size, then the rest padded up to a power of two by repeating its last row. The sizes are the same
 * few, and 100 ids take one statement on PostgreSQL (two on SQLite) instead of three.
 */
export function paddedChunksOf<T>(sql: Sql, rows: readonly T[]): T[][] {
  const max = sql.dialect === "sqlite" ? 64 : 512;
  const out: T[][] = [];
  for (let i = 0; i < rows.length; i += max) {
    const chunk = rows.slice(i, i + max);
    let size = 1;
    while (size < chunk.length) size <<= 1;
    while (chunk.length < size) chunk.push(chunk[chunk.length - 1]!);
    out.push(chunk);
  }
  return out;
}

/** Turns rows into one array per column, for PostgreSQL's `unnest(?::type[], …)`: `pick` gives a row's values. */
export function columnsOf<T>(rows: readonly T[], pick: (row: T) => SqlValue[]): SqlValue[][] {
  const columns: SqlValue[][] = [];
  for (const row of rows) {
    const values = pick(row);
    values.forEach((v, i) => (columns[i] ??= []).push(v));
  }
  return columns;
}

/** Appends `FOR UPDATE` where the dialect has row locks; SQLite's writer lock already serialises. */
export function forUpdate(sql: Sql): string {
  return sql.dialect === "postgres" ? " FOR UPDATE" : "";
}
