/**
 * The CLI at a terminal and in a pipe: colour and screen control only on a
 * terminal and without `NO_COLOR` (https://no-color.org), and a closed pipe
 * (`foreman … | head`) as a quiet end rather than an EPIPE crash.
 */
import { Console, Effect } from "effect"

/** ANSI escape sequences: CSI (colours, cursor, clear screen) and OSC (titles, links). */
const escapes = /\x1b\[[0-?]*[ -/]*[@-~]|\x1b\][^\x07\x1b]*(?:\x07|\x1b\\)|\x1b[@-Z\\-_]/g

/** `text` without ANSI escape sequences. */
export const plain = (text: string): string => text.replace(escapes, "")

/**
 * Whether a stream may carry colour and screen control: it is a terminal and
 * `NO_COLOR` is unset or empty.
 */
export const colourful = (stream: { readonly isTTY?: boolean }, noColor: string | undefined): boolean =>
  stream.isTTY === true && (noColor === undefined || noColor === "")

const stripArgs = (args: ReadonlyArray<unknown>): Array<unknown> =>
  args.map((arg) => (typeof arg === "string" ? plain(arg) : arg))

/**
 * `console` with the escape sequences removed from what goes to stdout
 * (`log`, `info`, `dir`, `table`) unless `stdout` is colourful, and from what
 * goes to stderr (`error`, `warn`, `debug`, `trace`) unless `stderr` is.
 */
export const console = (
  base: Console.Console,
  colour: { readonly stdout: boolean; readonly stderr: boolean }
): Console.Console => {
  if (colour.stdout && colour.stderr) return base
  const out = <R>(keep: boolean, f: (...args: ReadonlyArray<unknown>) => R) =>
    keep ? f : (...args: ReadonlyArray<unknown>) => f(...stripArgs(args))
  const unsafe = base.unsafe
  return {
    ...base,
    log: out(colour.stdout, base.log),
    info: out(colour.stdout, base.info),
    error: out(colour.stderr, base.error),
    warn: out(colour.stderr, base.warn),
    debug: out(colour.stderr, base.debug),
    trace: out(colour.stderr, base.trace),
    clear: colour.stdout ? base.clear : Effect.void,
    unsafe: {
      ...unsafe,
      log: out(colour.stdout, unsafe.log.bind(unsafe)),
      info: out(colour.stdout, unsafe.info.bind(unsafe)),
      error: out(colour.stderr, unsafe.error.bind(unsafe)),
      warn: out(colour.stderr, unsafe.warn.bind(unsafe)),
      debug: out(colour.stderr, unsafe.debug.bind(unsafe)),
      trace: out(colour.stderr, unsafe.trace.bind(unsafe))
    }
  }
}

/** What a write to a stream whose reader has gone fails with. */
const closedCodes = new Set(["EPIPE", "ERR_STREAM_DESTROYED"])

/**
 * Succeeds when stdout or stderr is found closed (its reader exited, as
 * `head` does). From the first call on, such errors on either stream are
 * swallowed for the rest of the process: the program ends quietly instead of
 * crashing on an unhandled `'error'` event; other stream errors still throw.
 */
export const closedOutput: Effect.Effect<void> = Effect.async<void>((resume) => {
  let done = false
  const onError = (error: NodeJS.ErrnoException) => {
    if (error.code === undefined || !closedCodes.has(error.code)) throw error
    if (!done) {
      done = true
      resume(Effect.void)
    }
  }
  process.stdout.on("error", onError)
  process.stderr.on("error", onError)
})
