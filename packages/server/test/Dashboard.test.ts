/**
 * The dashboard in a real browser: Debian's Chromium driven by playwright-core
 * against servers with real researches (in-memory engine, in-memory workers).
 * Each page is loaded and checked; Trigger and Cancel are used from the pages;
 * updates arrive through the event stream without a reload, also after the
 * stream drops (it resumes with `Last-Event-ID`); a server with tokens asks
 * for the operator token once and keeps it for the tab; the pages work under
 * a prefix (`ApiServer.webHandler`). Screenshots go to a temporary directory,
 * or to `FOREMAN_DASHBOARD_SCREENSHOTS` when set.
 *
 * Skipped only when /usr/bin/chromium is missing outside CI; in CI it must run.
 */
import { goodBacktest, goodTraining } from "@foreman/adapter-memory/TestEngine"
import { Memory } from "@foreman/adapter-memory"
import { eventually, json, startServer } from "@foreman/testing/ApiHarness"
import { ApiServer } from "@foreman/server"
import { browserTitle, haveChromium, launchChromium, shoot } from "@foreman/testing/Browser"
import { Effect, Exit, Scope } from "effect"
import { type Browser, type BrowserContext, type Page } from "playwright-core"
import { afterAll, beforeAll, describe, expect, it } from "vitest"

/** A training worker holds its job while `hold.training` is set, so a research stays active. */
const hold = { training: false }
const handlers = {
  training: () => Effect.suspend(() => hold.training ? Effect.never : Effect.succeed(goodTraining)),
  backtest: () => Effect.succeed(goodBacktest)
}

type Server = Effect.Effect.Success<ReturnType<typeof startServer>>

/** A server in its own scope, with a training and a backtest worker; closed after the file. */
const serve = async (tokens?: { operator: string; worker: string }) => {
  const scope = Effect.runSync(Scope.make())
  const server = await Effect.runPromise(
    Scope.extend(startServer({ engine: { handlers }, ...(tokens === undefined ? {} : { tokens }) }), scope)
  )
  await Effect.runPromise(server.workers.spawn({ id: "training-1", type: "training" }))
  await Effect.runPromise(server.workers.spawn({ id: "backtest-1", type: "backtest" }))
  return { server, close: () => Effect.runPromise(Scope.close(scope, Exit.void)) }
}

const authorization = (token?: string): Record<string, string> =>
  token === undefined ? {} : { authorization: `Bearer ${token}` }

/** Triggers through the API, as another operator would. */
const trigger = async (server: Server, brief: string, token?: string): Promise<string> => {
  const response = await fetch(`${server.baseUrl}/api/v1/agent/trigger`, json("POST", { brief }, authorization(token)))
  expect(response.status).toBe(202)
  return ((await response.json()) as { researchId: string }).researchId
}

const statusOf = (server: Server, id: string) =>
  Effect.runPromise(Effect.map(server.coordinator.show(id as never), (d) => d.research.status))

const finished = (server: Server, id: string) =>
  Effect.runPromise(
    eventually(Effect.map(server.coordinator.show(id as never), (d) => d.research.status), (s) => s === "completed", 15)
  )

/** A page that fails its test on any script error. */
const open = async (context: BrowserContext, url: string): Promise<{ page: Page; errors: Array<string> }> => {
  const page = await context.newPage()
  const errors: Array<string> = []
  page.on("pageerror", (error) => errors.push(error.message))
  page.on("dialog", (dialog) => void dialog.accept())
  await page.goto(url)
  return { page, errors }
}

const live = (page: Page) => page.waitForSelector("#live.on", { timeout: 15_000 })

describe.skipIf(!haveChromium)(browserTitle("the dashboard in Chromium"), () => {
  let browser: Browser
  beforeAll(async () => {
    browser = await launchChromium()
  })
  afterAll(async () => {
    await browser?.close()
  })

  describe("without tokens (loopback)", () => {
    let server: Server
    let close: () => Promise<void>
    let context: BrowserContext
    let done: Array<string>

    beforeAll(async () => {
      ;({ close, server } = await serve())
      done = [await trigger(server, "Momentum <b>on</b> EURUSD & friends"), await trigger(server, "Mean reversion on SPX")]
      for (const id of done) await finished(server, id)
      context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
    })
    afterAll(async () => {
      await context?.close()
      await close?.()
    })

    it("renders every page on the server, so they work without script", async () => {
      const noScript = await browser.newContext({ javaScriptEnabled: false })
      try {
        const page = await noScript.newPage()
        await page.goto(`${server.baseUrl}/`)
        expect(await page.locator("#card-capacity").count()).toBe(1)
        expect(await page.locator("#recent tbody tr[data-research]").count()).toBe(2)
        expect(await page.locator("#queues tr[data-type]").allTextContents()).toEqual([
          expect.stringContaining("backtest"),
          expect.stringContaining("training")
        ])
        expect(await page.locator("#burn svg.burn").count()).toBe(1)
        expect(await page.locator("#card-budget").textContent()).toMatch(/\$\d+\.\d\d/)

        await page.goto(`${server.baseUrl}/researches`)
        expect(await page.locator("#totals").textContent()).toContain("2 researches")
        // Text from a brief is escaped, never markup.
        expect(await page.locator("#researches td.brief").allTextContents()).toContain("Momentum <b>on</b> EURUSD & friends")

        await page.goto(`${server.baseUrl}/researches/${done[0]}`)
        expect(await page.locator(".research-head").textContent()).toContain("completed")
        expect(await page.locator("svg.waterfall .job-row").count()).toBeGreaterThanOrEqual(4)

        await page.goto(`${server.baseUrl}/workers`)
        expect(await page.locator("#workers tr[data-worker]").count()).toBe(2)

        const missing = await page.goto(`${server.baseUrl}/researches/op_doesnotexist`)
        expect(missing?.status()).toBe(404)
        expect(await page.locator("#notice").textContent()).toContain("op_doesnotexist")
      } finally {
        await noScript.close()
      }
    })

    it("overview: phases, queues, slots, capacity, budget and completions, updated live without a reload", async () => {
      const { errors, page } = await open(context, `${server.baseUrl}/`)
      await live(page)
      await page.evaluate("window.notReloaded = true")
      expect(await page.locator("#card-capacity .card-value").textContent()).toMatch(/^0 \/ \d+$/)
      expect(await page.locator("#recent tbody tr[data-research]").count()).toBe(2)

      // A research that holds its training worker: active, in training, the slot busy.
      hold.training = true
      const held = await trigger(server, "Held in training")
      await page.waitForSelector(`#active tr[data-research="${held}"]`, { timeout: 15_000 })
      await expect.poll(() => page.locator(`#active tr[data-research="${held}"]`).textContent(), { timeout: 15_000 })
        .toContain("training-1")
      await expect.poll(() => page.locator("#queues tr[data-type=training]").textContent(), { timeout: 15_000 })
        .toContain("1 / 1")
      expect(await page.locator("#active .chip").textContent()).toContain("training")

      // A second one waits for the only training worker: the queue shows it.
      const waiting = await trigger(server, "Waits for a training worker")
      await expect.poll(() => page.locator(`#active tr[data-research="${waiting}"]`).textContent(), { timeout: 15_000 })
        .toContain("waiting for training")
      await expect.poll(() => page.locator("#queues tr[data-type=training] td:nth-child(2)").textContent(), {
        timeout: 15_000
      }).toBe("1")
      await shoot(page, "overview-busy")

      // Released, both complete and move to the recent completions, the page never reloaded.
      hold.training = false
      await Effect.runPromise(server.coordinator.cancel(held as never))
      await finished(server, waiting)
      await page.waitForSelector(`#recent tr[data-research="${waiting}"]`, { timeout: 15_000 })
      await page.waitForSelector(`#recent tr[data-research="${held}"]`, { timeout: 15_000 })
      expect(await page.locator(`#recent tr[data-research="${waiting}"]`).textContent()).toContain("promising")
      expect(await page.evaluate("window.notReloaded")).toBe(true)
      expect(errors).toEqual([])
      await shoot(page, "overview")
      await page.close()
    })

    it("researches: filters, totals and pages; Trigger from the page; new rows arrive live", async () => {
      const { errors, page } = await open(context, `${server.baseUrl}/researches`)
      await live(page)
      const total = Number((await page.locator("#totals b").first().textContent()) ?? "")
      expect(total).toBeGreaterThanOrEqual(4)

      // Filter by status through the form (a plain GET form).
      await page.selectOption("select[name=status]", "cancelled")
      await Promise.all([page.waitForURL(/status=cancelled/), page.click("#filter button[type=submit]")])
      expect(await page.locator("#totals").textContent()).toContain("1 research ")
      expect(await page.locator("#researches tbody .badge.s-cancelled").count()).toBe(1)

      // Filter by verdict, and a date range that holds nothing.
      await page.goto(`${server.baseUrl}/researches?verdict=promising`)
      expect(await page.locator("#researches tbody tr[data-research]").count()).toBe(total - 1)
      await page.goto(`${server.baseUrl}/researches?until=2000-01-01`)
      expect(await page.locator("#totals").textContent()).toContain("0 researches")

      // Pages of one: older → moves on, with the totals of the whole selection.
      await page.goto(`${server.baseUrl}/researches?limit=1`)
      expect(await page.locator("#researches tbody tr[data-research]").count()).toBe(1)
      const first = await page.locator("#researches tbody tr[data-research]").getAttribute("data-research")
      await Promise.all([page.waitForURL(/offset=1/), page.click("a[rel=next]")])
      expect(await page.locator("#researches tbody tr[data-research]").getAttribute("data-research")).not.toBe(first)
      expect(await page.locator("#totals").textContent()).toContain(`${total} researches`)

      // Trigger from the page: the notice names it and the list shows it without a reload.
      await page.goto(`${server.baseUrl}/researches`)
      await live(page)
      await page.fill("#brief", "Triggered from the dashboard")
      await page.click("#trigger-form button[type=submit]")
      await page.locator("#notice").filter({ hasText: "Triggered op_" }).waitFor({ timeout: 15_000 })
      const id = (await page.locator("#notice a").textContent())!
      await page.waitForSelector(`#researches tr[data-research="${id}"]`, { timeout: 15_000 })

      // Another operator triggers through the API: the row arrives live.
      const other = await trigger(server, "Triggered through the API")
      await page.waitForSelector(`#researches tr[data-research="${other}"]`, { timeout: 15_000 })
      await expect.poll(() => page.locator("#totals b").first().textContent(), { timeout: 15_000 }).toBe(String(total + 2))
      expect(errors).toEqual([])
      await shoot(page, "researches")
      await page.close()
    })

    it("a research: timeline with waits and workers, gates, metrics, LLM calls, assessment; Cancel and Trigger", async () => {
      const { errors, page } = await open(context, `${server.baseUrl}/researches/${done[0]}`)
      await live(page)
      const labels = await page.locator("svg.waterfall .job-row text").allTextContents()
      expect(labels).toEqual(expect.arrayContaining([
        expect.stringContaining("training · training-1 · completed"),
        expect.stringContaining("backtest · backtest-1 · completed")
      ]))
      expect(await page.locator("svg.waterfall .phase-label").allTextContents()).toEqual(
        expect.arrayContaining(["designing", "training", "backtesting", "assessing"])
      )
      expect(await page.locator("#gates").textContent()).toContain("passed")
      expect(await page.locator("#metrics").textContent()).toContain("testAccuracy")
      expect(await page.locator("#metrics").textContent()).toContain("sharpeRatio")
      expect(await page.locator("#llm tbody tr").count()).toBeGreaterThanOrEqual(2)
      expect(await page.locator("#llm tfoot").textContent()).toMatch(/\d+ tokens/)
      expect(await page.locator("#assessment .badge").textContent()).toBe("promising")
      expect(await page.locator("#cancel").count()).toBe(0)
      await shoot(page, "research")

      // A held research: its timeline grows live, the page cancels it.
      hold.training = true
      const held = await trigger(server, "To be cancelled from the page")
      await page.goto(`${server.baseUrl}/researches/${held}`)
      await live(page)
      await page.waitForSelector("svg.waterfall .job-row rect.run.s-running", { timeout: 15_000 })
      await shoot(page, "research-running")
      await page.click("#cancel")
      await page.locator(".research-head .badge").filter({ hasText: "cancelled" }).waitFor({ timeout: 15_000 })
      await page.locator("#notice").filter({ hasText: `Cancelled ${held}` }).waitFor()
      expect(await statusOf(server, held)).toBe("cancelled")
      expect(await page.locator("#cancel").count()).toBe(0)
      hold.training = false

      // Trigger another, prefilled with the brief.
      expect(await page.inputValue("#brief")).toBe("To be cancelled from the page")
      await page.click("#trigger-form button[type=submit]")
      await page.locator("#notice").filter({ hasText: "Triggered op_" }).waitFor({ timeout: 15_000 })
      const next = (await page.locator("#notice a").textContent())!
      await finished(server, next)
      expect(errors).toEqual([])
      await page.close()
    })

    it("workers: status, slots, current job, heartbeat, jobs done and failed; a new worker appears live", async () => {
      const { errors, page } = await open(context, `${server.baseUrl}/workers`)
      await live(page)
      const row = page.locator("#workers tr[data-worker=training-1]")
      expect(await row.locator(".badge").textContent()).toBe("available")
      expect(await row.textContent()).toContain("0 / 1")
      expect(await row.textContent()).toMatch(/ago/)
      const done = Number(await row.locator("td:nth-child(7)").textContent())
      expect(done).toBeGreaterThanOrEqual(3)
      expect(await row.locator("td:nth-child(8)").textContent()).toBe("0")
      expect(await row.locator("td:nth-child(9)").textContent()).toBe("in-memory (simulated)")
      expect(await row.locator("td:nth-child(10)").textContent()).toBe("push memory://training-1")

      hold.training = true
      const held = await trigger(server, "Keeps training-1 busy")
      await expect.poll(() => row.locator(".badge").textContent(), { timeout: 15_000 }).toBe("busy")
      await expect.poll(() => row.locator("td:nth-child(5)").textContent(), { timeout: 15_000 }).toContain(held)

      await Effect.runPromise(server.workers.spawn({ id: "training-2", type: "training" }))
      await page.waitForSelector("#workers tr[data-worker=training-2]", { timeout: 15_000 })
      await shoot(page, "workers")
      await Effect.runPromise(server.coordinator.cancel(held as never))
      hold.training = false
      await expect.poll(() => row.locator(".badge").textContent(), { timeout: 15_000 }).toBe("available")
      expect(errors).toEqual([])
      await page.close()
    })

    it("after the stream drops, reconnects with Last-Event-ID and keeps updating", async () => {
      const { errors, page } = await open(context, `${server.baseUrl}/researches`)
      const resumed: Array<string | undefined> = []
      page.on("request", (request) => {
        if (request.url().endsWith("/api/v1/events")) resumed.push(request.headers()["last-event-id"])
      })
      await live(page)
      await page.evaluate("window.foremanDashboard.drop()")
      await expect.poll(() => resumed.filter((id) => id !== undefined).length, { timeout: 15_000 }).toBeGreaterThan(0)
      expect(resumed.find((id) => id !== undefined)).toMatch(/^[0-9a-f]+\.\d+$/)
      // (A resumed stream with nothing missed sends its headers with its first event.)
      const id = await trigger(server, "After the reconnection")
      await page.waitForSelector(`#researches tr[data-research="${id}"]`, { timeout: 15_000 })
      await live(page)
      await finished(server, id)
      expect(errors).toEqual([])
      await page.close()
    })
  })

  describe("with tokens", () => {
    const tokens = { operator: "operator-secret", worker: "worker-secret" }
    let server: Server
    let close: () => Promise<void>
    let id: string

    beforeAll(async () => {
      ;({ close, server } = await serve(tokens))
      id = await trigger(server, "Secret research", tokens.operator)
      await finished(server, id)
    })
    afterAll(async () => {
      await close?.()
    })

    it("asks for the operator token once, keeps it for the tab, and shows nothing before it", async () => {
      const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
      try {
        const { errors, page } = await open(context, `${server.baseUrl}/`)
        // The server renders no data for a browser without the token.
        expect(await page.content()).not.toContain(id)
        await page.waitForSelector("#token-form:not([hidden])")

        // A wrong token (the worker's) is refused and asked again.
        await page.fill("#token-form input", tokens.worker)
        await page.click("#token-form button")
        await page.locator("#token-form .why").filter({ hasText: "not the operator token" }).waitFor({ timeout: 15_000 })

        await page.fill("#token-form input", tokens.operator)
        await page.click("#token-form button")
        await page.waitForSelector(`#recent tr[data-research="${id}"]`, { timeout: 15_000 })
        await live(page)
        expect(await page.isHidden("#token-form")).toBe(true)
        expect(await page.evaluate("sessionStorage.getItem('foreman.operatorToken')")).toBe(tokens.operator)

        // Other pages of the tab use the kept token: no question, data and live updates.
        await page.goto(`${server.baseUrl}/researches`)
        await page.waitForSelector(`#researches tr[data-research="${id}"]`, { timeout: 15_000 })
        expect(await page.isHidden("#token-form")).toBe(true)
        await live(page)
        const next = await trigger(server, "Seen live with the token", tokens.operator)
        await page.waitForSelector(`#researches tr[data-research="${next}"]`, { timeout: 15_000 })

        await page.goto(`${server.baseUrl}/researches/${id}`)
        await page.waitForSelector("svg.waterfall .job-row", { timeout: 15_000 })
        await page.goto(`${server.baseUrl}/workers`)
        await page.waitForSelector("#workers tr[data-worker=training-1]", { timeout: 15_000 })

        // Trigger and Cancel from the page send the token.
        hold.training = true
        await page.goto(`${server.baseUrl}/researches`)
        await live(page)
        await page.fill("#brief", "Triggered with the token")
        await page.click("#trigger-form button[type=submit]")
        await page.locator("#notice").filter({ hasText: "Triggered op_" }).waitFor({ timeout: 15_000 })
        const held = (await page.locator("#notice a").textContent())!
        await page.goto(`${server.baseUrl}/researches/${held}`)
        await page.click("#cancel")
        await page.locator(".research-head .badge").filter({ hasText: "cancelled" }).waitFor({ timeout: 15_000 })
        hold.training = false
        expect(errors).toEqual([])

        // A new tab (a new session) is asked again.
        const fresh = await browser.newContext()
        const other = await fresh.newPage()
        await other.goto(`${server.baseUrl}/workers`)
        await other.waitForSelector("#token-form:not([hidden])")
        await fresh.close()
      } finally {
        await context.close()
      }
    })
  })

  it("works under a prefix, mounted with ApiServer.webHandler", async () => {
    const { dispose, handler } = ApiServer.webHandler(
      Memory.layer({ handlers }),
      { prefix: "/foreman" }
    )
    const context = await browser.newContext()
    try {
      // The browser talks to the web handler directly (no socket); the event stream stays open, unanswered.
      await context.route("http://mounted.test/**", async (route) => {
        const request = route.request()
        if (request.url().endsWith("/api/v1/events")) return
        const response = await handler(
          new Request(request.url(), {
            method: request.method(),
            headers: request.headers(),
            ...(request.postData() === null ? {} : { body: request.postData() })
          })
        )
        await route.fulfill({
          status: response.status,
          headers: Object.fromEntries(response.headers),
          body: Buffer.from(await response.arrayBuffer())
        })
      })
      const page = await context.newPage()
      await page.goto("http://mounted.test/foreman/")
      await page.waitForSelector("#card-capacity")
      await Promise.all([page.waitForURL("http://mounted.test/foreman/researches"), page.click("nav a[href=researches]")])
      await page.fill("#brief", "Triggered under a prefix")
      await page.click("#trigger-form button[type=submit]")
      await page.locator("#notice").filter({ hasText: "Triggered op_" }).waitFor({ timeout: 15_000 })
      await Promise.all([page.waitForURL(/\/foreman\/researches\/op_/), page.click("#notice a")])
      await page.waitForSelector(".research-head")
      await Promise.all([page.waitForURL("http://mounted.test/foreman/workers"), page.click("nav a[href=workers]")])
      await page.waitForSelector("#workers")
    } finally {
      await context.close()
      await dispose()
    }
  })
})

