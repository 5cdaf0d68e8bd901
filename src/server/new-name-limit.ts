/**
 * How many new site names (uuids) one address may add per hour when the server has no
 * tokens: without it, one host could fill the store with made-up sites in a fraction of a
 * second. Known sites are never limited, and a refused report costs a site nothing but its
 * line on the status page until its next run.
 */

const HOUR_MS = 3_600_000
/** Addresses remembered before the ones with nothing in the last hour are swept. */
const SWEEP_AT = 4096

/** A sliding hour of new names per address. */
export class NewNameLimit {
  private readonly added = new Map<string, number[]>()

  constructor(readonly perHour: number) {}

  /**
   * Counts one new name from `address` at `at` (ms) and returns undefined, or returns why
   * not (counting nothing) when the address has added `perHour` in the hour before `at`.
   */
  take(address: string, at: number): string | undefined {
    const since = at - HOUR_MS
    const times = (this.added.get(address) ?? []).filter((t) => t > since)
    if (times.length >= this.perHour) {
      this.added.set(address, times)
      return `${address} added ${times.length} new uuids in the last hour, the most one address may without tokens; this uuid is taken after ${new Date(times[0]! + HOUR_MS).toISOString()}`
    }
    if (this.added.size >= SWEEP_AT && !this.added.has(address)) this.sweep(since)
    times.push(at)
    this.added.set(address, times)
    return undefined
  }

  private sweep(since: number): void {
    for (const [address, times] of this.added) {
      if (times.every((t) => t <= since)) this.added.delete(address)
    }
  }
}
