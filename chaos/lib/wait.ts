/** Condition waits (poll a predicate until it holds or a deadline passes), pauses, and free ports. */
import { createServer } from "node:net"

export const sleep = (ms: number): Promise<void> => new Promise((resolve) => setTimeout(resolve, Math.max(0, ms)))

export class TimeoutError extends Error {}

/**
 * Polls `check` every `everyMs` until it returns a value other than
 * `undefined`/`false`, and returns that value; throws `TimeoutError` after
 * `timeoutMs`. `check` may throw, which counts as "not yet".
 */
export const until = async <A>(
  what: string,
  check: () => Promise<A | undefined | false> | A | undefined | false,
  options: { readonly timeoutMs: number; readonly everyMs?: number }
): Promise<A> => {
  const deadline = Date.now() + options.timeoutMs
  let last: unknown
  for (;;) {
    try {
      const value = await check()
      if (value !== undefined && value !== false) return value
    } catch (error) {
      last = error
    }
    if (Date.now() >= deadline) {
      const why = last instanceof Error ? ` (last error: ${last.message})` : ""
      throw new TimeoutError(`timed out after ${Math.round(options.timeoutMs / 1000)} s waiting for ${what}${why}`)
    }
    await sleep(options.everyMs ?? 100)
  }
}

/** A TCP port on 127.0.0.1 that is free now (the system chooses it). */
export const freePort = (): Promise<number> =>
  new Promise((resolve, reject) => {
    const server = createServer()
    server.unref()
    server.once("error", reject)
    server.listen(0, "127.0.0.1", () => {
      const address = server.address()
      const port = typeof address === "object" && address !== null ? address.port : 0
      server.close(() => resolve(port))
    })
  })

/** Seconds with one decimal. */
export const secs = (ms: number): string => `${(ms / 1000).toFixed(1)} s`

/** `promise`'s value, or `undefined` after `ms` (the timer is cleared either way). */
export const within = async <A>(promise: Promise<A>, ms: number): Promise<A | undefined> => {
  let timer: NodeJS.Timeout | undefined
  const timeout = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)))
  try {
    return await Promise.race([promise, timeout])
  } finally {
    clearTimeout(timer)
  }
}
