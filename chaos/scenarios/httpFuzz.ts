/**
 * http-fuzz: thousands of random and malformed requests at every endpoint of
 * a coordinator running with tokens (see lib/fuzz.ts for what is sent), eight
 * at a time, while a few researches run. Every 5xx answer counts, and so does
 * every request the coordinator did not answer at all (a reset or a close with
 * no status line, or nothing within 15 s: Node's HTTP parser answers even a
 * broken request, a short body or a bad chunk, with 400 before it closes, so
 * silence is never the legitimate answer). Nor for a large body answered on
 * its head (413, 404, 405): the coordinator's lingering close lets the answer
 * arrive while the body is still being sent, so a reset or EPIPE counts too.
 * A trigger the fuzzer got accepted must run to its end like any other.
 */
import * as Api from "../lib/api.js"
import { generate, type FuzzTargets } from "../lib/fuzz.js"
import * as RawHttp from "../lib/rawHttp.js"
import { routeOf } from "../lib/recorder.js"
import { rngFor, type Scenario, standardWorkers, withLab } from "./common.js"

const operatorToken = "chaos-operator-token"
const workerToken = "chaos-worker-token"

export const httpFuzz: Scenario = {
  name: "http-fuzz",
  description: "random and malformed HTTP requests at every endpoint (huge, deep, NUL and lone surrogates, wrong tokens)",
  trials: { short: 2_000, long: 10_000 },
  // The six researches triggered before the fuzz (the stream during it adds more).
  floor: () => 6,
  run: (context) =>
    withLab(context, {
      coordinators: 1,
      workers: standardWorkers,
      jobMs: "100-300",
      coordinatorEnv: { FOREMAN_API_TOKEN: operatorToken, FOREMAN_WORKER_TOKEN: workerToken },
      workerEnv: { FOREMAN_WORKER_TOKEN: workerToken },
      operatorToken
    }, async (lab, workload, facts) => {
      const rng = rngFor(context, "requests")
      await workload.burst(6, 3)
      // Real ids to aim at (read only, or reported on by the wrong worker).
      const list = await Api.call(lab.apiUrl, "GET", "/api/v1/agent/researches?limit=50", { token: operatorToken })
      const researchIds = ((list.json as { researches?: Array<{ id: string }> }).researches ?? []).map((r) => r.id)
      const jobIds: Array<string> = []
      for (const id of researchIds.slice(0, 6)) {
        const show = await Api.call(lab.apiUrl, "GET", `/api/v1/agent/researches/${id}`, { token: operatorToken })
        jobIds.push(...((show.json as { jobs?: Array<{ id: string }> }).jobs ?? []).map((j) => j.id))
      }
      const running: Array<{ jobId: string; workerId: string }> = []
      const targets: FuzzTargets = { operatorToken, workerToken, researchIds, jobIds, workerIds: lab.workerIds, running }
      /** Jobs running now, from the status view (refreshed as the fuzz goes). */
      const refresh = async () => {
        const status = await Api.call(lab.apiUrl, "GET", "/api/v1/agent/status", { token: operatorToken }).catch(() => undefined)
        const active = (status?.json as { active?: Array<{ job: { id: string; workerId: string | null } | null }> } | undefined)?.active ?? []
        running.length = 0
        for (const r of active) if (r.job?.workerId != null) running.push({ jobId: r.job.id, workerId: r.job.workerId })
      }
      const port = lab.coordinatorPorts[0]!
      const accepted: Array<string> = []
      const outcomes = new Map<string, number>()
      /** Per kind of mutation: how it was answered. */
      const byMutation = new Map<string, Map<string, number>>()
      const noAnswer: Array<string> = []
      let next = 0
      // Requests are drawn in order from the seed (the real ids they aim at depend on the moment); eight in flight.
      let sent = 0
      const lane = async () => {
        while (next < context.trials) {
          next++
          if (next % 50 === 0) await refresh()
          const request = generate(rng, targets)
          sent++
          const at = Date.now()
          const outcome = await RawHttp.send(port, request)
          const key = outcome._tag === "Status" ? String(outcome.status) : outcome._tag.toLowerCase()
          outcomes.set(key, (outcomes.get(key) ?? 0) + 1)
          const mutation = request.note.split(" ")[1] ?? "?"
          const seen = byMutation.get(mutation) ?? new Map<string, number>()
          seen.set(key, (seen.get(key) ?? 0) + 1)
          byMutation.set(mutation, seen)
          if (outcome._tag !== "Status") {
            noAnswer.push(`${key}${outcome._tag === "Error" ? ` (${outcome.message})` : ""}: ${request.method} ${request.target.slice(0, 60)} [${request.note}]`)
            lab.recorder.silence({
              at,
              endAt: Date.now(),
              source: "fuzz",
              route: routeOf(request.method, request.target),
              why: RawHttp.silenceOf(outcome) ?? "reset",
              port,
              note: request.note
            })
            continue
          }
          lab.recorder.record({ at, endAt: Date.now(), status: outcome.status, source: "fuzz", route: routeOf(request.method, request.target), note: request.note })
          if (request.trigger && outcome.status === 202) {
            const id = /"researchId":"(op_[\w-]+)"/.exec(outcome.body)?.[1]
            if (id !== undefined) accepted.push(id)
          }
        }
      }
      workload.startStream(1_000, 3_000)
      await Promise.all(Array.from({ length: 8 }, lane))
      await workload.stopStream()
      const health = await Api.call(lab.apiUrl, "GET", "/api/v1/health")
      facts.push(
        `${sent} requests: ${Array.from(outcomes).sort().map(([k, n]) => `${k}x${n}`).join(" ")}; ` +
          `${accepted.length} fuzz triggers accepted; health afterwards ${health.status}`
      )
      const histogram = (counts: Map<string, number>) => Array.from(counts).sort().map(([k, n]) => `${k}x${n}`).join(" ")
      for (const [mutation, counts] of Array.from(byMutation).sort()) facts.push(`  ${mutation.padEnd(14)} ${histogram(counts)}`)
      // Each is counted (unanswered) and listed in the verdict; the first few in full here.
      for (const line of noAnswer.slice(0, 3)) facts.push(`no answer: ${line}`)
      return { trials: sent, extraAccepted: accepted }
    })
}
