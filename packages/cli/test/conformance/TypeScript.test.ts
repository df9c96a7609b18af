/** The conformance list (cases.ts) against the TypeScript SDK, @foreman/worker. */
import { conformance } from "./cases.js"

conformance("typescript")
