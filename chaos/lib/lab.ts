/**
 * A lab for one scenario: a database of its own, one or two real coordinators
 * on fixed loopback ports, the proxy in front of them, and real workers (each
 * on a fixed port, so a restarted worker comes back under the same id and
 * endpoint). Processes that exit without being killed by us are noted as
 * crashes and started again, so the scenario goes on measuring.
 */
import { mkdirSync } from "node:fs"
import { join } from "node:path"
import * as Api from "./api.js"
import * as Foreman from "./foreman.js"
import * as Postgres from "./postgres.js"
import * as Processes from "./processes.js"
import { Proxy } from "./proxy.js"
import { Recorder } from "./recorder.js"
import { installLeaseHistory } from "./rows.js"
import { freePort, until } from "./wait.js"

export interface WorkerSpec {
  readonly id: string
  readonly type: "training" | "backtest"
  /** `python`: a worker on the Python SDK (chaos/worker/fake_worker.py). */
  readonly runtime?: "python"
}

export interface LabOptions {
  readonly name: string
  readonly seed: number
  readonly bundle: Foreman.Bundle
  readonly adminUrl: string
  readonly dir: string
  readonly coordinators: number
  readonly workers: ReadonlyArray<WorkerSpec>
  /** Fake work time, "min-max" milliseconds. */
  readonly jobMs: string
  readonly coordinatorEnv?: Record<string, string>
  readonly workerEnv?: Record<string, string>
  /** Operator token, when the coordinators run with tokens. */
  readonly operatorToken?: string
  /** The order in which the proxy tries the coordinators (default: as started). */
  readonly backendOrder?: (ports: ReadonlyArray<number>) => ReadonlyArray<number>
  readonly log: (line: string) => void
}

export interface Crash {
  readonly name: string
  readonly at: number
  readonly code: number | null
  readonly signal: string | null
  readonly tail: string
}

interface Slot {
  readonly name: string
  readonly port: number
  child: Processes.Child | undefined
  starts: number
  /** Closes the recorder's window for this coordinator being down (set from a kill or crash until it answers again). */
  downEnd?: (() => void) | undefined
}

export class Lab {
  readonly recorder = new Recorder()
  readonly crashes: Array<Crash> = []
  readonly proxy: Proxy
  readonly startsFile: string
  readonly logDir: string
  databaseUrl = ""
  private database = ""
  private readonly coordinatorSlots: Array<Slot> = []
  private readonly workerSlots = new Map<string, Slot & { readonly spec: WorkerSpec }>()
  private closing = false
  /** Worker kills: id → kill times and the pid killed. */
  readonly workerKills: Array<{ readonly id: string; readonly pid: number; readonly at: number }> = []

  constructor(readonly options: LabOptions) {
    this.logDir = join(options.dir, "logs")
    mkdirSync(this.logDir, { recursive: true })
    this.startsFile = join(options.dir, "starts.log")
    this.proxy = new Proxy({
      recorder: this.recorder,
      backends: () => {
        const ports = this.coordinatorSlots.map((s) => s.port)
        return options.backendOrder === undefined ? ports : options.backendOrder(ports)
      }
    })
  }

  /** The API's base URL for the runner (through the proxy). */
  get apiUrl(): string {
    return this.proxy.url
  }

  get coordinatorPorts(): ReadonlyArray<number> {
    return this.coordinatorSlots.map((s) => s.port)
  }

  get workerIds(): ReadonlyArray<string> {
    return Array.from(this.workerSlots.keys())
  }

  workerPid(id: string): number | undefined {
    const child = this.workerSlots.get(id)?.child
    return child?.alive() === true ? child.pid : undefined
  }

  async start(): Promise<void> {
    const { options } = this
    this.database = `chaos_${options.name.replace(/-/g, "_")}_${options.seed}_${process.pid}`.slice(0, 63)
    this.databaseUrl = await Postgres.createDatabase(options.adminUrl, this.database)
    await this.proxy.start()
    for (let i = 0; i < options.coordinators; i++) {
      this.coordinatorSlots.push({ name: `coordinator-${i + 1}`, port: await freePort(), child: undefined, starts: 0 })
    }
    for (const spec of options.workers) {
      this.workerSlots.set(spec.id, { name: spec.id, spec, port: await freePort(), child: undefined, starts: 0 })
    }
    for (let i = 0; i < this.coordinatorSlots.length; i++) this.startCoordinator(i)
    await Promise.all(this.coordinatorSlots.map((_, i) => this.waitCoordinator(i)))
    await installLeaseHistory(this.databaseUrl)
    for (const id of this.workerSlots.keys()) this.startWorker(id)
    await this.waitWorkersRegistered()
  }

  /** Starts coordinator `index` (not waiting for it). */
  startCoordinator(index: number): void {
    const slot = this.coordinatorSlots[index]!
    slot.starts++
    const child = Foreman.startCoordinator({
      bundle: this.options.bundle,
      name: slot.name,
      port: slot.port,
      databaseUrl: this.databaseUrl,
      logDir: this.logDir,
      ...(this.options.coordinatorEnv === undefined ? {} : { env: this.options.coordinatorEnv })
    })
    slot.child = child
    this.watch(child, () => {
      slot.downEnd ??= this.recorder.down(`${slot.name} crashed`, slot.port)
      this.startCoordinator(index)
    })
    const downEnd = slot.downEnd
    if (downEnd !== undefined) {
      // Down until the new process answers: silence from it until then is explained.
      slot.downEnd = undefined
      void this.waitCoordinator(index, 120_000).then(downEnd, downEnd)
    }
  }

  /** Waits until coordinator `index` answers `GET /health`. */
  async waitCoordinator(index: number, timeoutMs = 60_000): Promise<void> {
    const slot = this.coordinatorSlots[index]!
    await until(`${slot.name} to answer`, async () => {
      const reply = await Api.call(`http://127.0.0.1:${slot.port}`, "GET", "/api/v1/health", { timeoutMs: 2_000 })
      return reply.status === 200
    }, { timeoutMs, everyMs: 100 })
  }

  /** `GET /health` of coordinator `index`: whether it leads (undefined when it does not answer). */
  async leading(index: number): Promise<boolean | undefined> {
    const slot = this.coordinatorSlots[index]!
    try {
      const reply = await Api.call(`http://127.0.0.1:${slot.port}`, "GET", "/api/v1/health", { timeoutMs: 2_000 })
      return reply.status === 200 ? (reply.json as { leading?: boolean }).leading === true : undefined
    } catch {
      return undefined
    }
  }

  /** SIGKILLs coordinator `index`. */
  async killCoordinator(index: number): Promise<void> {
    const slot = this.coordinatorSlots[index]!
    const child = slot.child
    if (child === undefined) return
    slot.downEnd ??= this.recorder.down(`${slot.name} killed`, slot.port)
    await Processes.kill(child)
  }

  startWorker(id: string): void {
    const slot = this.workerSlots.get(id)!
    slot.starts++
    const child = Foreman.startWorker({
      bundle: this.options.bundle,
      id,
      type: slot.spec.type,
      port: slot.port,
      apiUrl: this.proxy.url,
      logDir: this.logDir,
      startsFile: this.startsFile,
      seed: this.options.seed,
      jobMs: this.options.jobMs,
      ...(slot.spec.runtime === undefined ? {} : { runtime: slot.spec.runtime }),
      ...(this.options.workerEnv === undefined ? {} : { env: this.options.workerEnv })
    })
    slot.child = child
    this.watch(child, () => this.startWorker(id))
  }

  /** SIGKILLs a worker (it is not restarted until `startWorker`). */
  async killWorker(id: string): Promise<void> {
    const child = this.workerSlots.get(id)?.child
    if (child === undefined || !child.alive()) return
    this.workerKills.push({ id, pid: child.pid, at: Date.now() })
    await Processes.kill(child)
  }

  /** Waits until every worker is registered and live (not offline) with the coordinators. */
  async waitWorkersRegistered(timeoutMs = 60_000): Promise<void> {
    const ids = new Set(this.workerSlots.keys())
    await until("every worker to register", async () => {
      const reply = await Api.call(this.apiUrl, "GET", "/api/v1/workers", { token: this.options.operatorToken })
      if (reply.status !== 200 || !Array.isArray(reply.json)) return false
      const live = (reply.json as Array<{ id: string; status: string }>).filter((w) => ids.has(w.id) && w.status !== "offline")
      return live.length === ids.size
    }, { timeoutMs, everyMs: 200 })
  }

  /** Notes a process that exited on its own as a crash, and starts it again. */
  private watch(child: Processes.Child, restart: () => void): void {
    void child.exited.then(({ code, signal }) => {
      if (child.killedByUs || this.closing) return
      const crash = { name: child.name, at: Date.now(), code, signal, tail: Processes.tail(child, 6) }
      this.crashes.push(crash)
      this.options.log(`  ! ${child.name} exited on its own (code ${code}, signal ${signal}); starting it again`)
      restart()
    })
  }

  async close(): Promise<void> {
    this.closing = true
    const children = [...this.coordinatorSlots, ...this.workerSlots.values()].flatMap((s) => (s.child === undefined ? [] : [s.child]))
    await Promise.all(children.map((child) => Processes.kill(child)))
    await this.proxy.close()
    if (this.database !== "") await Postgres.dropDatabase(this.options.adminUrl, this.database)
  }
}
