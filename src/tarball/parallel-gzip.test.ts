import { afterAll, describe, expect, test } from "bun:test"
import { writeFileSync } from "node:fs"
import path from "node:path"
import { gunzipSync } from "node:zlib"
import { ParallelGzip } from "./parallel-gzip.ts"
import { removeTempDirs, tempDir } from "./test-support.ts"

const BLOCK = 4096

/** Compresses `input` fed in pieces of `piece` bytes. */
async function compress(
  input: Uint8Array,
  options: { threads?: number; blockSize?: number; piece?: number } = {},
): Promise<Buffer> {
  const parts: Uint8Array[] = []
  const gzip = new ParallelGzip(async (bytes) => {
    parts.push(bytes.slice())
  }, options)
  const piece = options.piece ?? 1000
  for (let i = 0; i < input.length; i += piece) await gzip.write(input.subarray(i, i + piece))
  await gzip.end()
  return Buffer.concat(parts)
}

/** Half text, half noise: compressible but not trivially. */
function sample(length: number): Uint8Array {
  const out = new Uint8Array(length)
  let x = 7
  for (let i = 0; i < length; i++) {
    x = (x * 1664525 + 1013904223) >>> 0
    out[i] = i % 2 ? x >>> 24 : 97 + (i % 17)
  }
  return out
}

afterAll(removeTempDirs)

describe("ParallelGzip", () => {
  for (const length of [0, 1, BLOCK - 1, BLOCK, BLOCK + 1, 10 * BLOCK + 123]) {
    test(`round-trips ${length} bytes through node:zlib and GNU gzip`, async () => {
      const input = sample(length)
      const out = await compress(input, { blockSize: BLOCK, threads: 3 })
      expect(out[0]).toBe(0x1f)
      expect(out[1]).toBe(0x8b)
      expect(Buffer.from(gunzipSync(out)).equals(Buffer.from(input))).toBe(true)
      const file = path.join(tempDir(), "x.gz")
      writeFileSync(file, out)
      const gzip = Bun.spawnSync(["gzip", "-dc", file])
      expect(gzip.success).toBe(true)
      expect(Buffer.from(gzip.stdout).equals(Buffer.from(input))).toBe(true)
    })
  }

  test("writes the same bytes whatever the number of threads and write sizes", async () => {
    const input = sample(50 * BLOCK + 7)
    const one = await compress(input, { blockSize: BLOCK, threads: 1, piece: 10_000 })
    const four = await compress(input, { blockSize: BLOCK, threads: 4, piece: 333 })
    expect(four.equals(one)).toBe(true)
  })

  test("compresses compressible data", async () => {
    const input = new TextEncoder().encode("the same line, again and again\n".repeat(20_000))
    const out = await compress(input)
    expect(out.length).toBeLessThan(input.length / 50)
  })

  test("rejects when writing the output fails, and stops its workers without destroy()", async () => {
    // a Worker that tells when it has stopped, for the compressor to create its workers with
    const RealWorker = globalThis.Worker
    const stopped: Promise<void>[] = []
    globalThis.Worker = class extends RealWorker {
      constructor(...args: ConstructorParameters<typeof Worker>) {
        super(...args)
        stopped.push(new Promise((resolve) => this.addEventListener("close", () => resolve())))
      }
    }
    let gzip: ParallelGzip
    try {
      gzip = new ParallelGzip(
        async () => {
          throw new Error("disk full")
        },
        { blockSize: BLOCK, threads: 2 },
      )
    } finally {
      globalThis.Worker = RealWorker
    }
    const input = sample(20 * BLOCK)
    const run = (async () => {
      for (let i = 0; i < input.length; i += BLOCK) await gzip.write(input.subarray(i, i + BLOCK))
      await gzip.end()
    })()
    await expect(run).rejects.toThrow("disk full")
    expect(stopped).toHaveLength(2)
    const late = Bun.sleep(2000).then(() => "a worker is still running")
    expect(await Promise.race([Promise.all(stopped).then(() => "stopped"), late])).toBe("stopped")
  })
})
