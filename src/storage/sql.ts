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
export function valuesList(rows: number, columns: number): string {
  const one = `(${new Array(columns).fill("?").join(", ")})`;
  return new Array(rows).fill(one).join(", ");
}

/** Appends `FOR UPDATE` where the dialect has row locks; SQLite's writer lock already serialises. */
export function forUpdate(sql: Sql): string {
  return sql.dialect === "postgres" ? " FOR UPDATE" : "";
}
