/**
 * The API reference page at `/docs`, Scalar's as `HttpApiScalar` serves it,
 * loaded on its first request: the page carries 3.4 MB of script inline, and
 * loading and building it made every server start cost a quarter of a second
 * more CPU (1.30 → 1.04 CPU-s to ready), for a page few open.
 */
import { HttpApi, HttpApiBuilder } from "@effect/platform"
import { Context, Effect, Layer } from "effect"

export const layer: Layer.Layer<never, never, HttpApi.Api> = HttpApiBuilder.Router.use((router) =>
  Effect.gen(function*() {
    const api = yield* HttpApi.Api
    const scope = yield* Effect.scope
    /** Scalar's page on a router of its own, built once, in the server's scope. */
    const page = yield* Effect.cached(
      Effect.promise(() => import("@effect/platform/HttpApiScalar")).pipe(
        Effect.flatMap((Scalar) =>
          Layer.buildWithScope(Layer.merge(Scalar.layer({ path: "/docs" }), HttpApiBuilder.Router.Live), scope)
        ),
        Effect.flatMap((built) => Context.get(built, HttpApiBuilder.Router).router),
        Effect.provideService(HttpApi.Api, api)
      )
    )
    yield* router.get("/docs", Effect.flatMap(page, (app) => app))
  })
)
