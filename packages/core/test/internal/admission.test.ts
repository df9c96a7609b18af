/**
 * Admission decided from plain data: which requests are valid, which are
 * refused for capacity or budget (and `force` overriding both), and the
 * research an accepted trigger starts.
 */
import { assert, describe, it } from "@effect/vitest"
import { Either, Option } from "effect"
import type { BudgetStatus } from "../../src/Budget.js"
import type { ResearchId } from "../../src/Domain.js"
import * as Admission from "../../src/internal/admission.js"

const strategy = { name: "rsi_momentum", spec: { indicator: "rsi", period: 14 } }

const money = (overrides: Partial<BudgetStatus> = {}): BudgetStatus => ({
  day: "2026-01-01",
  unlimited: false,
  limitUsd: 5,
  spentUsd: 1,
  remainingUsd: 4,
  estimateUsd: 0.5,
  cyclesAffordable: 8,
  canAfford: true,
  ...overrides
})

const admission = (overrides: Partial<Admission.Admission> = {}): Admission.Admission => ({
  requestId: undefined,
  brief: "Explore RSI variations",
  strategy: null,
  model: null,
  bypassGates: false,
  force: false,
  ...overrides
})

describe("admissionOf", () => {
  it("trims the brief and fills the defaults", () => {
    const result = Admission.admissionOf({ brief: "  Explore RSI  " }, null, Option.none())
    assert.deepStrictEqual(result, Either.right(admission({ brief: "Explore RSI" })))
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
    assert.deepStrictEqual(result, Either.right(admission({ brief: "", strategy, force: true, bypassGates: true })))
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

  it("keeps the request id and the model", () => {
    const result = Admission.admissionOf({ brief: "b", model: "m", requestId: "req-1" }, null, Option.none())
    assert.deepStrictEqual(result, Either.right(admission({ brief: "b", model: "m", requestId: "req-1" })))
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
