/**
 * The commented example configs in configs/, one per scheduler: each loads without a
 * warning, names its scheduler, and renders a glidein through the client's real path.
 */
import { expect, test } from "bun:test"
import path from "node:path"
import { renderFromConfig } from "./fixtures.ts"
import { SCHEDULERS } from "./index.ts"
import type { SchedulerName } from "./types.ts"

const CONFIGS = path.resolve(import.meta.dir, "../../configs")

for (const name of Object.keys(SCHEDULERS)) {
  test(`configs/${name}.ini loads cleanly and renders a ${name} glidein`, async () => {
    const { text, rendered, warnings, scheduler } = await renderFromConfig(
      path.join(CONFIGS, `${name}.ini`),
      "Cluster",
    )
    expect(warnings).toEqual([])
    expect(scheduler).toBe(name as SchedulerName)
    expect(text).toContain("glidein")
    const script =
      Object.entries(rendered.files).find(([f]) => f !== rendered.submitFile)?.[1] ?? text
    const check = Bun.spawnSync(["sh", "-n"], { stdin: new TextEncoder().encode(script) })
    expect(check.stderr.toString()).toBe("")
  })
}
