import { describe, expect, test } from "bun:test"
import { readFileSync } from "node:fs"
import path from "node:path"
import { type GlideinSlot, parseGlideinAds } from "./condor-status-parse.ts"
import { glideinsOf, poolFunnel } from "./pool-funnel.ts"

const CLAIMED = readFileSync(
  path.join(import.meta.dir, "testdata/condor-status-claimed.txt"),
  "utf8",
)

/** A slot of a scripted pool. */
function slot(glidein: string, fields: Partial<GlideinSlot>): GlideinSlot {
  return {
    name: `slot1@${glidein}`,
    glidein,
    slotType: "Partitionable",
    state: "Unclaimed",
    cpus: 0,
    ...fields,
  }
}

describe("poolFunnel()", () => {
  test("poolFunnel() of real ads: two glideins of 4 and 2 cores, one job each running", () => {
    const glideins = glideinsOf(parseGlideinAds(CLAIMED).slots)
    expect(
      glideins.map((g) => [g.batchJobId, g.cores, g.claimedCores, g.jobStarts, g.ageS]),
    ).toEqual([
      ["7001", 4, 1, 3, 21],
      ["7002", 2, 1, 2, 21],
    ])
    const funnel = poolFunnel(glideins)
    expect(funnel.rows).toEqual([
      {
        site: "Test Site",
        partition: "unknown",
        tarball: "manifest-sha256:26e95245acce25acff2dd4ce77b6740bafee763003ae69bd2266cd353af572b0",
        tarballVersion: "1.2.3",
        joined: 2,
        claimed: 2,
        noJobYet: 0,
        cores: 6,
        claimedCores: 2,
        unclaimedCores: 4,
        jobsStarted: 5,
      },
    ])
    expect(funnel.total).toMatchObject({ joined: 2, cores: 6, unclaimedCores: 4 })
  })

  test("poolFunnel() counts a scripted pool per site, partition and tarball", () => {
    const t1 = { tarballDigest: "manifest-sha256:aa", tarballVersion: "1.0" }
    const t2 = { tarballDigest: "manifest-sha256:bb", tarballVersion: "1.1" }
    const slots = [
      // A/gpu, tarball 1: one glidein, 8 cores, 6 claimed by two jobs, 4 jobs started
      slot("g1@n1", { site: "A", partition: "gpu", ...t1, cpus: 2, jobStarts: 4 }),
      {
        ...slot("g1@n1", { site: "A", partition: "gpu", ...t1, cpus: 4, jobStarts: 4 }),
        name: "slot1_1@g1@n1",
        slotType: "Dynamic",
        state: "Claimed",
      },
      {
        ...slot("g1@n1", { site: "A", partition: "gpu", ...t1, cpus: 2, jobStarts: 4 }),
        name: "slot1_2@g1@n1",
        slotType: "Dynamic",
        state: "Claimed",
      },
      // A/gpu, tarball 2: idle since it joined
      slot("g2@n2", { site: "A", partition: "gpu", ...t2, cpus: 8, jobStarts: 0 }),
      // A/cpu, tarball 1: two idle glideins, one ran a job before
      slot("g3@n3", { site: "A", partition: "cpu", ...t1, cpus: 16, jobStarts: 0 }),
      slot("g4@n4", { site: "A", partition: "cpu", ...t1, cpus: 16, jobStarts: 7 }),
      // B: an old glidein that says nothing of itself
      slot("g5@n5", { site: "B", cpus: 1, state: "Claimed", slotType: "Static", jobStarts: 1 }),
    ]
    const { rows, total } = poolFunnel(glideinsOf(slots))
    const brief = rows.map((r) => [
      r.site,
      r.partition,
      r.tarballVersion,
      r.joined,
      r.claimed,
      r.noJobYet,
      r.cores,
      r.claimedCores,
      r.unclaimedCores,
      r.jobsStarted,
    ])
    expect(brief).toEqual([
      ["A", "cpu", "1.0", 2, 0, 1, 32, 0, 32, 7],
      ["A", "gpu", "1.0", 1, 1, 0, 8, 6, 2, 4],
      ["A", "gpu", "1.1", 1, 0, 1, 8, 0, 8, 0],
      ["B", "unknown", "unknown", 1, 1, 0, 1, 1, 0, 1],
    ])
    expect(total).toEqual({
      joined: 5,
      claimed: 2,
      noJobYet: 2,
      cores: 49,
      claimedCores: 7,
      unclaimedCores: 42,
      jobsStarted: 12,
    })
  })

  test("poolFunnel() of no glideins is all zeros", () => {
    expect(poolFunnel([])).toEqual({
      rows: [],
      total: {
        joined: 0,
        claimed: 0,
        noJobYet: 0,
        cores: 0,
        claimedCores: 0,
        unclaimedCores: 0,
        jobsStarted: 0,
      },
    })
  })
})
