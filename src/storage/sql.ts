// The small SQL executor each backend adapter provides; queries are written once, with `?` placeholders.

export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | null;

export interface Sql {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Runs a statement and answers how many rows it changed. */
  run(sql: string, params?: readonly SqlValue[]): Promise<number>;
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
 * How many rows one multi-row statement carries: SQLite keeps one cached statement per shape, so it uses a
 * fixed chunk (and single rows for the rest); PostgreSQL wants as few round trips as its parameter limit allows.
 */
export function rowsPerStatement(sql: Sql, columns: number): number {
  return sql.dialect === "sqlite" ? SQLITE_CHUNK : Math.floor(65_535 / columns);
}

const SQLITE_CHUNK = 50;

/** Splits rows into the chunks `rowsPerStatement` allows: full chunks first, then (SQLite) single rows. */
export function chunksOf<T>(sql: Sql, rows: readonly T[], columns: number): T[][] {
  const size = rowsPerStatement(sql, columns);
  const out: T[][] = [];
  let i = 0;
  for (; i + size <= rows.length; i += size) out.push(rows.slice(i, i + size));
  if (sql.dialect === "sqlite") for (; i < rows.length; i++) out.push([rows[i]!]);
  else if (i < rows.length) out.push(rows.slice(i));
  return out;
}

/** Appends `FOR UPDATE` where the dialect has row locks; SQLite's writer lock already serialises. */
export function forUpdate(sql: Sql): string {
  return sql.dialect === "postgres" ? " FOR UPDATE" : "";
}
