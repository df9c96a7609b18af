/**
 * A real browser for the dashboard's tests: Debian's Chromium driven by
 * playwright-core. A file's tests skip with one line saying what to install
 * when /usr/bin/chromium is missing, except in CI, where the file fails (CI
 * must install it, see .ci/run). Screenshots go to a temporary directory, or
 * to `FOREMAN_DASHBOARD_SCREENSHOTS` when set.
 */
import { existsSync, mkdirSync, mkdtempSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { type Browser, chromium, type Page } from "playwright-core"

export const executablePath = "/usr/bin/chromium"

export const haveChromium = existsSync(executablePath)
if (!haveChromium && process.env["CI"] !== undefined && process.env["CI"] !== "") {
  throw new Error(`${executablePath} is missing: CI must install Debian's chromium (see .ci/run)`)
}

/** Without these, Chromium on a machine without internet stalls on its own background requests. */
const chromiumArgs = [
  "--headless",
  "--no-sandbox",
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync"
]

/** A headless Chromium; close it after the file. */
export const launchChromium = (): Promise<Browser> => chromium.launch({ executablePath, args: chromiumArgs })

/** The title of a file's `describe.skipIf(!haveChromium)`: saying, when skipped, what to install. */
export const browserTitle = (title: string): string =>
  haveChromium ? title : `${title} (SKIPPED: ${executablePath} is missing; apt-get install -y chromium)`

let shots: string | undefined

/** Saves a full-page screenshot of `page` as `<name>.png` in the screenshots directory. */
export const shoot = (page: Page, name: string) => {
  if (shots === undefined) {
    shots = process.env["FOREMAN_DASHBOARD_SCREENSHOTS"] ?? mkdtempSync(join(tmpdir(), "foreman-dashboard-"))
    mkdirSync(shots, { recursive: true })
  }
  return page.screenshot({ path: join(shots, `${name}.png`), fullPage: true })
}
