/**
 * What storage can keep verbatim. PostgreSQL text and jsonb refuse NUL and lone
 * surrogates, so every value that comes from outside (a trigger, a worker's
 * report) is checked before it is written, and refused with a clear reason.
 */
import { Schema } from "effect"

/** Whether a value survives storage verbatim (JSON writes NUL and lone surrogates as `\u` escapes). */
export const isStorable = (value: unknown): boolean =>
  !/(?<!\\)(?:\\\\)*\\u(?:0000|d[89a-f][0-9a-f]{2})/i.test(JSON.stringify(value) ?? "")

/** The reason given for a value that is not storable. */
export const reason = "text must be valid Unicode without NUL characters"

/** A Schema filter refusing values storage cannot keep. */
export const filter = <S extends Schema.Schema.Any>(self: S) => self.pipe(Schema.filter(isStorable, { message: () => reason }))
