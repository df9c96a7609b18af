/**
 * Rows at the adapter's edge. A table's row schema checks its columns with the
 * domain's own field schemas, and a plain function renames them into the
 * domain object (one pass: a `Schema.transform` to the domain schema would
 * check every field a second time, and `listActive` reads every active row on
 * every status read). A row that does not decode is a `StorageError`.
 */
import { Errors } from "@foreman/core"
import { Effect, Schema } from "effect"

/** A `timestamptz` column, which the driver reads as a `Date`. */
export const Timestamp = Schema.ValidDateFromSelf

/** A `timestamptz` in a row turned to JSON by `to_jsonb`: ISO 8601 text. */
export const TimestampText = Schema.Date

/** Epoch milliseconds as a `Date`, to write a `timestamptz` (the driver and `JSON.stringify` keep the millisecond). */
export const toDate = (millis: number): Date => new Date(millis)

/** Decodes rows with `schema`; a row that does not decode is a `StorageError`. */
export const decode = <A, I>(schema: Schema.Schema<A, I>) => {
  const decodeUnknown = Schema.decodeUnknown(schema)
  return (rows: unknown): Effect.Effect<A, Errors.StorageError> =>
    Effect.mapError(
      decodeUnknown(rows),
      (error) => new Errors.StorageError({ reason: `unreadable row: ${Errors.describeParseError(error)}`, cause: error })
    )
}
