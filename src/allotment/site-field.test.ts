import { describe, expect, test } from "bun:test"
import { seededRandom } from "../seeded-random.ts"
import type { SiteView } from "./allot.ts"
import { type AllotPolicy, DEFAULT_POLICY, termsFor } from "./allot-policy.ts"
import { canRun, SiteField } from "./site-field.ts"
import { partition, row } from "./test-fixtures.ts"

const FRESH = 1_800_000
const NOW = 10_000_000
const demand = [row(30), row(7, 1), row(0), { ...row(12), cpus: 8 }, row(5, 2)]
const kinds = [
  undefined,
  [partition()],
  [partition({ gpuOnly: true })],
  [partition({ cpuOnly: true, maxPerJob: { cpus: 4 } })],
]
const policy: AllotPolicy = {
  defaults: DEFAULT_POLICY.defaults,
  sites: { "site-3": { weight: 2.5 }, lab: { weight: 0.3 } },
}

/** What allot() computed before the field, walking every fresh site for every row. */
function naive(sites: SiteView[], asking: string, mine: boolean[], now: number) {
  const rows = demand.filter((r) => r.count > 0)
  const others = sites.filter((s) => s.uuid !== asking && now - s.lastSeen <= FRESH)
  const weights = rows.map((r) =>
    others
      .filter((o) => !o.backedOff && (o.partitions === undefined || canRun(o.partitions, r)))
      .reduce((sum, o) => sum + termsFor(policy, o.uuid, o.tokenName).weight, 0),
  )
  let queued = 0
  for (const o of others) {
    const able = rows.map((r) => o.partitions === undefined || canRun(o.partitions, r))
    const theirs = rows.reduce((sum, r, i) => sum + (able[i] ? r.count : 0), 0)
    const both = rows.reduce((sum, r, i) => sum + (able[i] && mine[i] ? r.count : 0), 0)
    const q = o.idle + (o.pending ?? 0)
    if (q > 0 && theirs > 0) queued += (q * both) / theirs
  }
  return { weights, queued }
}

function randomSite(random: () => number, i: number, now: number): SiteView {
  const pick = <T>(xs: T[]) => xs[Math.floor(random() * xs.length)]!
  return {
    uuid: `site-${i}`,
    tokenName: random() < 0.3 ? "lab" : null,
    lastSeen: now - Math.floor(random() * 2.5 * FRESH),
    running: Math.floor(random() * 50),
    idle: Math.floor(random() * 20),
    launched: 0,
    countFailed: [],
    partitions: pick(kinds),
    pending: random() < 0.3 ? Math.floor(random() * 5) : 0,
    backedOff: random() < 0.15,
  }
}

describe("SiteField", () => {
  test("sums the same weights and queued glideins as walking every site, through puts, replacements and expiry", () => {
    const random = seededRandom(11)
    const sites = new Map<number, SiteView>()
    for (let i = 0; i < 40; i++) sites.set(i, randomSite(random, i, NOW))
    const field = SiteField.of(demand, [...sites.values()], policy, FRESH, NOW)
    let now = NOW
    for (let step = 0; step < 300; step++) {
      // A site reports again (or a new one appears), and time moves on.
      const i = Math.floor(random() * 50)
      const site = randomSite(random, i, now)
      site.lastSeen = now
      sites.set(i, site)
      field.put(site)
      now += Math.floor(random() * 20_000)
      field.expire(now)
      const asking = `site-${Math.floor(random() * 50)}`
      const mine = field.rows.map(() => random() < 0.7)
      const expected = naive([...sites.values()], asking, mine, now)
      field.rows.forEach((_, r) => {
        expect(field.weightOfOthers(r, asking)).toBeCloseTo(expected.weights[r]!, 9)
      })
      expect(field.queuedByOthers(mine, asking)).toBeCloseTo(expected.queued, 9)
    }
  })

  test("forgets a site once its report is older than the fresh span", () => {
    const site = randomSite(seededRandom(1), 1, NOW)
    site.lastSeen = NOW
    const field = SiteField.of(demand, [site], DEFAULT_POLICY, FRESH, NOW)
    field.expire(NOW + FRESH)
    expect(field.get(site.uuid)).toBe(site)
    field.expire(NOW + FRESH + 1)
    expect(field.get(site.uuid)).toBeUndefined()
    expect(field.weightOfOthers(0, "other")).toBe(0)
  })

  test("leaves a stale site out when built", () => {
    const site = { ...randomSite(seededRandom(2), 2, NOW), lastSeen: NOW - FRESH - 1 }
    expect(SiteField.of(demand, [site], DEFAULT_POLICY, FRESH, NOW).get(site.uuid)).toBeUndefined()
  })
})
