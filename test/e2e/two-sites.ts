/**
 * @module
 * Scenario `all/two-sites`: the Slurm site and the Grid Engine site, one round each against
 * the same server and the same demand. Each asks the server for its allotment, so together
 * they submit about the demand, not each of them all of it (which is what two pyglidein
 * clients, or two glidein clients planning alone, would do).
 */
import type { Allotment } from "../../src/allotment/allot.ts"
import type { Cluster } from "./batch.ts"
import { DEMAND_JOBS } from "./expected.ts"
import { check, describeRun, run, show, waitFor } from "./harness.ts"
import type { Context } from "./pool.ts"
import { type Site, submit, writeSiteConfig } from "./site.ts"

/** Limits well above the demand, so only the allotment holds a site back. */
const ROOMY = { maxTotal: 20, maxIdle: 20, perSubmit: 20 }

export async function twoSitesScenario(
  ctx: Context,
  sites: { cluster: Cluster; site: Site }[],
): Promise<string> {
  for (const { cluster, site } of sites) {
    const left = await cluster.jobs(ctx.user.name)
    check(left.length === 0, `${cluster.name} still has glideins before the round`, show(left))
    await writeSiteConfig(ctx, cluster, site, ROOMY)
  }
  const submitted: number[] = []
  try {
    for (const { cluster, site } of sites) {
      const r = await submit(ctx, site)
      check(r.code === 0, `glidein submit on ${cluster.name} exited ${r.code}`, describeRun(r))
      // What this run put into the batch system (the site had none before).
      const jobs = await waitFor(`${cluster.name} to list its new glideins`, 20, async () => {
        const list = await cluster.jobs(ctx.user.name)
        return list.length > 0 ? list : undefined
      })
      submitted.push(jobs.length)
    }
    const total = submitted.reduce((a, b) => a + b, 0)
    const each = sites.map((s, i) => `${s.cluster.name} ${submitted[i]}`).join(", ")
    // Each site's share is rounded up to whole glideins, and a glidein that already runs
    // does not lower this fixed demand (no job is ever matched here): one per site at most.
    const bound = DEMAND_JOBS + sites.length - 1
    check(
      total <= bound,
      `the two sites submitted ${total} glideins (${each}) for ${DEMAND_JOBS} idle jobs, more than ${bound}`,
    )
    check(
      submitted.every((n) => n > 0),
      `a site was given nothing while both can run the demand (${each})`,
    )
    // The server shows each site's grant, and it is what the site submitted.
    const res = await fetch(`${ctx.serverUrl}/api/allotments`)
    check(res.ok, `GET /api/allotments answered ${res.status}`)
    const body = (await res.json()) as { allotments?: Allotment[] }
    for (const [i, { site }] of sites.entries()) {
      const mine = body.allotments?.find((a) => a.uuid === site.uuid)
      check(mine !== undefined, `/api/allotments has no allotment for "${site.uuid}"`, show(body))
      check(
        mine.total === submitted[i],
        `/api/allotments granted "${site.uuid}" ${mine.total}, but it submitted ${submitted[i]}`,
        show(mine),
      )
    }
    return `${total} glideins for ${DEMAND_JOBS} idle jobs (${each}); alone, each would have submitted ${DEMAND_JOBS}`
  } finally {
    // Leave the batch systems empty for the scenarios after this one.
    for (const { cluster, site } of sites) {
      await run([ctx.bin, "cancel", "--config", site.config], {
        user: ctx.user,
        env: site.env,
        cwd: site.dir,
      })
      await waitFor(`${cluster.name} to drop the round's glideins`, 30, async () =>
        (await cluster.jobs(ctx.user.name)).length === 0 ? true : undefined,
      )
    }
  }
}
