/** The conformance list (cases.ts) against the Python SDK, python/foreman-worker. */
import { conformance } from "./cases.js"

conformance("python")
