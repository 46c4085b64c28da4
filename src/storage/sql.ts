// The small SQL executor each backend adapter provides; queries are written once, with `?` placeholders.

export type Dialect = "sqlite" | "postgres";
export type SqlValue = string | number | null;

export interface Sql {
  readonly dialect: Dialect;
  all<T>(sql: string, params?: readonly SqlValue[]): Promise<T[]>;
  get<T>(sql: string, params?: readonly SqlValue[]): Promise<T | undefined>;
  /** Rows as arrays of column values in SELECT order: no object per row, for the hot read paths. */
  rows(sql: string, params?: readonly SqlValue[]): Promise<SqlValue[][]>;
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
 * Splits rows into the chunks one multi-row statement may carry. PostgreSQL: as few as its parameter limit
 * allows. SQLite keeps one cached statement per shape, so a chunk there carries 64 rows, or a power of
 * two below for the rest (100 rows: 64 + 32 + 4), which bounds the shapes at seven per query.
 */
export function chunksOf<T>(sql: Sql, rows: readonly T[], columns: number): T[][] {
  const out: T[][] = [];
  let i = 0;
  if (sql.dialect === "postgres") {
    const size = Math.floor(65_535 / columns);
    for (; i < rows.length; i += size) out.push(rows.slice(i, i + size));
    return out;
  }
  for (let size = 64; size >= 1; size >>= 1) {
    for (; i + size <= rows.length; i += size) out.push(rows.slice(i, i + size));
  }
  return out;
}

/** Appends `FOR UPDATE` where the dialect has row locks; SQLite's writer lock already serialises. */
export function forUpdate(sql: Sql): string {
  return sql.dialect === "postgres" ? " FOR UPDATE" : "";
}
