import { beforeAll } from "vitest"
import { createDatabase, freshPorts } from "@foreman/testing/PgDatabase"
import { workerStatusContract } from "@foreman/testing/WorkerStatusContract"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_worker_status")
})

workerStatusContract("postgres", () => freshPorts(url))
