/**
 * Every command example in README.md and docs/*.md runs as written, against
 * a real coordinator (a `foreman` server process on PostgreSQL) or against
 * none, and prints what the doc shows, with what changes between runs masked
 * (docs/examples.ts says how a block declares what it runs against, and
 * compare.ts what is masked). A changed output fails here until the doc says
 * what the command prints now.
 */
import { afterAll, assert, describe, it } from "@effect/vitest"
import { createDatabase } from "@foreman/testing/PgDatabase"
import { Effect } from "effect"
import { type ChildProcess, spawn } from "node:child_process"
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { maskedLines, matches } from "./docs/compare.js"
import { documents, type Example, examples, type Scene } from "./docs/examples.js"
import { runStep, shim } from "./docs/session.js"
import { bin, cleanEnv, closedPort, exited, root, signalGroup, waitFor } from "./processes.js"

const foremanOnPath = shim()
const running: Array<ChildProcess> = []
afterAll(async () => {
  for (const child of running) signalGroup(child, "SIGINT")
  await Promise.all(running.map(exited))
  foremanOnPath.remove()
})

let databases = 0
const freshDatabase = () => createDatabase(`foreman_docs_${process.pid}_${++databases}`)

/** Starts `foreman server --port 0 --json` with the scene's variables and flags; answers its API URL. */
const startServer = async (scene: Extract<Scene, { _tag: "Server" }>): Promise<string> => {
  const child = spawn(process.execPath, [bin, "server", "--port", "0", "--json", ...scene.flags], {
    env: { ...cleanEnv, DATABASE_URL: await freshDatabase(), ...scene.env },
    stdio: ["ignore", "pipe", "pipe"],
    detached: true
  })
  running.push(child)
  let stdout = ""
  let stderr = ""
  child.stdout!.on("data", (chunk) => (stdout += String(chunk)))
  child.stderr!.on("data", (chunk) => (stderr += String(chunk)))
  return waitFor("the server's --json line", async () => {
    for (const line of stdout.split("\n")) {
      if (!line.startsWith("{")) continue
      const ready = JSON.parse(line) as { apiUrl?: string }
      if (ready.apiUrl !== undefined) return ready.apiUrl
    }
    if (child.exitCode !== null) throw new Error(`the server exited (${child.exitCode}):\n${stderr}`)
    return undefined
  }, 60_000, () => `${stdout}\n${stderr}`)
}

const servers = new Map<string, Promise<string>>()
/** Ids the doc shows (`op_abc123`) and those the run gave them, per shared server. */
const idsOf = new Map<string, Map<string, string>>()

/** Where the example's commands send their requests, and the ids it has given so far. */
const sceneOf = async (example: Example) => {
  const key = `${example.file} ${example.key}`
  const ids = idsOf.get(key) ?? new Map<string, string>()
  idsOf.set(key, ids)
  if (example.scene._tag === "Server") {
    const scene = example.scene
    const url = servers.get(key) ?? startServer(scene)
    servers.set(key, url)
    return { apiUrl: await url, ids }
  }
  return { apiUrl: `http://127.0.0.1:${await Effect.runPromise(closedPort)}`, ids }
}

const ID = /\b(op|job)_[0-9a-z]+/g

/** Pairs the ids the example shows with those the run printed, in the order they first appear. */
const learnIds = (ids: Map<string, string>, expected: ReadonlyArray<string>, printed: string) => {
  const shown = [...new Set(expected.join("\n").match(ID) ?? [])]
  const real = [...new Set(printed.match(ID) ?? [])]
  shown.forEach((id, index) => {
    if (!ids.has(id) && real[index] !== undefined) ids.set(id, real[index]!)
  })
}

const withIds = (command: string, ids: ReadonlyMap<string, string>) =>
  command.replace(ID, (id) => ids.get(id) ?? id)

const runExample = async (example: Example) => {
  const { apiUrl, ids } = await sceneOf(example)
  const cwd = mkdtempSync(join(tmpdir(), "foreman-doc-"))
  try {
    const env = {
      PATH: `${foremanOnPath.dir}:${process.env["PATH"] ?? ""}`,
      FOREMAN_API_URL: apiUrl,
      // A database of its own for an example that may start a coordinator (`npm start`); one that has
      // its scene's server talks to that server, whose database is its own.
      ...(example.scene._tag === "Server" ? {} : { DATABASE_URL: await freshDatabase() }),
      FOREMAN_PORT: "0",
      FOREMAN_WORKER_PORT: "0"
    }
    for (const command of example.setup) {
      const ran = await runStep(command, { cwd, env, timeoutMs: 60_000 })
      assert.strictEqual(ran.code, 0, `${example.where}: setup \`${command}\` failed:\n${ran.output}`)
    }
    for (const step of example.steps) {
      const ran = await runStep(withIds(step.command, ids), {
        cwd,
        env,
        expected: step.expected,
        meanwhile: example.meanwhile,
        exact: example.exact,
        timeoutMs: 45_000
      })
      const printed = maskedLines(ran.output.split("\n"), example.exact)
      const shown = maskedLines(step.expected, example.exact)
      assert.isTrue(
        matches(shown, printed),
        `${example.where}: \`${step.command}\` printed something else than the doc shows.\n` +
          `--- the doc (masked)\n${shown.join("\n")}\n--- printed (masked)\n${printed.join("\n")}\n--- printed\n${ran.output}`
      )
      if (step.exit !== undefined && !ran.interrupted) {
        assert.strictEqual(ran.code, step.exit, `${example.where}: \`${step.command}\` exit code\n${ran.output}`)
      }
      learnIds(ids, step.expected, ran.output)
    }
  } finally {
    rmSync(cwd, { recursive: true, force: true })
  }
}

/** The examples in groups that share a server (their scene line), in the order the document shows them. */
const byScene = (found: ReadonlyArray<Example>) => {
  const groups = new Map<string, Array<Example>>()
  for (const example of found) {
    const key = example.scene._tag === "Server" ? example.key : example.where
    groups.set(key, [...groups.get(key) ?? [], example])
  }
  return groups
}

// The groups run side by side (each waits mostly on its processes); a group's examples in order.
for (const file of documents(root)) {
  describe(file, { concurrent: true }, () => {
    const found = examples(root, file)

    it("shows terminal sessions only in console blocks (which this test runs)", () => {
      assert.deepStrictEqual(found.unchecked, [], "a block with `$ ` lines must be a ```console block")
    })

    for (const example of found.examples) {
      if (example.scene._tag !== "NotRun") continue
      const reason = example.scene.reason
      it(`${example.where} says visibly why it is not run: ${reason}`, () => {
        assert.match(reason, /\w{3}/, `${example.where}: "Not run by the doc tests:" needs its reason`)
      })
    }

    for (const [key, group] of byScene(found.examples.filter((e) => e.scene._tag !== "NotRun"))) {
      describe(key, () => {
        for (const example of group) {
          const name = `${example.where}: ${example.steps.map((s) => s.command).join(" · ").slice(0, 120)}`
          it.sequential(name, () => runExample(example), 240_000)
        }
      })
    }
  })
}
