/**
 * The Plan page in a real browser (Debian's Chromium driven by playwright-core,
 * as `Dashboard.test.ts` does), over a server whose history has researches
 * that waited for their one training worker: the queue wait and throughput
 * charts with one point per worker count, their bands and the observed marker,
 * and the table — rendered by the server without script, and the same once
 * the script has read `GET /plan`; a window without history shows its
 * sentence. Screenshots go to a temporary directory, or to
 * `FOREMAN_DASHBOARD_SCREENSHOTS` when set.
 *
 * Skipped only when /usr/bin/chromium is missing outside CI; in CI it must run.
 */
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { eventually, startServer } from "@foreman/testing/ApiHarness"
import { browserTitle, haveChromium, launchChromium, shoot } from "@foreman/testing/Browser"
import { Duration, Effect, Exit, Scope } from "effect"
import { type Browser, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

type Server = Effect.Effect.Success<ReturnType<typeof startServer>>

const question = "plan?since=1h&type=training&counts=1..4&seeds=3"

/** What both renderings show: a dot per count on both charts, a band each, the marker, the table. */
const curve = async (page: Page) => {
  expect(await page.locator("#plan-wait-chart circle[data-point='p50 wait']").count()).toBe(4)
  expect(await page.locator("#plan-throughput-chart circle[data-point='researches per day']").count()).toBe(4)
  expect(await page.locator("#plan-wait-chart path[data-band='p50 wait']").count()).toBe(1)
  expect(await page.locator("#plan-throughput-chart path[data-band='researches per day']").count()).toBe(1)
  expect(await page.locator("#plan-wait-chart g[data-marker='you are here']").count()).toBe(1)
  expect(await page.locator("#plan-throughput-chart g[data-marker='you are here']").count()).toBe(1)
  expect(await page.locator("#plan-wait-chart .axis-title").allTextContents()).toEqual(["training workers (job slots)", "Queue wait"])
  expect(await page.locator("#plan-table tr[data-workers]").count()).toBe(4)
  expect(await page.locator("#plan-table tr.observed td").first().textContent()).toBe("1 observed")
  expect(await page.locator("nav a[aria-current=page]").textContent()).toBe("Plan")
}

describe.skipIf(!haveChromium)(browserTitle("the Plan page in Chromium"), () => {
  let browser: Browser
  let server: Server
  let scope: Scope.CloseableScope

  beforeAll(async () => {
    browser = await launchChromium()
    scope = Effect.runSync(Scope.make())
    server = await Effect.runPromise(Scope.extend(
      startServer({
        engine: {
          config: { maxConcurrentResearches: 4 },
          handlers: {
            training: () => Effect.as(Effect.sleep(Duration.millis(300)), goodTraining),
            backtest: () => Effect.succeed(goodBacktest)
          }
        }
      }),
      scope
    ))
    await Effect.runPromise(server.workers.spawn({ id: "training-1", type: "training" }))
    await Effect.runPromise(server.workers.spawn({ id: "backtest-1", type: "backtest" }))
    for (const brief of ["Explore RSI variations", "Test MACD strategies", "Bollinger bands", "Momentum on SPY"]) {
      await Effect.runPromise(server.coordinator.trigger({ brief }))
    }
    await Effect.runPromise(eventually(server.coordinator.status(), (s) => s.active.length === 0, 30))
  }, 60_000)
  afterAll(async () => {
    await browser?.close()
    if (scope !== undefined) await Effect.runPromise(Scope.close(scope, Exit.void))
  })

  it("waits and throughput against training workers: a point per count, bands, the observed marker, the table", async () => {
    const noScript = await browser.newContext({ javaScriptEnabled: false, viewport: { width: 1280, height: 900 } })
    const page = await noScript.newPage()
    const first = await page.goto(`${server.baseUrl}/${question}`, { timeout: 60_000 })
    expect(first?.status()).toBe(200)
    await curve(page)
    expect(await page.locator("#plan-form input[name=counts]").inputValue()).toBe("1..4")
    await noScript.close()

    const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    const live = await context.newPage()
    const errors: Array<string> = []
    live.on("pageerror", (error) => errors.push(error.message))
    live.on("console", (message) => {
      if (message.type() === "error") errors.push(message.text())
    })
    await live.goto(`${server.baseUrl}/${question}`, { timeout: 60_000 })
    await live.waitForSelector("body[data-loaded=true]", { timeout: 60_000 })
    await live.waitForSelector("#plan-wait-chart", { timeout: 60_000 })
    await curve(live)
    await shoot(live, "plan")
    expect(errors).toEqual([])
    await context.close()
  }, 180_000)

  it("a window without history: the sentence, no chart, with and without script", async () => {
    for (const javaScriptEnabled of [false, true]) {
      const context = await browser.newContext({ javaScriptEnabled, viewport: { width: 1280, height: 900 } })
      const page = await context.newPage()
      await page.goto(`${server.baseUrl}/plan?since=2020-01-01&until=2020-01-08&counts=1..2&seeds=1`)
      if (javaScriptEnabled) await page.waitForSelector("body[data-loaded=true]", { timeout: 30_000 })
      expect(await page.locator("#plan-error").textContent()).toMatch(/^No research was created in this window/)
      expect(await page.locator("svg.chart").count()).toBe(0)
      await context.close()
    }
  }, 60_000)
})
