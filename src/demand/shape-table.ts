import { compareRows, type DemandRow } from "./demand-row.ts"

/**
 * Counts jobs by shape (cpus, memory, disk, gpus, os id) in an open-addressing hash table over
 * parallel typed arrays, so counting a job costs a few integer operations and no allocation.
 */
export class ShapeTable {
  private capacity = 1024
  private used = 0
  private cpus = new Int32Array(this.capacity)
  private memory = new Int32Array(this.capacity)
  private disk = new Int32Array(this.capacity)
  private gpus = new Int32Array(this.capacity)
  private os = new Int32Array(this.capacity)
  private count = new Float64Array(this.capacity)

  /** Counts one job of this shape. Values are whole numbers in [0, 2^31). */
  add(cpus: number, memory: number, disk: number, gpus: number, os: number): void {
    const i = this.slot(cpus, memory, disk, gpus, os)
    if (this.count[i] !== 0) {
      this.count[i]!++
      return
    }
    this.set(i, cpus, memory, disk, gpus, os, 1)
    if (++this.used * 2 > this.capacity) this.grow()
  }

  /** The rows, most jobs first; `osName` turns an os id back into its name. */
  rows(osName: (id: number) => string | null): DemandRow[] {
    const rows: DemandRow[] = []
    for (let i = 0; i < this.capacity; i++) {
      const count = this.count[i]!
      if (count === 0) continue
      rows.push({
        cpus: this.cpus[i]!,
        memory: this.memory[i]!,
        disk: this.disk[i]!,
        gpus: this.gpus[i]!,
        os: osName(this.os[i]!),
        count,
      })
    }
    return rows.sort(compareRows)
  }

  /** The index holding this shape, or the empty index where it belongs. */
  private slot(cpus: number, memory: number, disk: number, gpus: number, os: number): number {
    const mask = this.capacity - 1
    let h = Math.imul(cpus ^ 0x2545f491, 0x9e3779b1)
    h = Math.imul(h ^ memory, 0x85ebca6b)
    h = Math.imul(h ^ disk, 0xc2b2ae35)
    h = Math.imul(h ^ gpus, 0x27d4eb2f)
    h = Math.imul(h ^ os, 0x165667b1)
    let i = (h ^ (h >>> 15)) & mask
    while (
      this.count[i] !== 0 &&
      !(
        this.cpus[i] === cpus &&
        this.memory[i] === memory &&
        this.disk[i] === disk &&
        this.gpus[i] === gpus &&
        this.os[i] === os
      )
    ) {
      i = (i + 1) & mask
    }
    return i
  }

  private set(
    i: number,
    cpus: number,
    memory: number,
    disk: number,
    gpus: number,
    os: number,
    count: number,
  ): void {
    this.cpus[i] = cpus
    this.memory[i] = memory
    this.disk[i] = disk
    this.gpus[i] = gpus
    this.os[i] = os
    this.count[i] = count
  }

  private grow(): void {
    const { cpus, memory, disk, gpus, os, count } = this
    this.capacity *= 2
    this.cpus = new Int32Array(this.capacity)
    this.memory = new Int32Array(this.capacity)
    this.disk = new Int32Array(this.capacity)
    this.gpus = new Int32Array(this.capacity)
    this.os = new Int32Array(this.capacity)
    this.count = new Float64Array(this.capacity)
    for (let j = 0; j < count.length; j++) {
      if (count[j] === 0) continue
      const i = this.slot(cpus[j]!, memory[j]!, disk[j]!, gpus[j]!, os[j]!)
      this.set(i, cpus[j]!, memory[j]!, disk[j]!, gpus[j]!, os[j]!, count[j]!)
    }
  }
}
