/**
 * Help and command-line mistakes, for people: `--help` of any command with the
 * full command in its usage line, a sentence per flag (the library's
 * placeholders such as "A user-defined piece of text." left out) and required
 * ones marked; an unknown command or flag named with the level it belongs to
 * and the closest known name; a value of the wrong kind named with its flag.
 * Everything is read from the @effect/cli command tree, so a new command or
 * flag is covered as soon as it exists.
 */
import { CliConfig, CommandDescriptor, HelpDoc, type Usage } from "@effect/cli"
import type { Span } from "@effect/cli/HelpDoc/Span"
import { HashSet, Option } from "effect"

/** A flag: its names (`--help`, `-h`), what value it takes (none for a boolean) and what it is for. */
export interface Flag {
  readonly names: ReadonlyArray<string>
  readonly value: Option.Option<string>
  readonly description: string
  readonly required: boolean
}

/** A command of the tree, with its path from the root (`["foreman", "agent", "trigger"]`). */
export interface Node {
  readonly path: ReadonlyArray<string>
  readonly description: string
  /** The usage after the command's name, e.g. `[--json] <id>`. */
  readonly usage: string
  readonly flags: ReadonlyArray<Flag>
  readonly args: ReadonlyArray<{ readonly name: string; readonly description: string }>
  readonly children: ReadonlyArray<Node>
}

const config = CliConfig.make({ showBuiltIns: false })

const spanText = (span: Span): string => {
  switch (span._tag) {
    case "Text":
    case "URI":
      return span.value
    case "Sequence":
      return spanText(span.left) + spanText(span.right)
    default:
      return spanText(span.value)
  }
}

const docText = (doc: HelpDoc.HelpDoc): ReadonlyArray<string> => {
  switch (doc._tag) {
    case "Empty":
      return []
    case "Header":
    case "Paragraph":
      return [spanText(doc.value)]
    case "Sequence":
      return [...docText(doc.left), ...docText(doc.right)]
    case "Enumeration":
      return doc.elements.flatMap(docText)
    case "DescriptionList":
      return doc.definitions.flatMap(([span, d]) => [spanText(span), ...docText(d)])
  }
}

/** The help document as a list of blocks (headers, paragraphs, lists). */
const blocks = (doc: HelpDoc.HelpDoc): ReadonlyArray<HelpDoc.HelpDoc> =>
  doc._tag === "Sequence" ? [...blocks(doc.left), ...blocks(doc.right)] : doc._tag === "Empty" ? [] : [doc]

/** What the library says of every value of a kind: no help to anyone reading ours. */
const placeholder = (text: string): boolean =>
  /^(A true or false value|A floating point number|An integer|A user-defined piece of text( that is confidential)?|One of the following: .*|An existing (file|directory|file or directory)|A (file|directory|file or directory)( that must not exist)?|A date without a time-zone.*)\.?$/
    .test(text) || text === "This option can be set from environment variables."

/** The entries of the description list that follows the header `title`. */
const section = (docs: ReadonlyArray<HelpDoc.HelpDoc>, title: string) => {
  const at = docs.findIndex((d) => d._tag === "Header" && spanText(d.value) === title)
  const entries: Array<readonly [Span, HelpDoc.HelpDoc]> = []
  for (let i = at + 1; at >= 0 && i < docs.length; i++) {
    const doc = docs[i]!
    if (doc._tag !== "DescriptionList") break
    entries.push(...doc.definitions)
  }
  return entries
}

/** The library calls a secret's value "redacted"; to the person typing it, it is text. */
const valueName = (value: string): string => (value === "redacted" ? "text" : value)

const usageText = (usage: Usage.Usage): string => {
  switch (usage._tag) {
    case "Empty":
      return ""
    case "Mixed":
      return "<command>"
    case "Named":
      return [usage.names.join(", "), ...Option.toArray(Option.map(usage.acceptedValues, valueName))].join(" ")
    case "Optional": {
      const inner = usageText(usage.usage)
      return /^\[[^[\]]*\]$/.test(inner) ? inner : `[${inner}]`
    }
    case "Repeated":
      return `${usageText(usage.usage)}...`
    case "Alternation":
      return `${usageText(usage.left)} | ${usageText(usage.right)}`
    case "Concat":
      return [usageText(usage.left), usageText(usage.right)].filter((t) => t !== "").join(" ")
  }
}

/** The named parts of a usage: each option's names and the values it accepts. */
const named = (usage: Usage.Usage): ReadonlyArray<Usage.Named> => {
  switch (usage._tag) {
    case "Named":
      return [usage]
    case "Optional":
    case "Repeated":
      return named(usage.usage)
    case "Alternation":
    case "Concat":
      return [...named(usage.left), ...named(usage.right)]
    default:
      return []
  }
}

/**
 * The subcommands of `descriptor`, in the order they were given. The public
 * `getSubcommands` flattens a group below the first level into its own
 * command, so this reads the descriptor's structure (`Map` wraps a command,
 * `Subcommands` holds `children`), as pinned by @effect/cli 0.77.
 */
const subcommands = (descriptor: CommandDescriptor.Command<unknown>): ReadonlyArray<CommandDescriptor.Command<unknown>> => {
  const node = descriptor as unknown as {
    readonly _tag: string
    readonly command?: CommandDescriptor.Command<unknown>
    readonly children?: ReadonlyArray<CommandDescriptor.Command<unknown>>
  }
  if (node._tag === "Map" && node.command !== undefined) return subcommands(node.command)
  return node._tag === "Subcommands" ? node.children ?? [] : []
}

/** The command tree under `descriptor`, whose path so far is `parent`. */
export const tree = (descriptor: CommandDescriptor.Command<unknown>, parent: ReadonlyArray<string> = []): Node => {
  const name = Array.from(HashSet.values(CommandDescriptor.getNames(descriptor)))[0] ?? ""
  const path = [...parent, name]
  const docs = blocks(CommandDescriptor.getHelp(descriptor, config))
  const description = (() => {
    const at = docs.findIndex((d) => d._tag === "Header" && spanText(d.value) === "DESCRIPTION")
    const next = at < 0 ? undefined : docs[at + 1]
    return next === undefined || next._tag === "Header" ? "" : docText(next).join(" ")
  })()
  const usage = CommandDescriptor.getUsage(descriptor)
  const parts = named(usage).filter((n) => n.names.some((x) => x.startsWith("-")))
  const flags = section(docs, "OPTIONS").map(([span, doc]): Flag => {
    const heading = spanText(span).replace(/^\((.*)\)/, "$1")
    const first = heading.split(/[ ,]/)[0] ?? heading
    const part = parts.find((p) => p.names.includes(first))
    const texts = docText(doc)
    const description = texts.filter((t) => !placeholder(t) && !t.startsWith("This setting is optional")).join(" ")
    // The library's "Defaults to: 5", unless the sentence gives the default itself.
    const fallback = texts.map((t) => /^This setting is optional\. Defaults to: (.+)$/.exec(t)?.[1]).find((d) => d !== undefined)
    return {
      names: part?.names ?? [first],
      value: Option.map(part?.acceptedValues ?? Option.none(), valueName),
      description: fallback === undefined || /default/i.test(description)
        ? description
        : `${description} (default ${fallback})`,
      required: !texts.some((t) => t.startsWith("This setting is optional"))
    }
  })
  const args = section(docs, "ARGUMENTS").map(([span, doc]) => ({
    name: spanText(span),
    description: docText(doc).filter((t) => !placeholder(t)).join(" ")
  }))
  const children = subcommands(descriptor).map((child) => tree(child, path))
  const tail = children.length > 0 ? "<command>" : usageText(usage).split(" ").slice(1).join(" ")
  return { path, description, usage: tail, flags, args, children }
}

/** Flags every command takes (@effect/cli's built-in options). */
export const builtIns: ReadonlyArray<Flag> = [
  { names: ["-h", "--help"], value: Option.none(), description: "Show this help", required: false },
  {
    names: ["--log-level"],
    value: Option.some("all | trace | debug | info | warning | error | fatal | none"),
    description: "The least important log messages shown",
    required: false
  },
  {
    names: ["--completions"],
    value: Option.some("sh | bash | fish | zsh"),
    description: "Print a completion script for this shell, e.g. foreman --completions bash >> ~/.bashrc",
    required: false
  },
  { names: ["--wizard"], value: Option.none(), description: "Build a command by answering questions", required: false },
  { names: ["--version"], value: Option.none(), description: "Print the version", required: false }
]

/** The commands under `node` that run something (groups replaced by their commands), in order. */
const leaves = (node: Node): ReadonlyArray<Node> => node.children.flatMap((c) => (c.children.length > 0 ? leaves(c) : [c]))

const bold = (text: string) => `\x1b[1m${text}\x1b[0m`

/** The help of `node` as text (bold headers: the caller removes escapes where colour is off). */
export const render = (node: Node, version: string): string => {
  const command = node.path.join(" ")
  const root = node.path.length === 1
  const lines: Array<string> = []
  lines.push(root ? `${command} ${version}` : command, "")
  if (node.description !== "") lines.push(node.description, "")
  lines.push(bold("USAGE"), `  ${[command, node.usage].filter((t) => t !== "").join(" ")}`, "")
  if (node.args.length > 0) {
    lines.push(bold("ARGUMENTS"))
    for (const arg of node.args) {
      lines.push(`  ${arg.name}`, `      ${[arg.description, "(required)"].filter((t) => t !== "").join(" ")}`)
    }
    lines.push("")
  }
  // Below the root, only the built-ins that matter there: --help and --log-level.
  const flags = [...node.flags, ...(root ? builtIns : builtIns.slice(0, 2))]
  lines.push(bold("OPTIONS"))
  for (const flag of flags) {
    lines.push(`  ${[flag.names.join(", "), ...Option.toArray(flag.value)].join(" ")}`)
    lines.push(`      ${flag.description}${flag.required ? " (required)" : ""}`)
  }
  lines.push("")
  if (node.children.length > 0) {
    lines.push(bold("COMMANDS"))
    const commands = leaves(node)
    const width = Math.max(...commands.map((c) => c.path.join(" ").length))
    for (const c of commands) lines.push(`  ${c.path.join(" ").padEnd(width)}  ${c.description}`)
    lines.push("", `Run ${command} <command> --help for the options of each.`)
  }
  return lines.join("\n").trimEnd()
}

/** Edit distance (insert, delete, replace, swap two neighbours). */
const distance = (a: string, b: string): number => {
  const d = Array.from({ length: a.length + 1 }, (_, i) => Array.from({ length: b.length + 1 }, (_, j) => (i === 0 ? j : j === 0 ? i : 0)))
  for (let i = 1; i <= a.length; i++) {
    for (let j = 1; j <= b.length; j++) {
      const cost = a[i - 1] === b[j - 1] ? 0 : 1
      let best = Math.min(d[i - 1]![j]! + 1, d[i]![j - 1]! + 1, d[i - 1]![j - 1]! + cost)
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) best = Math.min(best, d[i - 2]![j - 2]! + 1)
      d[i]![j] = best
    }
  }
  return d[a.length]![b.length]!
}

/** The known name closest to `word`, when it is close enough to be a typo of it. */
export const closest = (word: string, known: ReadonlyArray<string>): string | undefined => {
  const lower = word.toLowerCase()
  const ranked = known
    .map((name) => ({ name, d: distance(lower, name.toLowerCase()) }))
    .filter(({ d, name }) => d <= Math.max(1, Math.min(3, Math.floor(name.replace(/^-+/, "").length / 3))) || name.startsWith(lower))
    .sort((x, y) => x.d - y.d)
  return ranked[0]?.name
}

/** Where argv leads: the command it names and the arguments after it, or the word that names no command. */
export const locate = (
  root: Node,
  argv: ReadonlyArray<string>
): { readonly node: Node; readonly rest: ReadonlyArray<string>; readonly unknown?: string } => {
  let node = root
  let i = 0
  while (node.children.length > 0 && i < argv.length) {
    const word = argv[i]!
    // `--log-level LEVEL` may come before the command (`foreman --log-level warning worker …`).
    if (/^--log-level(=|$)/i.test(word)) {
      i += word.includes("=") ? 1 : 2
      continue
    }
    if (word.startsWith("-")) break
    const child = node.children.find((c) => c.path.at(-1)?.toLowerCase() === word.toLowerCase())
    if (child === undefined) return { node, rest: argv.slice(i), unknown: word }
    node = child
    i++
  }
  return { node, rest: argv.slice(i) }
}

const booleanWords = new Set(["true", "false", "yes", "no", "y", "n", "on", "off", "1", "0"])

/** Why `value` is no value of the kind `kind` (a usage placeholder such as `integer`, or `a | b`), if it is not. */
const badValue = (kind: string, value: string): string | undefined => {
  if (kind === "integer") return /^-?\d+$/.test(value.trim()) ? undefined : "an integer"
  // As @effect/cli reads a float (`NaN` and `Infinity` too: the command judges those).
  if (kind === "float") return value.trim() !== "" && (value === "NaN" || !Number.isNaN(Number(value))) ? undefined : "a number"
  if (kind.includes(" | ")) {
    const choices = kind.split(" | ")
    return choices.some((c) => c.toLowerCase() === value.toLowerCase()) ? undefined : `one of ${choices.join(", ")}`
  }
  return undefined
}

/**
 * The first mistake in `argv` for the tree at `root`, as one line: an unknown
 * command or flag (with the closest known one), a flag without its value, or a
 * value of the wrong kind, or more arguments than the command takes (those
 * after `--` included). What an argument or a value means is left to the
 * command.
 */
export const mistake = (root: Node, argv: ReadonlyArray<string>): string | undefined => {
  const { node, rest, unknown } = locate(root, argv)
  const where = node.path.join(" ")
  if (unknown !== undefined) {
    const names = node.children.map((c) => c.path.at(-1)!)
    const near = closest(unknown, names)
    return `Unknown command ${unknown} for ${where}; ` +
      (near === undefined ? `use one of: ${names.join(", ")}` : `did you mean ${near}?`)
  }
  // --version and --completions belong to the root: with a command's flags, @effect/cli would not take them.
  const flags = [
    ...node.flags,
    ...(node.path.length === 1 ? builtIns : builtIns.filter((f) => !f.names.some((n) => n === "--version" || n === "--completions")))
  ]
  let positional = 0
  // An argument given any number of times (`<id> 2+`) takes every word left.
  const takesMore = node.args.some((a) => /\+$|\.\.\./.test(a.name))
  let afterDashes = false
  for (let i = 0; i < rest.length; i++) {
    const word = rest[i]!
    if (word === "--" && !afterDashes) {
      // Everything after `--` is an argument, however it looks.
      afterDashes = true
      continue
    }
    if (afterDashes || !word.startsWith("-") || /^-\d/.test(word)) {
      if (++positional > node.args.length && node.children.length === 0 && !takesMore) {
        return `Unexpected argument ${word} for ${where}` +
          (node.args.length === 0 ? "; it takes none" : `; it takes ${node.args.map((a) => a.name).join(" ")}`)
      }
      continue
    }
    const [name, ...inline] = word.split("=")
    const flag = flags.find((f) => f.names.some((n) => n.toLowerCase() === name!.toLowerCase()))
    if (flag === undefined) {
      const near = closest(name!, flags.flatMap((f) => f.names).filter((n) => n.startsWith("--")))
      return `Unknown flag ${name} for ${where}; ` + (near === undefined ? `see ${where} --help` : `did you mean ${near}?`)
    }
    if (Option.isNone(flag.value)) {
      if (inline.length === 0 && booleanWords.has((rest[i + 1] ?? "").toLowerCase())) i++
      continue
    }
    const value = inline.length > 0 ? inline.join("=") : rest[++i]
    if (value === undefined) return `${name} needs a value (${flag.value.value})`
    const expected = badValue(flag.value.value, value)
    if (expected !== undefined) return `${name} must be ${expected}, got "${value}"`
  }
  return undefined
}
