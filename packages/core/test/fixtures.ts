/** Hand-built domain objects for tests: sensible defaults, override what matters. */
import type { Job, JobId, Research, ResearchId, Worker, WorkerId } from "../src/Domain.js"

export const research = (id: string, overrides: Partial<Research> = {}): Research => ({
  id: id as ResearchId,
  brief: "Explore RSI variations",
  model: null,
  bypassGates: false,
  forced: false,
  phase: "designing",
  status: "pending",
  strategy: null,
  results: {},
  gates: {},
  costUsd: 0,
  createdAt: 1000,
  updatedAt: 1000,
  finishedAt: null,
  waitingFor: null,
  activeJobId: null,
  attempt: 0,
  failures: 0,
  retryAt: null,
  error: null,
  version: 0,
  ...overrides
})

export const job = (id: string, researchId: string, overrides: Partial<Job> = {}): Job => ({
  id: id as JobId,
  researchId: researchId as ResearchId,
  kind: "training",
  phase: "training",
  workerType: "training",
  workerId: "w-1" as WorkerId,
  status: "running",
  attempt: 1,
  progress: 0,
  message: null,
  input: { strategy: { name: "s", spec: { period: 14 } } },
  result: null,
  usage: null,
  error: null,
  epoch: 1,
  createdAt: 1000,
  updatedAt: 1000,
  finishedAt: null,
  ...overrides
})

export const worker = (id: string, overrides: Partial<Worker> = {}): Worker => ({
  id: id as WorkerId,
  type: "training",
  endpoint: `http://127.0.0.1:5005/${id}`,
  status: "available",
  capacity: 1,
  currentJobs: [],
  capabilities: { gpu: false },
  registeredAt: 1000,
  lastHeartbeatAt: 1000,
  ...overrides
})
