import { beforeAll } from "vitest"
import { portContract } from "../../core/test/contract/PortContract.js"
import { createDatabase, freshPorts } from "./pg.js"

let url = ""
beforeAll(async () => {
  url = await createDatabase("foreman_contract")
})

portContract("postgres", () => freshPorts(url))
