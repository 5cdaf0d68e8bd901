/**
 * @module
 * The end-to-end suite: the compiled `glidein` binary against a live one-node Slurm and Grid
 * Engine (brought up by slurm-up.sh / sge-up.sh; run it through run.sh). It starts
 * `glidein serve` over a fake condor_q with a known demand, builds a glidein tarball from a
 * stand-in HTCondor install and injects a pool password, then, as an unprivileged site user,
 * submits real glideins and checks what they recorded: resources, credential, retirement
 * time, the journal, `status`, the lock, the limits, the server's view, and `cancel`.
 *
 *   bun test/e2e/suite.ts --bin dist/glidein-linux-x64 --work DIR [--clusters slurm,sge]
 *
 * Prints one line per scenario and exits 1 when any scenario did not pass.
 */
import { resolve } from "node:path"
import { parseArgs } from "node:util"
import { fakeS3 } from "../../src/runtime/fake-s3.ts"
import { type Cluster, type ClusterName, cluster } from "./batch.ts"
import { Runner } from "./harness.ts"
import { prepare, serveScenario, shutdownScenario, startServer, tarballScenario } from "./pool.ts"
import { REAL_CONDOR, realPoolScenario } from "./real-pool.ts"
import type { Site } from "./site.ts"
import { clusterScenarios } from "./site-scenarios.ts"
import { twoSitesScenario } from "./two-sites.ts"

const { values: opts } = parseArgs({
  args: Bun.argv.slice(2),
  options: {
    bin: { type: "string" },
    work: { type: "string" },
    clusters: { type: "string", default: "slurm,sge" },
    "e2e-dir": { type: "string", default: process.env.GLIDEIN_E2E_DIR ?? "/tmp/glidein-e2e" },
    user: { type: "string", default: process.env.GLIDEIN_E2E_USER ?? "glidein-e2e" },
  },
})

/** Runs the suite; returns the exit status. */
async function main(): Promise<number> {
  if (!opts.bin || !opts.work) {
    process.stderr.write(
      "usage: bun test/e2e/suite.ts --bin FILE --work DIR [--clusters slurm,sge]\n",
    )
    return 2
  }
  const clusters = opts.clusters.split(",").filter((c) => c !== "") as ClusterName[]
  for (const c of clusters) {
    if (c !== "slurm" && c !== "sge") throw new Error(`unknown cluster "${c}" (slurm or sge)`)
  }
  const started = performance.now()
  const ctx = await prepare(resolve(opts.work), resolve(opts.bin), opts["e2e-dir"], opts.user)
  const runner = new Runner()
  const server = startServer(ctx)
  // The S3 bucket the glideins upload their logs to (the sites' secrets hold its keys).
  const bucket = fakeS3(`e2e-${crypto.randomUUID()}`)
  try {
    await runner.scenario("all", "serve", [], () => serveScenario(ctx, server))
    await runner.scenario("all", "tarball", [], () => tarballScenario(ctx))
    const sites: { cluster: Cluster; site: Site }[] = []
    for (const name of clusters) {
      const c = cluster(name, ctx.e2eDir)
      sites.push({ cluster: c, site: await clusterScenarios(runner, ctx, c, bucket) })
    }
    // Both sites against the one server: together they submit the demand, not twice it.
    if (sites.length >= 2) {
      const needs = sites.map((s) => `${s.cluster.name}/cancel`)
      await runner.scenario("all", "two-sites", needs, () => twoSitesScenario(ctx, sites))
    }
    // Against a real HTCondor pool, when GLIDEIN_TEST_CONDOR names an install (on Slurm).
    if (REAL_CONDOR === undefined) {
      process.stdout.write(
        "note  the real-pool scenario needs GLIDEIN_TEST_CONDOR (a real HTCondor install): not run\n",
      )
    } else if (clusters.includes("slurm")) {
      const slurm = cluster("slurm", ctx.e2eDir)
      await runner.scenario("slurm", "real-pool", [], () => realPoolScenario(ctx, slurm))
    }
    await runner.scenario("all", "shutdown", ["serve"], () => shutdownScenario(server))
  } finally {
    server.kill("SIGKILL")
    bucket.server.stop(true)
  }
  const results = runner.results
  const failed = results.filter((r) => r.outcome === "FAIL")
  const skipped = results.filter((r) => r.outcome === "SKIP")
  const seconds = ((performance.now() - started) / 1000).toFixed(0)
  const passed = results.length - failed.length - skipped.length
  const names = failed.map((f) => `${f.group}/${f.name}`).join(", ")
  process.stdout.write(
    `\n${passed}/${results.length} scenarios passed in ${seconds} s` +
      (failed.length ? `; failed: ${names}` : "") +
      (skipped.length ? `; ${skipped.length} skipped` : "") +
      "\n",
  )
  return passed === results.length ? 0 : 1
}

main()
  .then((code) => process.exit(code))
  .catch((error: unknown) => {
    process.stderr.write(`e2e suite crashed: ${(error as Error)?.stack ?? String(error)}\n`)
    process.exit(1)
  })
