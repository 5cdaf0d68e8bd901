/**
 * A simulated HTCondor queue: `condor_q -af:,` output for job mixes like a real
 * IceCube-style pool (CPU simulation, GPU photon propagation, multi-core reconstruction,
 * legacy SL6 jobs), so `serve --demo`, tests and benchmarks run the real parser on a machine
 * without HTCondor.
 */
import { seededRandom } from "../seeded-random.ts"

/** One kind of job in the simulated pool. */
interface JobKind {
  name: string
  /** `undefined` prints as condor_q prints an unset attribute. */
  cpus: number | undefined
  memory: number | undefined
  diskKiB: number | undefined
  gpus: number | undefined
  /** OpSysAndVer the job insists on, if any. */
  os?: string
  /** OpSysMajorVer the job insists on, if any (without naming the distribution). */
  majorVer?: number
  /** Typical idle jobs of this kind, and how strongly that swings over the day. */
  base: number
  swing: number
  /** Period of the swing in hours and its phase, so kinds do not move in lockstep. */
  periodHours: number
  phase: number
}

const KINDS: JobKind[] = [
  {
    name: "simulation",
    cpus: 1,
    memory: 4000,
    diskKiB: 10_000_000,
    gpus: undefined,
    os: "CentOS7",
    base: 900,
    swing: 0.8,
    periodHours: 24,
    phase: 0,
  },
  {
    name: "simulation-sl6",
    cpus: 1,
    memory: 2000,
    diskKiB: 2_000_000,
    gpus: undefined,
    os: "SL6",
    base: 250,
    swing: 0.6,
    periodHours: 36,
    phase: 1.3,
  },
  {
    name: "photon-gpu",
    cpus: 1,
    memory: 12000,
    diskKiB: 3_145_728,
    gpus: 1,
    base: 160,
    swing: 0.9,
    periodHours: 12,
    phase: 2.1,
  },
  {
    name: "reconstruction",
    cpus: 4,
    memory: 16000,
    diskKiB: 40_000_000,
    gpus: 0,
    os: "AlmaLinux9",
    base: 120,
    swing: 0.7,
    periodHours: 18,
    phase: 4,
  },
  {
    name: "analysis",
    cpus: undefined,
    memory: undefined,
    diskKiB: undefined,
    gpus: undefined,
    base: 300,
    swing: 1,
    periodHours: 8,
    phase: 0.5,
  },
  {
    name: "highmem",
    cpus: 8,
    memory: 64000,
    diskKiB: 100_000_000,
    gpus: 0,
    base: 20,
    swing: 1,
    periodHours: 48,
    phase: 3,
  },
  {
    name: "el8-only",
    cpus: 2,
    memory: 6000,
    diskKiB: 20_000_000,
    gpus: 0,
    majorVer: 8,
    base: 60,
    swing: 0.9,
    periodHours: 30,
    phase: 5.5,
  },
]

const LONG_TAIL =
  ' && (TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX") && (TARGET.Disk >= RequestDisk)' +
  " && (TARGET.Memory >= RequestMemory) && (TARGET.Cpus >= RequestCpus)" +
  " && ((TARGET.FileSystemDomain == MY.FileSystemDomain) || (TARGET.HasFileTransfer))"

function requirements(kind: JobKind, long: boolean, variant: number): string {
  const parts: string[] = []
  if (kind.majorVer !== undefined) parts.push(`(TARGET.OpSysMajorVer == ${kind.majorVer})`)
  if (kind.os !== undefined) parts.push(`(TARGET.OpSysAndVer =?= "${kind.os}")`)
  if (!long) {
    if (kind.gpus) parts.push("(TARGET.GPUs >= RequestGPUs)")
    return parts.length > 0 ? parts.join(" && ") : '(TARGET.Arch == "X86_64")'
  }
  const head = parts.length > 0 ? `${parts.join(" && ")}` : '(TARGET.Arch == "X86_64")'
  const gpu = kind.gpus ? " && (TARGET.GPUs >= RequestGPUs) && (TARGET.CUDACapability >= 3.0)" : ""
  return `${head}${LONG_TAIL}${gpu} && (TARGET.IceCubeSite =!= "blacklisted${variant}")`
}

function column(value: number | undefined): string {
  return value === undefined ? "undefined" : String(value)
}

function line(kind: JobKind, long: boolean, variant: number): string {
  return `${column(kind.cpus)}, ${column(kind.memory)}, ${column(kind.diskKiB)}, ${column(kind.gpus)}, ${requirements(kind, long, variant)}\n`
}

/** Encodes lines into chunks of about 64 KiB, as a pipe would deliver them. */
function* chunked(lines: Iterable<string>): Generator<Uint8Array> {
  const encoder = new TextEncoder()
  let pending: string[] = []
  let size = 0
  for (const l of lines) {
    pending.push(l)
    size += l.length
    if (size >= 65536) {
      yield encoder.encode(pending.join(""))
      pending = []
      size = 0
    }
  }
  if (pending.length > 0) yield encoder.encode(pending.join(""))
}

/**
 * `jobs` lines of a random mix of the simulated job kinds, in ~64 KiB chunks. `long` gives
 * Requirements of ~300 bytes like a real submit file's (short ones are ~40 bytes).
 */
export function* simulatedCondorQ(options: {
  jobs: number
  long: boolean
  seed?: number
}): Generator<Uint8Array> {
  const next = seededRandom(options.seed ?? 1)
  const weights = KINDS.map((k) => k.base)
  const total = weights.reduce((a, b) => a + b, 0)
  const variants = 10
  // Pre-render each (kind, variant) line once: the generator is for benchmarks, not a
  // benchmark of string building.
  const lines = KINDS.map((k) =>
    Array.from({ length: variants }, (_, v) => line(k, options.long, v)),
  )
  function* pick(): Generator<string> {
    for (let i = 0; i < options.jobs; i++) {
      let r = next() * total
      let k = 0
      while (k < KINDS.length - 1 && r >= weights[k]!) r -= weights[k++]!
      yield lines[k]![Math.floor(next() * variants)]!
    }
  }
  yield* chunked(pick())
}

/**
 * Idle jobs per kind at time `now` (ms): a smooth swing plus seeded noise per 5 minutes.
 * `count` and `gpus` per job, as in the demand rows the kind parses into.
 */
export function demoJobCounts(now: number): { name: string; count: number; gpus: number }[] {
  const hours = now / 3_600_000
  const noise = seededRandom(Math.floor(now / 300_000))
  return KINDS.map((k) => {
    const wave = 1 + k.swing * Math.sin((2 * Math.PI * hours) / k.periodHours + k.phase)
    const count = Math.max(0, Math.round(k.base * wave * (0.85 + 0.3 * noise())))
    return { name: k.name, count, gpus: k.gpus ?? 0 }
  })
}

/** The simulated queue's condor_q output at time `now` (ms), in chunks. */
export function* demoQueue(now: number): Generator<Uint8Array> {
  const counts = demoJobCounts(now)
  const noise = seededRandom(Math.floor(now / 300_000) ^ 0x5eed)
  function* lines(): Generator<string> {
    for (const [i, kind] of KINDS.entries()) {
      const jobs = counts[i]?.count ?? 0
      for (let j = 0; j < jobs; j++) yield line(kind, true, Math.floor(noise() * 3))
    }
  }
  yield* chunked(lines())
}
