/**
 * Admission decided from plain data: which requests are valid, which are
 * refused for capacity or budget (and `force` overriding both), what a repeat
 * under a request key answers, and the research an accepted trigger starts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, Exit, Option } from "effect"
import type { BudgetStatus } from "../../src/Budget.js"
import type { ResearchId } from "../../src/Domain.js"
import { IdempotencyKeyReused } from "../../src/Errors.js"
import * as Admission from "../../src/internal/admission.js"
import * as Fingerprint from "../../src/internal/fingerprint.js"

const strategy = { name: "rsi_momentum", spec: { indicator: "rsi", period: 14 } }

const money = (overrides: Partial<BudgetStatus> = {}): BudgetStatus => ({
  day: "2026-01-01",
  unlimited: false,
  limitUsd: 5,
  spentUsd: 1,
  simulatedUsd: 0,
  remainingUsd: 4,
  estimateUsd: 0.5,
  cyclesAffordable: 8,
  canAfford: true,
  ...overrides
})

const admission = (overrides: Partial<Admission.Admission> = {}): Admission.Admission => ({
  requestId: undefined,
  fingerprint: "",
  brief: "Explore RSI variations",
  strategy: null,
  model: null,
  bypassGates: false,
  force: false,
  parentId: null,
  ...overrides
})

/** An admission as checked, with the fingerprint of the request it came from (none without a request id). */
const admitted = (request: Admission.Request, overrides: Partial<Admission.Admission>) => {
  const { requestId: _, ...body } = request
  const fingerprint = overrides.requestId === undefined ? null : Fingerprint.of(body)
  return Either.right(admission({ fingerprint, ...overrides }))
}

describe("admissionOf", () => {
  it("trims the brief and fills the defaults", () => {
    const result = Admission.admissionOf({ brief: "  Explore RSI  " }, null, Option.none())
    assert.deepStrictEqual(result, admitted({ brief: "  Explore RSI  " }, { brief: "Explore RSI" }))
  })

  it("keeps the research a trigger follows", () => {
    const parentId = "op_parent" as ResearchId
    const result = Admission.admissionOf({ brief: "b", parentId }, null, Option.none())
    assert.deepStrictEqual(result, admitted({ brief: "b", parentId }, { brief: "b", parentId }))
    if (Either.isRight(result)) assert.strictEqual(Admission.researchOf(result.right, "op_x" as ResearchId, "designing", 1).parentId, parentId)
  })

  it("refuses a request with neither a brief nor a strategy", () => {
    const result = Admission.admissionOf({ brief: "   " }, null, Option.none())
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) {
      assert.strictEqual(result.left._tag, "InvalidInput")
      assert.strictEqual(result.left.reason, "give a brief to design from, or an existing strategy")
    }
  })

  it("takes a strategy without a brief", () => {
    const result = Admission.admissionOf({ force: true, bypassGates: true }, strategy, Option.none())
    assert.deepStrictEqual(
      result,
      admitted({ force: true, bypassGates: true }, { brief: "", strategy, force: true, bypassGates: true })
    )
  })

  it("refuses a model the agents cannot run, saying why", () => {
    const result = Admission.admissionOf({ brief: "b", model: "gpt-x" }, null, Option.some("unknown model gpt-x"))
    assert.isTrue(Either.isLeft(result))
    if (Either.isLeft(result)) assert.strictEqual(result.left.reason, "model: unknown model gpt-x")
  })

  it("checks the brief before the model", () => {
    const result = Admission.admissionOf({ model: "gpt-x" }, null, Option.some("unknown model gpt-x"))
    assert.isTrue(Either.isLeft(result) && result.left.reason.startsWith("give a brief"))
  })

  it("keeps the request id and the model, and fingerprints the request without its id", () => {
    const result = Admission.admissionOf({ brief: "b", model: "m", requestId: "req-1" }, null, Option.none())
    assert.deepStrictEqual(result, admitted({ brief: "b", model: "m" }, { brief: "b", model: "m", requestId: "req-1" }))
    const again = Admission.admissionOf({ model: "m", brief: "b", requestId: "req-2" }, null, Option.none())
    assert.strictEqual(Either.getOrThrow(again).fingerprint, Either.getOrThrow(result).fingerprint)
  })
})

describe("repeatOf", () => {
  const held = (fingerprint: string | null, recordedAt: number) => ({
    research: { id: "op_first" } as never,
    key: { id: "req-1", fingerprint, recordedAt }
  })
  const repeat = admission({ requestId: "req-1", fingerprint: "same" })

  it("answers the research for a live key and the same request (or a key recorded without a fingerprint)", () => {
    assert.deepStrictEqual(Admission.repeatOf(held("same", 1000), repeat, 1000), Exit.succeed({ id: "op_first" } as never))
    assert.deepStrictEqual(Admission.repeatOf(held(null, 1000), repeat, 500), Exit.succeed({ id: "op_first" } as never))
  })

  it("refuses another request under a live key, naming the key", () => {
    const refused = Admission.repeatOf(held("other", 1000), repeat, 0)
    assert.deepStrictEqual(refused, Exit.fail(new IdempotencyKeyReused({ requestId: "req-1" })))
  })

  it("answers nothing for an expired key: it may start a new research", () => {
    assert.isUndefined(Admission.repeatOf(held("other", 999), repeat, 1000))
    assert.isUndefined(Admission.repeatOf(held("same", 999), repeat, 1000))
  })
})

describe("verdict", () => {
  it("admits below the limit with money left", () => {
    assert.deepStrictEqual(Admission.verdict(false, 2, 3, money()), { _tag: "Admit" })
  })

  it("refuses at capacity, naming the active count and the limit", () => {
    const v = Admission.verdict(false, 3, 3, money())
    assert.strictEqual(v._tag, "Refuse")
    if (v._tag === "Refuse") {
      assert.strictEqual(v.reason, "capacity")
      assert.strictEqual(v.error._tag, "AtCapacity")
      assert.deepInclude(v.error, { active: 3, limit: 3 })
    }
  })

  it("checks capacity before budget", () => {
    const v = Admission.verdict(false, 5, 3, money({ canAfford: false }))
    assert.isTrue(v._tag === "Refuse" && v.reason === "capacity")
  })

  it("refuses when the budget cannot cover a cycle's estimate", () => {
    const v = Admission.verdict(false, 0, 3, money({ canAfford: false, remainingUsd: 0.2 }))
    assert.strictEqual(v._tag, "Refuse")
    if (v._tag === "Refuse") {
      assert.strictEqual(v.reason, "budget")
      assert.deepInclude(v.error, { remainingUsd: 0.2, estimateUsd: 0.5, active: 0 })
    }
  })

  it("reports no remaining money as 0", () => {
    const v = Admission.verdict(false, 0, 3, money({ canAfford: false, remainingUsd: null }))
    assert.isTrue(v._tag === "Refuse" && v.error._tag === "BudgetExhausted" && v.error.remainingUsd === 0)
  })

  it("lets force override capacity and budget", () => {
    assert.deepStrictEqual(Admission.verdict(true, 9, 3, money({ canAfford: false })), { _tag: "Admit" })
  })
})

describe("researchOf", () => {
  const id = "op_00000000000001" as ResearchId

  it("starts a research in the given phase at the given time", () => {
    const r = Admission.researchOf(admission({ model: "m", bypassGates: true }), id, "designing", 5_000)
    assert.strictEqual(r.id, id)
    assert.strictEqual(r.brief, "Explore RSI variations")
    assert.strictEqual(r.phase, "designing")
    assert.strictEqual(r.status, "pending")
    assert.strictEqual(r.model, "m")
    assert.isTrue(r.bypassGates)
    assert.isFalse(r.forced)
    assert.strictEqual(r.createdAt, 5_000)
  })

  it("names a research with a strategy and no brief after its strategy", () => {
    const r = Admission.researchOf(admission({ brief: "", strategy, force: true }), id, "training", 5_000)
    assert.strictEqual(r.brief, "strategy rsi_momentum")
    assert.deepStrictEqual(r.strategy, strategy)
    assert.isTrue(r.forced)
  })
})
