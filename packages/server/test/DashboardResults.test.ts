/**
 * The researcher's pages in a real browser (Debian's Chromium driven by
 * playwright-core, as `Dashboard.test.ts` does): a research's equity,
 * drawdown and loss charts and its metrics table fitting the page, the
 * strategy leaderboard (sorted, filtered), and researches compared side by
 * side — rendered by the server without script, and the same once the
 * script has read the API. Screenshots go to a temporary directory, or to
 * `FOREMAN_DASHBOARD_SCREENSHOTS` when set.
 *
 * Skipped only when /usr/bin/chromium is missing outside CI; in CI it must run.
 */
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { browserTitle, haveChromium, launchChromium, shoot } from "@foreman/testing/Browser"
import { Effect, Exit, Scope } from "effect"
import { type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

/** A year of month-end equity: the strategy's drifting up with a dip, buy-and-hold's slower. */
const equityCurve = (edge: number) =>
  Array.from({ length: 13 }, (_, m) => ({
    t: `2024-${String(m + 1).padStart(2, "0")}-28`.replace("2024-13", "2025-01"),
    strategy: 1 + edge * m - (m === 6 ? 0.08 : 0),
    buyAndHold: 1 + 0.004 * m
  }))

/** Each backtest a little better than the one before, with the fields the TypeScript example reports. */
let backtests = 0
const backtest = () =>
  Effect.sync(() => {
    backtests++
    return {
      ...goodBacktest,
      sharpeRatio: 0.5 + backtests / 2,
      totalReturn: 0.012 * backtests * 12,
      settings: { commissionBps: 1, slippageBps: 2, flatShare: 0.3 },
      band: { long: 0.5312, short: 0.4688 },
      equity: { final: 1.12, peak: 1.15, trough: 0.97 },
      window: { from: "2024-01-28", to: "2025-01-28", days: 252 },
      equityCurve: equityCurve(0.012 * backtests)
    }
  })

type Server = Effect.Effect.Success<ReturnType<typeof startServer>>

const finished = (server: Server, id: string) =>
  Effect.runPromise(
    eventually(Effect.map(server.coordinator.show(id as never), (d) => d.research.status), (s) => s === "completed", 15)
  )

describe.skipIf(!haveChromium)(browserTitle("the researcher's pages in Chromium"), () => {
  let browser: Browser
  let server: Server
  let scope: Scope.CloseableScope
  const ids: Array<string> = []

  beforeAll(async () => {
    browser = await launchChromium()
    scope = Effect.runSync(Scope.make())
    server = await Effect.runPromise(Scope.extend(
      startServer({ engine: { handlers: { training: () => Effect.succeed(goodTraining), backtest } } }),
      scope
    ))
    await Effect.runPromise(server.workers.spawn({ id: "training-1", type: "training" }))
    await Effect.runPromise(server.workers.spawn({ id: "backtest-1", type: "backtest" }))
    for (const brief of ["Explore RSI variations", "Test MACD strategies", "Bollinger bands on EURUSD"]) {
      // The third follows the first's assessment: its lineage.
      const parent = ids.length === 2 ? { parentId: ids[0] as never } : {}
      const accepted = await Effect.runPromise(server.coordinator.trigger({ brief, ...parent }))
      ids.push(accepted.id)
      await finished(server, accepted.id)
    }
  })
  afterAll(async () => {
    await browser?.close()
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  const research = async (page: Page) => {
    expect(await page.locator("#equity-chart path[data-series=strategy]").count()).toBe(1)
    expect(await page.locator("#equity-chart path[data-series=buy-and-hold]").count()).toBe(1)
    expect(await page.locator("#equity-chart .axis-title").allTextContents()).toEqual(["Day", "Cumulative return"])
    expect(await page.locator("#drawdown-chart .chart-title").textContent()).toMatch(/^Drawdown: .*deepest -\d/)
    expect(await page.locator("#loss-chart path[data-series=loss]").count()).toBe(1)
    expect(await page.locator("tr[data-metric='backtest.winRate'] td.value").textContent()).toBe("55.0%")
    expect(await page.locator("tr[data-metric='backtest.totalTrades'] td.value").textContent()).toBe("40")
    // Nested values are folded, and open on a click; nothing sticks out of the table's section.
    const settings = page.locator("tr[data-metric='backtest.settings'] details")
    expect(await settings.locator("summary").textContent()).toBe("commissionBps, slippageBps, flatShare")
    for (const name of ["equity", "band", "settings", "window"]) {
      const cell = page.locator(`tr[data-metric='backtest.${name}'] td.value`)
      const [box, section] = await Promise.all([cell.boundingBox(), page.locator("#metrics").boundingBox()])
      expect(box!.x + box!.width).toBeLessThanOrEqual(section!.x + section!.width + 1)
      expect(box!.width).toBeGreaterThan(40)
    }
  }

  it("a research: equity against buy-and-hold, drawdown and loss charts, metrics formatted and folded", async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
    const page = await noScript.newPage()
    await page.goto(`${server.baseUrl}/researches/${ids[0]}`)
    await research(page)
    await noScript.close()

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const live = await context.newPage()
    const errors: Array<string> = []
    live.on("pageerror", (error) => errors.push(error.message))
    await live.goto(`${server.baseUrl}/researches/${ids[0]}`)
    await live.waitForSelector("#live.on", { timeout: 15_000 })
    await research(live)
    await live.locator("tr[data-metric='backtest.settings'] summary").click()
    expect(await live.locator("tr[data-metric='backtest.settings'] table.nested").isVisible()).toBe(true)
    await shoot(live, "research-results")
    expect(errors).toEqual([])
    await context.close()
  })

  it("a research's lineage: the research it follows, and those that follow it, linked both ways", async () => {
    for (const javaScriptEnabled of [false, true]) {
      const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (error) => errors.push(error.message))
      await page.goto(`${server.baseUrl}/researches/${ids[0]}`)
      if (javaScriptEnabled) await page.waitForSelector("#live.on", { timeout: 15_000 })
      expect(await page.locator("dl.facts div:has(dt:text-is('Follows')) dd").textContent()).toBe("– (triggered by hand)")
      expect(await page.locator("[data-part=children] tr[data-research] a").allTextContents()).toEqual([ids[2]])
      await Promise.all([page.waitForURL(new RegExp(`/researches/${ids[2]}$`)), page.click(`[data-part=children] a[href$='${ids[2]}']`)])
      if (javaScriptEnabled) await page.waitForSelector("#live.on", { timeout: 15_000 })
      expect(await page.locator("dl.facts div:has(dt:text-is('Follows')) dd a").textContent()).toBe(ids[0])
      expect(await page.locator("[data-part=children] p.empty").textContent()).toBe("No research follows this one's assessment yet.")
      if (javaScriptEnabled) await shoot(page, "research-lineage")
      expect(errors).toEqual([])
      await context.close()
    }
  })

  it("the leaderboard: sorted by Sharpe, sortable by any column, filtered; checked researches compared side by side", async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
    const plain = await noScript.newPage()
    await plain.goto(`${server.baseUrl}/strategies`)
    expect(await plain.locator("#leaderboard tbody tr[data-strategy]").count()).toBe(3)
    expect(await plain.locator("#leaderboard td[data-col=sharpeRatio]").allTextContents()).toEqual(["2.00", "1.50", "1.00"])
    const bad = await plain.goto(`${server.baseUrl}/strategies?sort=luck`)
    expect(bad?.status()).toBe(400)
    expect(await plain.locator("#notice").textContent()).toContain("not valid")
    await plain.goto(`${server.baseUrl}/compare?ids=${ids[0]},${ids[2]},op_missing`)
    expect(await plain.locator("#compare thead th a").allTextContents()).toEqual([ids[0], ids[2]])
    expect(await plain.locator("#compare-chart path[data-series]").count()).toBe(2)
    expect(await plain.locator(".notice.error").textContent()).toContain("op_missing")
    await noScript.close()

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const page = await context.newPage()
    const errors: Array<string> = []
    page.on("pageerror", (error) => errors.push(error.message))
    await page.goto(`${server.baseUrl}/strategies`)
    await page.waitForSelector("#live.on", { timeout: 15_000 })
    await shoot(page, "strategies")
    // Sort by drawdown (the shallowest first), by a click on its header.
    await Promise.all([page.waitForURL(/sort=maxDrawdown/), page.click("#leaderboard th a[href*='sort=maxDrawdown']")])
    expect(await page.locator("#leaderboard th[aria-sort]").textContent()).toContain("Drawdown")
    // Filter by verdict through the form; a filter that selects nothing says so.
    await page.fill("#leaderboard-filter input[name=instrument]", "NOWHERE")
    await Promise.all([page.waitForURL(/instrument=NOWHERE/), page.click("#leaderboard-filter button[type=submit]")])
    expect(await page.locator("#leaderboard td.empty").textContent()).toBe("No strategy matches.")
    expect(page.url()).toContain("sort=maxDrawdown")

    // Check two best researches and compare them.
    await page.goto(`${server.baseUrl}/strategies?sort=sharpeRatio`)
    await page.waitForSelector("#live.on", { timeout: 15_000 })
    const boxes = page.locator("#leaderboard input[name=ids]")
    await boxes.nth(0).check()
    await boxes.nth(1).check()
    await Promise.all([page.waitForURL(/\/compare\?ids=/), page.click("#compare-form button[type=submit]")])
    await page.waitForSelector("#live.on", { timeout: 15_000 })
    expect(await page.locator("#compare thead th a").count()).toBe(2)
    expect(await page.locator("#compare tr[data-row=sharpeRatio] td").allTextContents()).toEqual(["2.00", "1.50"])
    expect(await page.locator("#compare-chart path[data-series]").count()).toBe(2)
    await shoot(page, "compare")
    expect(errors).toEqual([])
    await context.close()
  })

  it("with tokens, the leaderboard and the comparison are read through the API with the operator token", async () => {
    const tokens = { operator: "operator-secret", worker: "worker-secret" }
    const guardedScope = Effect.runSync(Scope.make())
    try {
      const guarded = await Effect.runPromise(Scope.extend(
        startServer({ engine: { handlers: { training: () => Effect.succeed(goodTraining), backtest } }, tokens }),
        guardedScope
      ))
      await Effect.runPromise(guarded.workers.spawn({ id: "training-1", type: "training" }))
      await Effect.runPromise(guarded.workers.spawn({ id: "backtest-1", type: "backtest" }))
      const done: Array<string> = []
      for (const brief of ["Explore RSI variations", "Test MACD strategies"]) {
        const accepted = await Effect.runPromise(guarded.coordinator.trigger({ brief }))
        done.push(accepted.id)
        await finished(guarded, accepted.id)
      }
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (error) => errors.push(error.message))
      await page.goto(`${guarded.baseUrl}/strategies`)
      expect(await page.content()).not.toContain(done[0])
      await page.waitForSelector("#token-form:not([hidden])")
      await page.fill("#token-form input", tokens.operator)
      await page.click("#token-form button")
      await expect.poll(() => page.locator("#leaderboard tbody tr[data-strategy]").count(), { timeout: 15_000 }).toBe(2)
      await page.goto(`${guarded.baseUrl}/compare?ids=${done.join(",")}`)
      await expect.poll(() => page.locator("#compare thead th a").allTextContents(), { timeout: 15_000 }).toEqual(done)
      expect(await page.locator("#compare-chart path[data-series]").count()).toBe(2)
      expect(errors).toEqual([])
      await context.close()
    } finally {
      await Effect.runPromise(Scope.close(guardedScope, Exit.void))
    }
  })

  it("the overview shows the autopilot: running, then why it stopped", async () => {
    const pilotScope = Effect.runSync(Scope.make())
    try {
      // Training never ends here: the autopilot's first research stays running.
      const training = () => Effect.never
      const piloted = await Effect.runPromise(Scope.extend(startServer({ engine: { handlers: { training, backtest } } }), pilotScope))
      await Effect.runPromise(piloted.workers.spawn({ id: "training-1", type: "training" }))
      const api = `${piloted.baseUrl}/api/v1/autopilot`
      const body = JSON.stringify({ brief: "Explore RSI variations", keep: 1, max: 2 })
      const started = await fetch(api, { method: "POST", headers: { "content-type": "application/json" }, body })
      expect(started.status).toBe(201)
      await Effect.runPromise(eventually(piloted.coordinator.autopilot.status(), (s) => s.running.length === 1, 15))
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      const errors: Array<string> = []
      page.on("pageerror", (error) => errors.push(error.message))
      await page.goto(`${piloted.baseUrl}/`)
      await page.waitForSelector("#live.on", { timeout: 15_000 })
      expect(await page.locator("p.autopilot").textContent({ timeout: 5_000 }))
        .toBe("Autopilot running: 1/1 of its researches running, 1/2 started")
      expect((await fetch(api, { method: "DELETE" })).status).toBe(200)
      await page.reload()
      await page.waitForSelector("#live.on", { timeout: 15_000 })
      expect(await page.locator("p.autopilot").textContent({ timeout: 5_000 }))
        .toBe("Autopilot stopped: stopped by an operator (1 started)")
      await shoot(page, "overview-autopilot")
      expect(errors).toEqual([])
      await context.close()
    } finally {
      await Effect.runPromise(Scope.close(pilotScope, Exit.void))
    }
  })
})
