/**
 * gzip compression spread over worker threads. The input is cut into 256 KiB blocks; each worker
 * turns a block into a complete gzip member with libdeflate (the compressor Bun bundles, about
 * twice as fast as zlib at the same level and ratio), and the members are written in order.
 * A file of several members is one gzip stream to every reader (RFC 1952 §2.2: gzip, tar,
 * pigz, Python, Go, Java, libarchive), so the output unpacks like any .tar.gz.
 *
 * Block buffers travel to the workers and back (transferred, not copied) and are reused, so
 * memory stays at a few blocks however large the input is. The output depends only on the
 * input and the level, not on the number of threads.
 */
import os from "node:os"

/** Settings of a ParallelGzip. */
export interface ParallelGzipOptions {
  /** Compression level 1–9 (default 6, as gzip and pigz). */
  level?: number
  /** Worker threads (default: available cores, at most 8). */
  threads?: number
  /** Uncompressed bytes per gzip member (default 256 KiB). */
  blockSize?: number
}

// pigz's block size is 128 KiB; 256 KiB costs 0.4 % in ratio against 1 MiB and, with the
// blocks in flight and the allocator caches of each worker, keeps the process well under
// 100 MB while rewriting a 520 MB archive
const DEFAULT_BLOCK = 256 * 1024

/** A request to a worker: compress the first `length` bytes of `data`. */
interface Job {
  id: number
  data: Uint8Array<ArrayBuffer>
  length: number
  level: number
}

/** A worker's answer: the gzip member and the input buffer handed back, or the error. */
interface Done {
  id: number
  data: Uint8Array<ArrayBuffer>
  out?: Uint8Array<ArrayBuffer>
  error?: string
}

/**
 * The worker's body. It runs from its own source text (see `workerSource`), so it may use
 * nothing but the worker's globals.
 */
function gzipWorker(): void {
  const scope = globalThis as unknown as {
    onmessage: ((event: MessageEvent<Job>) => void) | null
    postMessage(message: Done, transfer: ArrayBuffer[]): void
  }
  scope.onmessage = (event) => {
    const { id, data, length, level } = event.data
    try {
      let out = Bun.gzipSync(data.subarray(0, length), {
        library: "libdeflate",
        level: level as 6,
      })
      if (out.byteOffset !== 0 || out.byteLength !== out.buffer.byteLength) out = out.slice()
      scope.postMessage({ id, data, out }, [data.buffer, out.buffer])
    } catch (error) {
      scope.postMessage({ id, data, error: String(error) }, [data.buffer])
    }
  }
}

/**
 * Source text of the worker. Workers start from a Blob URL rather than a file so that the same
 * code runs under `bun` and inside the compiled single-file executable, which has no separate
 * worker entry point.
 */
const workerSource = `(${gzipWorker.toString()})();\n`

/** Takes bytes in, hands gzip out to `output` (in order, one call at a time). */
export class ParallelGzip {
  private readonly level: number
  private readonly blockSize: number
  private readonly workers: Worker[] = []
  private readonly load: number[] = []
  private readonly results = new Map<number, Uint8Array>()
  private readonly free: Uint8Array<ArrayBuffer>[] = []
  private readonly maxInFlight: number
  private readonly url: string
  private block: Uint8Array<ArrayBuffer>
  private fill = 0
  private nextId = 0
  private nextWrite = 0
  private inFlight = 0
  private writing: Promise<void> = Promise.resolve()
  private failure: Error | undefined
  private wake: (() => void) | undefined

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
        this.dispatch()
      }
    }
  }

  /** Compresses what is left, waits for every member to be written, stops the workers. */
  async end(): Promise<void> {
    try {
      // an empty input still gets one (empty) member: a gzip file is never zero bytes
      if (this.fill > 0 || this.nextId === 0) {
        await this.room()
        this.dispatch()
      }
      while (this.inFlight > 0) await this.room(1)
      if (this.failure) throw this.failure
      await this.writing
    } finally {
      this.destroy()
    }
  }

  /** Stops the workers; safe to call more than once. */
  destroy(): void {
    for (const worker of this.workers) worker.terminate()
    this.workers.length = 0
    URL.revokeObjectURL(this.url)
    this.failure ??= new Error("the compressor was stopped")
    this.wakeUp()
  }

  /** Waits until fewer than `limit` blocks are in flight (default: the pipeline depth). */
  private async room(limit = this.maxInFlight): Promise<void> {
    while (this.inFlight >= limit && !this.failure) {
      await new Promise<void>((resolve) => {
        this.wake = resolve
      })
    }
    if (this.failure) throw this.failure
  }

  private dispatch(): void {
    let index = 0
    for (let i = 1; i < this.load.length; i++) {
      if ((this.load[i] ?? 0) < (this.load[index] ?? 0)) index = i
    }
    const worker = this.workers[index]
    if (!worker) throw this.failure ?? new Error("the compressor was stopped")
    const job: Job = { id: this.nextId++, data: this.block, length: this.fill, level: this.level }
    this.load[index] = (this.load[index] ?? 0) + 1
    this.inFlight++
    worker.postMessage(job, [this.block.buffer])
    this.block = this.free.pop() ?? new Uint8Array(this.blockSize)
    this.fill = 0
  }

  private received(worker: number, done: Done): void {
    this.load[worker] = (this.load[worker] ?? 1) - 1
    this.free.push(done.data)
    if (done.error !== undefined || !done.out) {
      this.fail(new Error(`compression failed: ${done.error ?? "no output"}`))
      return
    }
    this.results.set(done.id, done.out)
    for (let out = this.results.get(this.nextWrite); out; out = this.results.get(this.nextWrite)) {
      this.results.delete(this.nextWrite)
      this.nextWrite++
      const bytes = out
      this.writing = this.writing.then(() => this.output(bytes))
      this.writing.then(
        () => {
          this.inFlight--
          this.wakeUp()
        },
        (error: unknown) => this.fail(error instanceof Error ? error : new Error(String(error))),
      )
    }
  }

  private fail(error: Error): void {
    this.failure ??= error
    this.wakeUp()
  }

  private wakeUp(): void {
    const wake = this.wake
    this.wake = undefined
    wake?.()
  }
}
