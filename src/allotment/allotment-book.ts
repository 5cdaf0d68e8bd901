/**
 * What the server remembers between allotment rounds (in memory: a restart begins afresh):
 * per site its last allotment, its partitions as it last described them, and its memory of
 * grants and failures. It turns the stored reports into the views `allot()` takes.
 */
import type { PartitionCounts, PartitionPolicy } from "../client/site/plan-submissions.ts"
import type { DemandRow } from "../demand/demand-row.ts"
import { type AllotInput, type Allotment, allot, type SiteMemory, type SiteView } from "./allot.ts"
import type { AllotPolicy } from "./allot-policy.ts"
import { SiteField } from "./site-field.ts"

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

  /** A stored report as `allot()` takes it: with the site's partitions and its grants. */
  view(report: ReportView): SiteView {
    const entry = this.entries.get(report.uuid)
    if (entry === undefined) return report
    const pending = entry.memory.at > report.lastSeen ? entry.memory.granted : 0
    // A flagged site's share goes to the sites that work, as a backed-off one's does.
    const backedOff =
      report.backedOff === true ||
      entry.memory.backoffUntil !== null ||
      entry.allotment.state === "flagged"
    return { ...report, partitions: entry.partitions, pending, backedOff }
  }

  /**
   * The sites of `reports` summed for `demand`, to keep across many asks (a replay): put a
   * site's new report in with `field.put(book.view(report))`; `allot()` keeps the asking
   * site's own grant in it.
   */
  field(
    demand: DemandRow[],
    reports: ReportView[],
    policy: AllotPolicy,
    freshMs: number,
    now: number,
  ): SiteField {
    const views = reports.map((report) => this.view(report))
    return SiteField.of(demand, views, policy, freshMs, now)
  }

  /** Allots one site and, unless `dryRun`, remembers the grant. */
  allot(request: {
    now: number
    demand: DemandRow[]
    /** The stored reports, or a field of them from `field()` for the same demand. */
    reports: ReportView[] | SiteField
    freshMs: number
    policy: AllotPolicy
    uuid: string
    tokenName: string | null
    partitions: { policy: PartitionPolicy; counts: PartitionCounts }[]
    /** What the pool shows of the demand and of this site (see allot()). */
    pool?: AllotInput["pool"]
    dryRun: boolean
  }): Allotment {
    const { now, demand, policy, freshMs, reports } = request
    const field =
      reports instanceof SiteField ? reports : this.field(demand, reports, policy, freshMs, now)
    const previous = this.entries.get(request.uuid)
    const { allotment, memory } = allot({
      now,
      demand,
      sites: field,
      freshMs,
      policy,
      asking: { uuid: request.uuid, tokenName: request.tokenName, partitions: request.partitions },
      ...(previous ? { memory: previous.memory } : {}),
      ...(request.pool ? { pool: request.pool } : {}),
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
      // Its grant is queued as far as the next asker knows.
      const own = field.get(request.uuid)
      if (own !== undefined) field.put(this.view(own))
    }
    return allotment
  }

  /** Whether the site reporting as `uuid` has asked for an allotment (a glidein client). */
  asked(uuid: string): boolean {
    return this.entries.has(uuid)
  }

  /** Every site's latest allotment, most recent first. */
  latest(): Allotment[] {
    return [...this.entries.values()].map((e) => e.allotment).reverse()
  }
}
