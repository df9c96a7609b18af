/**
 * What the docs list, checked against the code they describe, so a new
 * endpoint or guide cannot go unmentioned: every endpoint of the coordinator's
 * API has a row in docs/server.md's table (and the table lists none that does
 * not exist), and README.md's layout table links every guide in docs/.
 */
import { HttpApi } from "@effect/platform"
import { describe, expect, it } from "@effect/vitest"
import { Api } from "@foreman/api"
import { readdirSync, readFileSync } from "node:fs"
import { join } from "node:path"
import { fileURLToPath } from "node:url"

const root = fileURLToPath(new URL("../../..", import.meta.url))
const read = (path: string) => readFileSync(join(root, path), "utf8")

/** `GET /agent/researches/{}`: a route with its parameters unnamed and the `/api/v1` prefix dropped. */
const route = (method: string, path: string) =>
  `${method.toUpperCase()} ${path.replace(/^\/api\/v1/, "").replace(/\?.*$/, "").replace(/:\w+|\{\w+\}/g, "{}")}`

const apiRoutes = (): ReadonlyArray<string> => {
  const found: Array<string> = []
  HttpApi.reflect(Api.ForemanApi, {
    onGroup: () => {},
    onEndpoint: ({ endpoint }) => found.push(route(endpoint.method, endpoint.path))
  })
  return found.sort()
}

/** The routes the API table of docs/server.md names (`` `GET /path` `` in its rows). */
const documentedRoutes = (): ReadonlyArray<string> => {
  const doc = read("docs/server.md")
  const table = doc.slice(doc.indexOf("## The API"), doc.indexOf("\n## ", doc.indexOf("## The API") + 1))
  return [...new Set(Array.from(table.matchAll(/`(GET|POST|PUT|PATCH|DELETE) (\/[^`\s]*)`/g), (m) => route(m[1]!, m[2]!)))].sort()
}

describe("docs", () => {
  it("docs/server.md's API table lists every endpoint, and only those", () => {
    expect(documentedRoutes()).toEqual(apiRoutes())
  })

  it("README.md's row for docs/ links every guide", () => {
    const row = read("README.md").split("\n").find((line) => line.startsWith("| `docs/` |")) ?? ""
    const guides = readdirSync(join(root, "docs")).filter((name) => name.endsWith(".md"))
    expect(guides.filter((name) => !row.includes(`(docs/${name})`))).toEqual([])
  })

  // The versions the docs state are read from the code, so a new one cannot leave the docs behind:
  // the HTTP API's from its paths' /api/vN prefix, the worker protocol's from workerProtocolVersion.
  it("docs state the HTTP API's and the worker protocol's versions as the code has them", () => {
    const prefixes = new Set<string>()
    HttpApi.reflect(Api.ForemanApi, {
      onGroup: () => {},
      onEndpoint: ({ endpoint }) => prefixes.add(/^\/api\/v(\d+)\//.exec(endpoint.path)?.[1] ?? endpoint.path)
    })
    expect([...prefixes]).toHaveLength(1)
    const [api] = prefixes
    const server = read("docs/server.md")
    expect(server).toContain(`This is version ${api} of the HTTP API: every path is under \`/api/v${api}\`.`)
    expect(server).toContain(`## The API (under \`/api/v${api}\`)`)

    const protocol = Api.workerProtocolVersion
    const doc = read("docs/worker-protocol.md")
    expect(doc.split("\n")[0]).toBe(`# The worker protocol (pull, version ${protocol})`)
    expect(doc).toContain(`This page is version ${protocol} of the worker protocol`)
    expect(doc).toContain(`"protocolVersion": ${protocol}\n`)
    expect(doc).toContain(`- \`protocolVersion\`: \`${protocol}\`.`)
  })
})
