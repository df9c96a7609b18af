/**
 * The command examples of README.md and docs/*.md, read from the Markdown.
 *
 * A `console` block is a terminal session: each `$ ` line is a command, the
 * lines under it (to the next `$ `) are what it prints, stdout and stderr as
 * they interleave. A trailing `(exit N)` on one of its lines is the exit code
 * the command must end with. `…` in an output line stands for any text, and a
 * line holding only `…` for any number of lines.
 *
 * The line above the block says what it runs against:
 *
 * - `<!-- doc-test: no-server -->` — nothing listens at the API URL;
 * - `<!-- doc-test: server [VAR=value …] [--flag …] [#name] -->` — a fresh
 *   `foreman server` with those variables and flags (and no workers unless a
 *   flag starts some); blocks of one file with the same line share that
 *   server, in the order they appear (a `#name` tells apart scenes otherwise
 *   alike);
 * - `exact` after the scene compares the output as printed, nothing masked
 *   (for output that is the same on every run: a simulation's report);
 * - either may go on with `; setup: COMMAND` (run first, its output not shown)
 *   and `; meanwhile: COMMAND` (run once a long-running command has printed
 *   the URL of its API, against that API);
 * - a visible line holding `Not run by the doc tests:` and the reason (an API
 *   key, a machine the tests do not have) exempts the block.
 */
import { readdirSync, readFileSync } from "node:fs"
import { join, relative } from "node:path"

/** One command of a console example: what it prints and how it exits. */
export interface ConsoleCommand {
  readonly command: string
  readonly expected: ReadonlyArray<string>
  readonly exit: number | undefined
}

export type Scene =
  | { readonly _tag: "NoServer" }
  | { readonly _tag: "Server"; readonly env: Readonly<Record<string, string>>; readonly flags: ReadonlyArray<string> }

export interface Example {
  /** Where the block starts, `docs/cli.md:120`. */
  readonly where: string
  readonly file: string
  readonly steps: ReadonlyArray<ConsoleCommand>
  /** The scene line as written (blocks of a file with equal keys share a server), or the reason it is not run. */
  readonly key: string
  readonly scene: Scene | { readonly _tag: "NotRun"; readonly reason: string }
  readonly setup: ReadonlyArray<string>
  readonly meanwhile: ReadonlyArray<string>
  /** Compared as printed, nothing masked (for deterministic output: a simulation's figures and trace). */
  readonly exact: boolean
}

/** A block that shows a `$ ` session but is not a `console` block (the test refuses it: it would escape the check). */
export interface Unchecked {
  readonly where: string
  readonly info: string
}

/** README.md and every docs/*.md, relative to `root`. */
export const documents = (root: string): ReadonlyArray<string> => [
  "README.md",
  ...readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md")).sort().map((name) => `docs/${name}`)
]

const EXIT = /\s+\(exit (\d+)\)\s*$/

/** The steps of a session block's body. */
export const steps = (body: ReadonlyArray<string>): ReadonlyArray<ConsoleCommand> => {
  const found: Array<{ command: string; lines: Array<string> }> = []
  for (const line of body) {
    if (line.startsWith("$ ")) found.push({ command: line.slice(2).trim(), lines: [] })
    else if (found.length > 0) found[found.length - 1]!.lines.push(line)
    else throw new Error(`output before the first command: ${JSON.stringify(line)}`)
  }
  return found.map(({ command, lines }) => {
    let exit: number | undefined
    const expected = lines.map((line) => {
      const annotated = EXIT.exec(line)
      if (annotated === null) return line
      exit = Number(annotated[1])
      return line.slice(0, annotated.index)
    })
    while (expected.length > 0 && expected[expected.length - 1]!.trim() === "") expected.pop()
    return { command, expected, exit }
  })
}

/** Parses a scene line's words: `VAR=value` and `--flag [value]`, with double quotes. */
const words = (text: string): ReadonlyArray<string> =>
  Array.from(text.matchAll(/"([^"]*)"|(\S+)/g), (m) => m[1] ?? m[2]!)

const parseScene = (text: string): Pick<Example, "scene" | "setup" | "meanwhile" | "exact"> => {
  const [head, ...rest] = text.split(/;\s*(?=(?:setup|meanwhile):)/)
  const setup = rest.filter((part) => part.startsWith("setup:")).map((part) => part.slice("setup:".length).trim())
  const meanwhile = rest.filter((part) => part.startsWith("meanwhile:")).map((part) => part.slice("meanwhile:".length).trim())
  // `#name` words only tell apart scenes that are otherwise alike (each gets a server of its own).
  const all = words(head!.trim()).filter((word) => !word.startsWith("#"))
  const exact = all.includes("exact")
  const [kind, ...args] = all.filter((word) => word !== "exact")
  if (kind === "no-server" && args.length === 0) return { scene: { _tag: "NoServer" }, setup, meanwhile, exact }
  if (kind === "server") {
    const env: Record<string, string> = {}
    const flags: Array<string> = []
    for (const arg of args) {
      const assignment = /^([A-Z_][A-Z0-9_]*)=(.*)$/.exec(arg)
      if (assignment !== null) env[assignment[1]!] = assignment[2]!
      else flags.push(arg)
    }
    return { scene: { _tag: "Server", env, flags }, setup, meanwhile, exact }
  }
  throw new Error(`unknown doc-test scene ${JSON.stringify(text)} (no-server or server …)`)
}

/** Every `console` block of `file`, and the other blocks that show a `$ ` session. */
export const examples = (root: string, file: string): { readonly examples: ReadonlyArray<Example>; readonly unchecked: ReadonlyArray<Unchecked> } => {
  const lines = readFileSync(join(root, file), "utf8").split("\n")
  const found: Array<Example> = []
  const unchecked: Array<Unchecked> = []
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)/.exec(lines[i]!)
    if (open === null) continue
    const start = i
    const body: Array<string> = []
    for (i++; i < lines.length && !lines[i]!.startsWith("```"); i++) body.push(lines[i]!)
    const where = `${relative(root, join(root, file))}:${start + 1}`
    if (open[1] !== "console") {
      if (body.some((line) => line.startsWith("$ "))) unchecked.push({ where, info: open[1] ?? "" })
      continue
    }
    let above = start - 1
    while (above >= 0 && lines[above]!.trim() === "") above--
    const marker = above >= 0 ? lines[above]! : ""
    const comment = /^<!--\s*doc-test:\s*(.*?)\s*-->$/.exec(marker.trim())
    const notRun = /Not run by the doc tests:\s*([^*_]*)/.exec(marker)
    const parsed = comment !== null
      ? { key: comment[1]!, ...parseScene(comment[1]!) }
      : notRun !== null
      ? { key: "", scene: { _tag: "NotRun" as const, reason: notRun[1]!.replace(/[*_]/g, "").trim() }, setup: [], meanwhile: [], exact: false }
      : undefined
    if (parsed === undefined) {
      throw new Error(`${where}: a console block needs a <!-- doc-test: … --> line or a visible "Not run by the doc tests: reason" line above it`)
    }
    found.push({ where, file, steps: steps(body), ...parsed })
  }
  return { examples: found, unchecked }
}
