/**
 * What the server remembers between allotment rounds (in memory: a restart begins afresh):
 * per site its last allotment, its partitions as it last described them, and its memory of
 * grants and failures. It turns the stored reports into the views `allot()` takes.
 */
import type { PartitionCounts, PartitionPolicy } from "../client/plan-submissions.ts"
import type { DemandRow } from "../demand/demand-row.ts"
import { type Allotment, allot, type SiteMemory, type SiteView } from "./allot.ts"
import type { AllotPolicy } from "./allot-policy.ts"

/** A site's latest report, as the store holds it. */
export type ReportView = Omit<SiteView, "partitions" | "pending">

interface Entry {
  allotment: Allotment
  memory: SiteMemory
  partitions: PartitionPolicy[]
}

/** Most sites remembered; the oldest is forgotten first. */
const MAX_SITES = 4096

export class AllotmentBook {
  private readonly entries = new Map<string, Entry>()

  /** Allots one site and, unless `dryRun`, remembers the grant. */
  allot(request: {
    now: number
    demand: DemandRow[]
    reports: ReportView[]
    freshMs: number
    policy: AllotPolicy
    uuid: string
    tokenName: string | null
    partitions: { policy: PartitionPolicy; counts: PartitionCounts }[]
    dryRun: boolean
  }): Allotment {
    const sites = request.reports.map((report): SiteView => {
      const entry = this.entries.get(report.uuid)
      if (entry === undefined) return report
      const pending = entry.memory.at > report.lastSeen ? entry.memory.granted : 0
      const backedOff = entry.memory.backoffUntil !== null
      return { ...report, partitions: entry.partitions, pending, backedOff }
    })
    const previous = this.entries.get(request.uuid)
    const { allotment, memory } = allot({
      now: request.now,
      demand: request.demand,
      sites,
      freshMs: request.freshMs,
      policy: request.policy,
      asking: { uuid: request.uuid, tokenName: request.tokenName, partitions: request.partitions },
      ...(previous ? { memory: previous.memory } : {}),
    })
    if (!request.dryRun) {
      this.entries.delete(request.uuid)
      this.entries.set(request.uuid, {
        allotment,
        memory,
        partitions: request.partitions.map((p) => p.policy),
      })
      if (this.entries.size > MAX_SITES) {
        const oldest = this.entries.keys().next().value
        if (oldest !== undefined) this.entries.delete(oldest)
      }
    }
    return allotment
  }

  /** Every site's latest allotment, most recent first. */
  latest(): Allotment[] {
    return [...this.entries.values()].map((e) => e.allotment).reverse()
  }
}
