import { describe, expect, test } from "bun:test"
import { existsSync, readFileSync } from "node:fs"
import { resolve } from "node:path"
import { gunzipSync } from "node:zlib"
import { CondorQParser, type CondorQResult, parseCondorQ } from "./condor-q-parse.ts"
import type { DemandRow } from "./demand-row.ts"
import { simulatedCondorQ } from "./demo-queue.ts"

const TESTDATA = resolve(import.meta.dir, "testdata")
const GOLDEN = resolve(import.meta.dir, "../..", "../shared/golden/pyglidein-server")
const haveGolden = existsSync(GOLDEN)
if (!haveGolden) console.warn(`skipping pyglidein golden comparisons: ${GOLDEN} is absent`)

const encoder = new TextEncoder()

function parseText(text: string, chunkSizes?: number[]): CondorQResult {
  const bytes = encoder.encode(text)
  const parser = new CondorQParser()
  let at = 0
  let i = 0
  while (at < bytes.length) {
    const size = chunkSizes ? (chunkSizes[i++ % chunkSizes.length] ?? 1) : bytes.length
    parser.push(bytes.subarray(at, at + size))
    at += size
  }
  return parser.finish()
}

function row(
  count: number,
  cpus: number,
  memory: number,
  disk: number,
  gpus: number,
  os: string | null,
): DemandRow {
  return { cpus, memory, disk, gpus, os, count }
}

describe("parseCondorQ()", () => {
  const rules = readFileSync(resolve(TESTDATA, "condor-q-rules.txt"), "utf8")

  test("aggregates the rule fixture: defaults, KiB/1000 rounded up, OS from required tests", () => {
    const result = parseText(rules)
    expect(result.rows).toEqual([
      row(3, 1, 4000, 10000, 0, "centos7"), // undefined gpus is 0; == and =?= both count
      row(2, 1, 2000, 10000, 0, null), // all undefined; empty Requirements
      row(2, 2, 8000, 3146, 1, null), // 3145728 and 3145001 KiB both round up to 3146
      row(2, 4, 16000, 1, 0, null), // negated and ||-optional OS tests require nothing
      row(1, 8, 32000, 40000, 0, "almalinux9"), // ", " inside Requirements
      row(1, 8, 32000, 40000, 0, "el8"), // OpSysMajorVer alone
    ])
    expect(result.jobs).toBe(11)
  })

  test("counts each line that does not parse, never guessing, and names the first", () => {
    const result = parseText(rules)
    expect(result.badLines).toBe(12)
    expect(result.firstBad).toEqual({
      line: 13,
      reason: "RequestMemory: line ends early (expected 5 columns)",
      text: "1, 2000",
    })
    const reasons = rules
      .split("\n")
      .slice(12)
      .filter((l) => l !== "")
      .map((l) => parseText(l).firstBad?.reason)
    expect(reasons).toEqual([
      "RequestMemory: line ends early (expected 5 columns)",
      "RequestCpus: expected a number or undefined",
      'RequestCpus: expected ", " after the value',
      "RequestCpus: expected a number or undefined",
      "RequestCpus: expected a number or undefined",
      "RequestGpus: line ends early (expected 5 columns)",
      "RequestDisk: expected a number or undefined",
      "RequestGpus: expected a number or undefined",
      "RequestMemory: expected a number or undefined",
      "RequestGpus: expected a number or undefined",
      "RequestGpus: expected a number or undefined",
      "RequestCpus: expected a number or undefined",
    ])
  })

  test("rounds real-valued requests up (RequestMemory = MemoryUsage * 1.5 prints 3000.0)", () => {
    const result = parseText(readFileSync(resolve(TESTDATA, "condor-q-reals-bounds.txt"), "utf8"))
    expect(result.badLines).toBe(0)
    expect(result.rows).toEqual([
      row(2, 1, 3000, 3, 0, null), // 3000.0 and 2999.25 MB; 2929.6875 KiB is 3 on the wire
      row(1, 1, 1500, 10000, 0, "centos7"), // 1.5E+03
    ])
    expect(result.jobs).toBe(3)
  })

  test("sets aside and counts jobs no site could run, naming the shape with the most", () => {
    const result = parseText(readFileSync(resolve(TESTDATA, "condor-q-reals-bounds.txt"), "utf8"))
    expect(result.setAside).toEqual({ jobs: 3, shapes: 2, first: "cpus 200000 > 100000" })
    expect(parseText(rules).setAside).toBeUndefined()
  })

  test("gives the same table however the stream is cut into chunks", () => {
    const whole = parseText(rules)
    for (const sizes of [[1], [2], [7], [64], [3, 1, 50, 2]]) {
      expect(parseText(rules, sizes)).toEqual(whole)
    }
    for (let cut = 1; cut < rules.length; cut += 13) {
      expect(parseText(rules, [cut, rules.length])).toEqual(whole)
    }
  })

  test("counts a last line without a newline", () => {
    expect(parseText('1, 2000, 1000, 0, (TARGET.Arch == "X86_64")').jobs).toBe(1)
    expect(parseText("1, 2000, 1000, 0, x\n2, 2000, 1000, 0, y").jobs).toBe(2)
  })

  test("counts a line longer than 1 MiB as one bad line and reads on", () => {
    const long = `1, 2000, 1000, 0, ${"x".repeat(1.5 * 1024 * 1024)}`
    const text = `1, 2000, 1000, 0, a\n${long}\n1, 2000, 1000, 0, b\n`
    for (const sizes of [undefined, [65536]]) {
      const result = parseText(text, sizes)
      expect(result.jobs).toBe(2)
      expect(result.badLines).toBe(1)
      expect(result.firstBad?.line).toBe(2)
    }
  })

  test("counts every job of a 1,000,000-line stream exactly", async () => {
    const chunks = [...simulatedCondorQ({ jobs: 1_000_000, long: false, seed: 7 })]
    const result = await parseCondorQ(chunks)
    expect(result.jobs).toBe(1_000_000)
    expect(result.badLines).toBe(0)
    // Reference, by another route: count distinct lines, parse each once, multiply.
    const counts = new Map<string, number>()
    const decoder = new TextDecoder()
    let tail = ""
    for (const chunk of chunks) {
      const lines = (tail + decoder.decode(chunk)).split("\n")
      tail = lines.pop() ?? ""
      for (const l of lines) counts.set(l, (counts.get(l) ?? 0) + 1)
    }
    const expected = new Map<string, DemandRow>()
    for (const [line, n] of counts) {
      const [r] = parseText(line).rows
      if (!r) throw new Error(`reference: ${line} did not parse`)
      const key = JSON.stringify({ ...r, count: 0 })
      const seen = expected.get(key)
      expected.set(key, { ...r, count: (seen?.count ?? 0) + n })
    }
    const sort = (rows: DemandRow[]) =>
      [...rows].sort((a, b) => JSON.stringify(a).localeCompare(JSON.stringify(b)))
    expect(sort(result.rows)).toEqual(sort([...expected.values()]))
  })
})

describe("parseCondorQ() against pyglidein's golden tables", () => {
  type PyRow = {
    cpus: number
    memory: number
    disk: number
    gpus: number
    os: string | null
    count: number
  }

  /** pyglidein's table in our units: disk KiB/1000 rounded up to a whole number. */
  function inOurUnits(rows: PyRow[]): DemandRow[] {
    return rows.map((r) => ({ ...r, disk: Math.ceil(Math.round(r.disk * 1000) / 1000) }))
  }

  /** Rows merged by shape, optionally mapping the OS first; sorted for comparison. */
  function byShape(rows: DemandRow[], os: (o: string | null) => string | null): string[] {
    const m = new Map<string, number>()
    for (const r of rows) {
      const key = `${r.cpus}/${r.memory}/${r.disk}/${r.gpus}/${os(r.os)}`
      m.set(key, (m.get(key) ?? 0) + r.count)
    }
    return [...m].map(([k, n]) => `${k} ×${n}`).sort()
  }

  for (const [input, state] of [
    ["condor_q_N20_long_seed1.input.txt", "state_N20_long_seed1.json"],
    ["condor_q_N10000_long_seed1.input.txt.gz", "state_N10000_long_seed1.json"],
  ] as const) {
    test.skipIf(!haveGolden)(
      `${input}: the same jobs and shapes; sl6 where pyglidein saw sl6, other OSes named`,
      async () => {
        const raw = readFileSync(resolve(GOLDEN, input))
        const bytes = input.endsWith(".gz") ? gunzipSync(raw) : raw
        const ours = await parseCondorQ([bytes])
        const theirs = inOurUnits(
          JSON.parse(readFileSync(resolve(GOLDEN, state), "utf8")) as PyRow[],
        )
        expect(ours.badLines).toBe(0)
        expect(ours.jobs).toBe(theirs.reduce((n, r) => n + r.count, 0))
        // pyglidein knew only "sl6"; every other OS it reported as none. Seen that way, the
        // tables are identical.
        const asPyglidein = (o: string | null) => (o === "sl6" ? "sl6" : null)
        expect(byShape(ours.rows, asPyglidein)).toEqual(byShape(theirs, (o) => o))
        // The OSes pyglidein missed are the CentOS7 jobs of the input.
        expect(new Set(ours.rows.map((r) => r.os))).toEqual(new Set(["sl6", "centos7", null]))
      },
    )
  }

  test.skipIf(!haveGolden)(
    "condor_q_edge.input.txt: pyglidein's table with the documented fixes",
    async () => {
      const ours = await parseCondorQ([readFileSync(resolve(GOLDEN, "condor_q_edge.input.txt"))])
      expect(ours.rows).toEqual([
        // pyglidein has 3 too, but counted " 1, 2000 , …" (padded columns, which condor_q never
        // prints: refused here) where we count the "ünïcödé (…)" line (a function call of an
        // unknown name: no OS requirement).
        row(3, 1, 2000, 10000, 0, null),
        // pyglidein: sl6 ×3, with the "ünïcödé" line.
        row(2, 1, 2000, 10000, 0, "sl6"),
        // pyglidein: disk 0.999 and 1.0 (floats); "== SL6" and "=?= sl6" not seen as SL6.
        row(2, 2, 4000, 1, 1, "sl6"),
        // pyglidein: disk 3145.728 (a float); here KiB/1000 rounded up.
        row(2, 4, 8000, 3146, 0, null),
        // "1.5" cpus, a real: rounded up (pyglidein refused the line).
        row(1, 2, 2000, 10000, 0, null),
        // pyglidein: sl6 for !(OpSysAndVer =?= "SL6"), the opposite of an SL6 requirement.
        row(1, 2, 4000, 1, 1, null),
        // pyglidein: no OS for OpSysAndVer =?= "SL7".
        row(1, 2, 4000, 1, 1, "sl7"),
        row(1, 8, 16000, 40000, 2, "sl6"),
      ])
      // pyglidein rejected 7 lines; it published -1 cpus, 1e20 disk and "1_0" as 10 GPUs, and
      // accepted the padded line. Here -1, "1_0" and the padding are lines that did not parse,
      // and 1e20 disk is a job no site could run, set aside.
      expect(ours.badLines).toBe(8)
      expect(ours.jobs).toBe(13)
      expect(ours.setAside).toEqual({ jobs: 1, shapes: 1, first: "disk 1.0e+20 > 1000000000000" })
    },
  )
})
