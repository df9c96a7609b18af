/** One SQL function as `CREATE FUNCTION` defines it (see `SqlFunctions`). */
export interface SqlFunction {
  readonly name: string
  /** Its parameters, name and type, in order. */
  readonly parameters: ReadonlyArray<readonly [name: string, type: string]>
  /** What it returns, as written after `RETURNS`. */
  readonly returns: string
  readonly language: "plpgsql" | "sql"
  /** The body between the dollar quotes: what `pg_proc.prosrc` holds. */
  readonly body: string
}
