import { Layer } from "effect"
import { portContract } from "../../core/test/contract/PortContract.js"
import { MemoryBudgetLedger, MemoryLease, MemoryResearchStore, MemoryWorkerStore } from "../src/index.js"

portContract(
  "memory",
  () =>
    Layer.mergeAll(
      MemoryResearchStore.layer,
      MemoryWorkerStore.layer,
      MemoryBudgetLedger.layer
    ).pipe(Layer.provideMerge(MemoryLease.layer))
)
