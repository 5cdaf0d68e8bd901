import { compareRows, type DemandRow } from "./demand-row.ts"

/**
 * Counts jobs by shape (cpus, memory, disk, gpus, os id). Each distinct shape gets a dense,
 * stable id from an open-addressing hash table over typed arrays, so a parser that has seen a
 * line before counts it again with one array increment (`add(id)`), no hashing at all.
 * Values are doubles: a job asking for more than any bound is counted too, and set aside later.
 */
export class ShapeTable {
  // Hash table: slot → shape id + 1 (0 = empty).
  private slots = new Int32Array(1024)
  // Shapes by id.
  private size = 0
  private cpus = new Float64Array(256)
  private memory = new Float64Array(256)
  private disk = new Float64Array(256)
  private gpus = new Float64Array(256)
  private os = new Int32Array(256)
  private counts = new Float64Array(256)

  /** The id of this shape, added with a count of 0 if it is new. Values are whole, ≥ 0. */
  idOf(cpus: number, memory: number, disk: number, gpus: number, os: number): number {
    const mask = this.slots.length - 1
    let i = hash(cpus, memory, disk, gpus, os) & mask
    for (;;) {
      const entry = this.slots[i]!
      if (entry === 0) break
      const id = entry - 1
      if (
        this.cpus[id] === cpus &&
        this.memory[id] === memory &&
        this.disk[id] === disk &&
        this.gpus[id] === gpus &&
        this.os[id] === os
      ) {
        return id
      }
      i = (i + 1) & mask
    }
    const id = this.size++
    if (id === this.counts.length) this.growShapes()
    this.cpus[id] = cpus
    this.memory[id] = memory
    this.disk[id] = disk
    this.gpus[id] = gpus
    this.os[id] = os
    this.slots[i] = id + 1
    if (this.size * 2 > this.slots.length) this.growSlots()
    return id
  }

  /** Distinct shapes seen. */
  get shapes(): number {
    return this.size
  }

  /** Counts one more job of shape `id`. */
  add(id: number): void {
    this.counts[id]!++
  }

  /** Counts `n` more jobs of shape `id`. */
  addMany(id: number, n: number): void {
    this.counts[id]! += n
  }

  /** The rows with at least one job, most jobs first; `osName` maps an os id to its name. */
  rows(osName: (id: number) => string | null): DemandRow[] {
    const rows: DemandRow[] = []
    for (let id = 0; id < this.size; id++) {
      const count = this.counts[id]!
      if (count === 0) continue
      rows.push({
        cpus: this.cpus[id]!,
        memory: this.memory[id]!,
        disk: this.disk[id]!,
        gpus: this.gpus[id]!,
        os: osName(this.os[id]!),
        count,
      })
    }
    return rows.sort(compareRows)
  }

  private growShapes(): void {
    const grow = <T extends Int32Array | Float64Array>(a: T): T => {
      const b = new (a.constructor as { new (n: number): T })(a.length * 2)
      b.set(a)
      return b
    }
    this.cpus = grow(this.cpus)
    this.memory = grow(this.memory)
    this.disk = grow(this.disk)
    this.gpus = grow(this.gpus)
    this.os = grow(this.os)
    this.counts = grow(this.counts)
  }

  private growSlots(): void {
    this.slots = new Int32Array(this.slots.length * 2)
    const mask = this.slots.length - 1
    for (let id = 0; id < this.size; id++) {
      let i =
        hash(this.cpus[id]!, this.memory[id]!, this.disk[id]!, this.gpus[id]!, this.os[id]!) & mask
      while (this.slots[i] !== 0) i = (i + 1) & mask
      this.slots[i] = id + 1
    }
  }
}

// Values past 2^31 wrap in Math.imul's int32 conversion: a worse hash for absurd shapes, the
// same answers (ids are confirmed by comparing every column).
function hash(cpus: number, memory: number, disk: number, gpus: number, os: number): number {
  let h = Math.imul(cpus ^ 0x2545f491, 0x9e3779b1)
  h = Math.imul(h ^ memory, 0x85ebca6b)
  h = Math.imul(h ^ disk, 0xc2b2ae35)
  h = Math.imul(h ^ gpus, 0x27d4eb2f)
  h = Math.imul(h ^ os, 0x165667b1)
  return h ^ (h >>> 15)
}
