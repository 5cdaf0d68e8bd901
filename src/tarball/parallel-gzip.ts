/**
 * gzip compression spread over worker threads with pigz's method: the input is cut into
 * independent blocks, each block is deflated with the 32 KiB before it as preset dictionary and
 * ends on a byte boundary (a sync flush), and the compressed blocks are concatenated in order
 * into a single gzip member. The ratio stays within a fraction of a percent of one-stream
 * deflate, and the output does not depend on the number of threads.
 */
import os from "node:os"
import zlib from "node:zlib"

/** Settings of a ParallelGzip. */
export interface ParallelGzipOptions {
  /** zlib level 1–9 (default 6, as gzip and pigz). */
  level?: number
  /** Worker threads (default: available cores, at most 8). */
  threads?: number
  /** Uncompressed bytes per block (default 1 MiB). */
  blockSize?: number
}

const WINDOW = 32 * 1024
const DEFAULT_BLOCK = 1 << 20

/** A request to a worker: deflate `data` after `dictionary`; `last` ends the deflate stream. */
interface Job {
  id: number
  data: Uint8Array
  dictionary: Uint8Array | null
  last: boolean
  level: number
}

/** A worker's answer: the compressed block, or the error text. */
interface Done {
  id: number
  out?: Uint8Array
  error?: string
}

/**
 * The worker's body. It runs from its own source text in the worker (see `workerSource`), so it
 * must use nothing but its argument and the worker globals.
 */
function deflateWorker(z: typeof zlib): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<Job>) => void) | null
    postMessage(message: Done): void
  }
  scope.onmessage = (event) => {
    const job = event.data
    try {
      const options: zlib.ZlibOptions = {
        level: job.level,
        finishFlush: job.last ? z.constants.Z_FINISH : z.constants.Z_SYNC_FLUSH,
      }
      if (job.dictionary) options.dictionary = job.dictionary
      const out = z.deflateRawSync(job.data, options)
      scope.postMessage({ id: job.id, out })
    } catch (error) {
      scope.postMessage({ id: job.id, error: String(error) })
    }
  }
}

/**
 * Source text of the worker. Workers are started from a Blob URL rather than a file so that the
 * same code runs under `bun` and inside the compiled single-file executable, which has no worker
 * entry point of its own.
 */
const workerSource = `import * as z from "node:zlib";\n(${deflateWorker.toString()})(z.default ?? z);\n`

/** Streams bytes in, gzip out through `output` (called in order, one call at a time). */
export class ParallelGzip {
  private readonly level: number
  private readonly blockSize: number
  private readonly workers: Worker[] = []
  private readonly load: number[] = []
  private readonly results = new Map<number, Uint8Array>()
  private readonly maxInFlight: number
  private block: Uint8Array
  private fill = 0
  private nextId = 0
  private nextWrite = 0
  private inFlight = 0
  private crc = 0
  private total = 0
  /** The last 32 KiB of input so far: the next block's dictionary. */
  private tail: Uint8Array | null = null
  private writing: Promise<void> = Promise.resolve()
  private failure: Error | undefined
  private wake: (() => void) | undefined
  private url: string

  constructor(
    private readonly output: (bytes: Uint8Array) => Promise<void>,
    options: ParallelGzipOptions = {},
  ) {
    this.level = options.level ?? 6
    this.blockSize = options.blockSize ?? DEFAULT_BLOCK
    const threads = Math.max(1, options.threads ?? Math.min(os.availableParallelism(), 8))
    this.maxInFlight = threads * 2
    this.block = new Uint8Array(this.blockSize)
    this.url = URL.createObjectURL(new Blob([workerSource], { type: "application/javascript" }))
    for (let i = 0; i < threads; i++) {
      const worker = new Worker(this.url)
      worker.onmessage = (event: MessageEvent<Done>) => this.received(i, event.data)
      worker.onerror = (event) =>
        this.fail(new Error(`compression worker failed: ${event.message}`))
      this.workers.push(worker)
      this.load.push(0)
    }
    this.enqueue(gzipHeader(this.level), false)
  }

  /** Adds bytes; resolves once there is room for more. */
  async write(bytes: Uint8Array): Promise<void> {
    let pos = 0
    while (pos < bytes.length) {
      const n = Math.min(this.blockSize - this.fill, bytes.length - pos)
      this.block.set(bytes.subarray(pos, pos + n), this.fill)
      this.fill += n
      pos += n
      if (this.fill === this.blockSize) {
        await this.room()
        this.dispatch(false)
      }
    }
  }

  /** Compresses what is left, writes the gzip trailer and stops the workers. */
  async end(): Promise<void> {
    try {
      await this.room()
      this.dispatch(true)
      while (this.inFlight > 0) await this.room(1)
      if (this.failure) throw this.failure
      await this.writing
      const trailer = new Uint8Array(8)
      const view = new DataView(trailer.buffer)
      view.setUint32(0, this.crc >>> 0, true)
      view.setUint32(4, this.total % 2 ** 32, true)
      await this.output(trailer)
    } finally {
      this.destroy()
    }
  }

  /** Stops the workers; safe to call more than once. */
  destroy(): void {
    for (const worker of this.workers) worker.terminate()
    this.workers.length = 0
    URL.revokeObjectURL(this.url)
    this.wake?.()
  }

  /** Waits until fewer than `limit` blocks are in flight (default: the pipeline depth). */
  private async room(limit = this.maxInFlight): Promise<void> {
    while (this.inFlight >= limit) {
      if (this.failure) throw this.failure
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
    }
    if (this.failure) throw this.failure
  }

  private dispatch(last: boolean): void {
    const data = this.fill === this.blockSize ? this.block : this.block.slice(0, this.fill)
    this.crc = zlib.crc32(data, this.crc)
    this.total += data.length
    const dictionary = this.tail
    this.tail = lastWindow(dictionary, data)
    const index = this.idlest()
    const worker = this.workers[index]
    if (!worker) throw this.failure ?? new Error("the compressor was stopped")
    const job: Job = { id: this.nextId++, data, dictionary, last, level: this.level }
    this.load[index] = (this.load[index] ?? 0) + 1
    this.inFlight++
    worker.postMessage(job, [data.buffer as ArrayBuffer])
    this.block = new Uint8Array(this.blockSize)
    this.fill = 0
  }

  private idlest(): number {
    let best = 0
    for (let i = 1; i < this.load.length; i++) {
      if ((this.load[i] ?? 0) < (this.load[best] ?? 0)) best = i
    }
    return best
  }

  private received(worker: number, done: Done): void {
    this.load[worker] = (this.load[worker] ?? 1) - 1
    if (done.error !== undefined || !done.out) {
      this.fail(new Error(`compression failed: ${done.error ?? "no output"}`))
      return
    }
    this.results.set(done.id, done.out)
    for (let out = this.results.get(this.nextWrite); out; out = this.results.get(this.nextWrite)) {
      this.results.delete(this.nextWrite)
      this.nextWrite++
      this.enqueue(out, true)
    }
  }

  /** Chains one output call after the previous ones; `counted` blocks free a pipeline slot. */
  private enqueue(bytes: Uint8Array, counted: boolean): void {
    this.writing = this.writing.then(() => this.output(bytes))
    this.writing.then(
      () => {
        if (counted) this.finished()
      },
      (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
    )
  }

  private finished(): void {
    this.inFlight--
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }

  private fail(error: Error): void {
    this.failure ??= error
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}

/** The 10-byte gzip member header: no name, no mtime (reproducible), OS "Unix". */
function gzipHeader(level: number): Uint8Array {
  const xfl = level >= 9 ? 2 : level <= 1 ? 4 : 0
  return Uint8Array.of(0x1f, 0x8b, 8, 0, 0, 0, 0, 0, xfl, 3)
}

/** The last 32 KiB of `before` followed by `data`. */
function lastWindow(before: Uint8Array | null, data: Uint8Array): Uint8Array | null {
  if (data.length >= WINDOW) return data.slice(data.length - WINDOW)
  const keep = Math.min(before?.length ?? 0, WINDOW - data.length)
  if (keep + data.length === 0) return null
  const joined = new Uint8Array(keep + data.length)
  if (before && keep > 0) joined.set(before.subarray(before.length - keep), 0)
  joined.set(data, keep)
  return joined
}
