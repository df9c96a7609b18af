import { beforeAll } from "vitest"
import { portContract } from "@foreman/testing/PortContract"
import { createDatabase, freshPorts } from "@foreman/testing/PgDatabase"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_contract")
})

portContract("postgres", () => freshPorts(url))
