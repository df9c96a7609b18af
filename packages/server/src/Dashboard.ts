/**
 * The operator's dashboard, served beside the API: `/` (overview),
 * `/researches` (history, filtered and paged), `/researches/{id}` (one
 * research: timeline, gates, metrics and charts, LLM calls, assessment),
 * `/strategies` (the leaderboard), `/compare?ids=…` (researches side by side)
 * and `/workers`.
 *
 * Plain server-rendered HTML with one hand-written script (no build step).
 * The server renders each page's first view from the coordinator, with the
 * same views the script renders updates with (`dashboard/views.ts`); the
 * script then follows the event stream and reads the JSON API again for the
 * parts an event affects. Every URL in a page is relative to the dashboard's
 * root (`<base href>`), so the pages work under a prefix too (`ApiServer.webHandler`).
 *
 * When the server has tokens, the pages carry no data: the browser asks for
 * the operator token once, keeps it in `sessionStorage`, and reads everything
 * through the API with it. Without tokens (loopback), the first view is
 * rendered by the server, and pages work without script.
 */
import { HttpApiBuilder, HttpRouter, HttpServerRequest, HttpServerResponse } from "@effect/platform"
import { LeaderboardQuery, ListQuery, PlanQuery, researchFilter } from "@foreman/api/Api"
import { Coordinator, Domain, Errors, StrategyCatalogue } from "@foreman/core"
import { Clock, Config, Effect, Either, Layer, Option, Schema } from "effect"
import { clientScript } from "./dashboard/client.js"
import { planStyleSheet } from "./dashboard/planViews.js"
import { resultStyleSheet } from "./dashboard/resultStyle.js"
import { styleSheet as baseStyleSheet } from "./dashboard/style.js"
import { dashboardViews, dashboardViewsSource, type PlanFilterView, type ResearchFilterView } from "./dashboard/views.js"
import * as Planning from "./internal/planning.js"

const views = dashboardViews()
const styleSheet = baseStyleSheet + resultStyleSheet + planStyleSheet

/**
 * The page's script: the views' source, then the client that uses them. Tools
 * that compile this module with `keepNames` (tsx, vitest) wrap functions in
 * a `__name` helper that the page does not have; it gets a stand-in.
 */
const script = `var __name = function (f) { return f; };\n${clientScript.replace("VIEWS", dashboardViewsSource)}`
if (/<\/script/i.test(script) || /<\/style/i.test(styleSheet)) {
  throw new Error("the dashboard's script or style would end its element early")
}

type PageName = "overview" | "researches" | "research" | "strategies" | "compare" | "workers" | "plan"

const navigation: ReadonlyArray<readonly [PageName, string, string]> = [
  ["overview", "./", "Overview"],
  ["researches", "researches", "Researches"],
  ["strategies", "strategies", "Strategies"],
  ["workers", "workers", "Workers"],
  ["plan", "plan", "Plan"]
]

/** `./` for `/` and `/workers`, `../` for `/researches/op_1`: the way back to the dashboard's root. */
const rootOf = (pathname: string): string => {
  const depth = pathname.split("/").length - 2
  return depth <= 0 ? "./" : "../".repeat(depth)
}

interface Page {
  readonly name: PageName
  readonly title: string
  /** The first view; null when the page shows no data until the script has read it. */
  readonly view: string | null
  readonly status?: number
  readonly researchId?: string
  /** A message shown above the view (a bad filter, a storage error). */
  readonly notice?: string
}

const document = (page: Page, root: string, guarded: boolean): string => {
  const waiting = guarded
    ? "Enter the operator token above to see this page."
    : "Loading… (this page needs JavaScript when the server cannot read the state)."
  const nav = navigation.map(([name, href, label]) =>
    `<a href="${href}"${
      name === page.name || (name === "researches" && page.name === "research") ||
        (name === "strategies" && page.name === "compare") ? " aria-current=\"page\"" : ""
    }>${label}</a>`
  ).join("")
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="data:,">
<base href="${views.esc(root)}">
<title>${views.esc(page.title)} · Foreman</title>
<style>${styleSheet}</style>
</head>
<body data-page="${page.name}" data-auth="${guarded ? "token" : "open"}"${
    page.researchId === undefined ? "" : ` data-research="${views.esc(page.researchId)}"`
  }>
<header><a class="brand" href="./">Foreman</a><nav>${nav}<a href="docs">API</a></nav>
<span id="live" class="live off" title="Live updates through the event stream">static</span>
<button type="button" id="forget-token" hidden>Forget token</button></header>
<main>
<form id="token-form" class="token" hidden autocomplete="off"><p class="why"></p>
<label>Operator token <input type="password" name="token" required size="40" autocomplete="off"></label>
<button type="submit" class="primary">Use token</button></form>
<p id="notice" role="status"${page.notice === undefined ? " hidden" : " class=\"notice error\""}>${views.esc(page.notice ?? "")}</p>
${page.name === "research" ? "" : `<h1>${views.esc(page.title)}</h1>`}
<div id="view">${page.view ?? `<p class="muted">${waiting}</p>`}</div>
</main>
<script>${script}</script>
</body>
</html>
`
}

const headers = {
  "cache-control": "no-store",
  "x-content-type-options": "nosniff",
  "referrer-policy": "no-referrer",
  "content-security-policy": "default-src 'self'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; " +
    "img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
}

/** Whether the server has tokens (as `ApiServer.tokensConfig` reads them: set but empty is not set). */
const guardedConfig = Config.all([
  Config.option(Config.string("FOREMAN_API_TOKEN")),
  Config.option(Config.string("FOREMAN_WORKER_TOKEN"))
]).pipe(Config.map((tokens) => tokens.some((t) => Option.isSome(t) && t.value !== "")))

const filterKeys = ["status", "verdict", "strategy", "since", "until", "limit", "offset"] as const

/** The researches page's filter from its query string (empty fields left out). */
const filterOf = (search: URLSearchParams): ResearchFilterView => {
  const filter: Record<string, string> = {}
  for (const key of filterKeys) {
    const value = search.get(key)
    if (value !== null && value !== "") filter[key] = value
  }
  return filter
}

const leaderboardKeys = ["sort", "indicator", "instrument", "verdict", "limit"] as const

/** The leaderboard page's filter from its query string (empty fields left out). */
const leaderboardFilterOf = (search: URLSearchParams): Record<string, string> => {
  const filter: Record<string, string> = {}
  for (const key of leaderboardKeys) {
    const value = search.get(key)
    if (value !== null && value !== "") filter[key] = value
  }
  return filter
}

/** The research ids a comparison asks for: `ids=a,b` or `ids=a&ids=b`, each once, at most 12. */
const compareIdsOf = (search: URLSearchParams): ReadonlyArray<string> =>
  Array.from(new Set(search.getAll("ids").flatMap((v) => v.split(",")).map((v) => v.trim()).filter((v) => v !== "")))
    .slice(0, 12)

const planKeys = ["since", "until", "type", "counts", "seeds"] as const

/** The Plan page's question from its query string (empty fields left out). */
const planFilterOf = (search: URLSearchParams): PlanFilterView => {
  const filter: Record<string, string> = {}
  for (const key of planKeys) {
    const value = search.get(key)
    if (value !== null && value !== "") filter[key] = value
  }
  return filter
}

const decodePlan = Schema.decodeUnknownEither(PlanQuery)
const decodeLeaderboard = Schema.decodeUnknownEither(LeaderboardQuery)
const decodeQuery = Schema.decodeUnknownEither(ListQuery)
const decodeResearchId = Schema.decodeUnknownOption(Domain.ResearchId)

/**
 * Serves the pages; a route layer for `HttpApiBuilder` (merge it with the
 * API's docs). The first views come from the `Coordinator` when the layer
 * finds it in its context (it does wherever the API is served over an engine);
 * without it, and on a server with tokens, pages are filled by the script.
 */
export const layer: Layer.Layer<never> = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const coordinator = yield* Effect.serviceOption(Coordinator.Coordinator)
    const planner = yield* Planning.plannerOption
    const guarded = yield* Effect.orElseSucceed(guardedConfig, () => true)
    /** The engine when the server may render data into the page. */
    const engine = guarded ? Option.none() : coordinator

    const respond = <R>(render: (url: URL) => Effect.Effect<Page, never, R>) =>
      Effect.gen(function*() {
        const request = yield* HttpServerRequest.HttpServerRequest
        const url = new URL(request.url, "http://dashboard")
        const page = yield* render(url)
        return HttpServerResponse.text(document(page, rootOf(url.pathname), guarded), {
          status: page.status ?? 200,
          contentType: "text/html; charset=utf-8",
          headers
        })
      })

    /** The page with its first view, or without data when the engine cannot be read now. */
    const withEngine = <A, E>(
      page: Omit<Page, "view">,
      read: (coordinator: Coordinator.CoordinatorShape) => Effect.Effect<A, E>,
      view: (data: A) => string
    ): Effect.Effect<Page> =>
      Option.match(engine, {
        onNone: () => Effect.succeed({ ...page, view: null }),
        onSome: (c) =>
          read(c).pipe(
            Effect.map((data): Page => ({ ...page, view: view(data) })),
            Effect.catchAll((error) =>
              Effect.succeed<Page>({
                ...page,
                view: null,
                notice: `Could not read the state: ${error instanceof Error ? error.message : String(error)}`
              })
            )
          )
      })

    yield* router.get(
      "/",
      respond(() =>
        withEngine(
          { name: "overview", title: "Overview" },
          (c) =>
            Effect.all({
              status: c.status(),
              budget: c.budgetToday(),
              recent: c.list({ limit: 20, offset: 0 }),
              now: Clock.currentTimeMillis
            }, { concurrency: "unbounded" }),
          views.overview
        )
      )
    )

    yield* router.get(
      "/researches",
      respond((url) => {
        const filter = filterOf(url.searchParams)
        const query = decodeQuery(filter)
        const page = { name: "researches", title: "Researches" } as const
        if (Either.isLeft(query)) {
          const notice = `This filter is not valid: ${Errors.describeParseError(query.left)}`
          return Effect.succeed<Page>({
            ...page,
            status: 400,
            notice,
            view: views.researches({ page: { researches: [], limit: 50, offset: 0, total: 0, costUsd: 0 }, filter })
          })
        }
        const q = query.right
        const selection = researchFilter(q)
        return withEngine(
          page,
          (c) =>
            Effect.all([c.list({ ...selection, limit: q.limit, offset: q.offset }), c.totals(selection)], {
              concurrency: 2
            }),
          ([researches, totals]) =>
            views.researches({
              page: { researches, limit: q.limit, offset: q.offset, total: totals.count, costUsd: totals.costUsd },
              filter
            })
        )
      })
    )

    yield* router.get(
      "/researches/:id",
      respond(() =>
        Effect.gen(function*() {
          const params = yield* HttpRouter.params
          const raw = params["id"] ?? ""
          const id = decodeResearchId(raw)
          if (Option.isNone(id)) {
            return { name: "research", title: raw, researchId: raw, status: 404, view: "", notice: "No such research." }
          }
          const page = { name: "research", title: id.value, researchId: id.value } as const
          if (Option.isNone(engine)) return { ...page, view: null }
          const now = yield* Clock.currentTimeMillis
          return yield* engine.value.show(id.value).pipe(
            Effect.map((detail): Page => ({ ...page, view: views.researchDetail(detail, now) })),
            Effect.catchTag("ResearchNotFound", (error) =>
              Effect.succeed<Page>({ ...page, status: 404, view: "", notice: error.message })),
            Effect.catchAll((error) =>
              Effect.succeed<Page>({ ...page, view: null, notice: `Could not read the state: ${error.message}` }))
          )
        })
      )
    )

    yield* router.get(
      "/strategies",
      respond((url) => {
        const filter = leaderboardFilterOf(url.searchParams)
        const query = decodeLeaderboard(filter)
        const page = { name: "strategies", title: "Strategies" } as const
        if (Either.isLeft(query)) {
          return Effect.succeed<Page>({
            ...page,
            status: 400,
            notice: `This filter is not valid: ${Errors.describeParseError(query.left)}`,
            view: views.leaderboard({ board: { sort: "sharpeRatio", total: 0, strategies: [] }, filter })
          })
        }
        return withEngine(
          page,
          (c) => c.strategies(),
          (all) =>
            views.leaderboard({
              board: { sort: query.right.sort, ...StrategyCatalogue.leaderboard(all, query.right) },
              filter
            })
        )
      })
    )

    yield* router.get(
      "/compare",
      respond((url) => {
        const ids = compareIdsOf(url.searchParams)
        const page = { name: "compare", title: "Compare researches" } as const
        return withEngine(
          page,
          (c) =>
            Effect.forEach(ids, (raw): Effect.Effect<Either.Either<Coordinator.ResearchDetail, string>, Errors.StorageError> =>
              Option.match(decodeResearchId(raw), {
                onNone: () => Effect.succeed(Either.left(raw)),
                onSome: (id) =>
                  c.show(id).pipe(
                    Effect.map(Either.right),
                    Effect.catchTag("ResearchNotFound", () => Effect.succeed(Either.left(raw)))
                  )
              }), { concurrency: 4 }),
          (found) =>
            views.compare({
              details: found.filter(Either.isRight).map((e) => e.right),
              missing: found.filter(Either.isLeft).map((e) => e.left)
            })
        )
      })
    )

    yield* router.get(
      "/plan",
      respond((url) => {
        const filter = planFilterOf(url.searchParams)
        const query = decodePlan(filter)
        const page = { name: "plan", title: "Plan" } as const
        if (Either.isLeft(query)) {
          const error = `This question is not valid: ${Errors.describeParseError(query.left)}`
          return Effect.succeed<Page>({ ...page, status: 400, view: views.plan({ plan: null, error, filter }) })
        }
        if (Option.isNone(engine)) return Effect.succeed<Page>({ ...page, view: null })
        return Planning.answer(engine.value, planner, query.right).pipe(
          Effect.map((plan): Page => ({ ...page, view: views.plan({ plan, error: null, filter }) })),
          Effect.catchAll((e) =>
            Effect.succeed<Page>({
              ...page,
              status: e._tag === "InvalidInput" ? 400 : 200,
              view: views.plan({ plan: null, error: e.message, filter })
            })
          )
        )
      })
    )

    yield* router.get(
      "/workers",
      respond(() =>
        withEngine(
          { name: "workers", title: "Workers" },
          (c) =>
            Effect.all({
              workers: c.workerActivity(),
              active: Effect.map(c.status(), (s) => s.active),
              now: Clock.currentTimeMillis
            }, { concurrency: "unbounded" }),
          views.workers
        )
      )
    )
  })
)
