/**
 * @module
 * What the suite feeds glidein and what it must get back: the fake queue's idle jobs, the
 * demand table and glideins they must turn into (by pyglidein's rules, worked out by hand),
 * the walltime and retirement arithmetic of glidein_start.sh, and the pool password.
 */

/** The idle jobs the fake condor_q reports, as `condor_q -af:,` prints them. */
const REQS = '(TARGET.Arch == "X86_64") && (TARGET.OpSys == "LINUX")'
const GPU_JOB = `1, 1000, 1000000, 1, ${REQS}`
const BIG_JOB = `2, 1500, 3000000, undefined, ${REQS}`
const CPU_JOB = `1, 1200, 2000000, undefined, ${REQS}`
export const DEMAND_LINES = [GPU_JOB, BIG_JOB, ...Array(5).fill(CPU_JOB)]
export const DEMAND_JOBS = DEMAND_LINES.length

/** The demand table `serve` must publish for them (disk in pyglidein's wire unit, KiB/1000). */
export const EXPECTED_DEMAND = [
  { cpus: 1, memory: 1000, disk: 1000, gpus: 1, count: 1 },
  { cpus: 2, memory: 1500, disk: 3000, gpus: 0, count: 1 },
  { cpus: 1, memory: 1200, disk: 2000, gpus: 0, count: 5 },
]

/** walltime_hrs of the test sites: a 30 min batch limit, WALLTIME 300 s below it. */
export const WALLTIME_HRS = 0.5
export const BATCH_LIMIT_S = 1800
export const WALLTIME_S = 1500

/** What a glidein is told it has: the contract variables of glidein_start.sh. */
export interface Glidein {
  CPUS: string
  MEMORY: string
  DISK: string
  GPUS: string
}

/**
 * The glideins the three shapes get on a batch-script site (pyglidein's sizing): memory with
 * a 5 % margin, disk from wire units × 1.1 × 1024 (KB), the job's own cores (all under the
 * default mem_per_core of 2000 MB). With max_total_jobs = 3 a run submits one of each, GPU
 * demand first, then by memory (prioritize_jobs = gpu, memory): 4 cores, which fill the node.
 */
export const GLIDEINS: Glidein[] = [
  { CPUS: "1", MEMORY: "1050", DISK: "1126400", GPUS: "1" },
  { CPUS: "2", MEMORY: "1575", DISK: "3379200", GPUS: "0" },
  { CPUS: "1", MEMORY: "1260", DISK: "2252800", GPUS: "0" },
]
export const FIRST_RUN = GLIDEINS.length

/** How failure messages name a glidein. */
export function label(g: Glidein): string {
  return `glidein CPUS=${g.CPUS} GPUS=${g.GPUS}`
}

/** How long a stand-in master stays up at most, whatever its -r (the suite cancels sooner). */
export const MASTER_CAP_S = 600

/**
 * Bytes of a pool password file: binary, with NUL, CR, LF and high bytes. Not starting with
 * 0xde: HTCondor XORs the file with 0xdeadbeef, and a first byte that unscrambles to NUL is an
 * empty password, which glidein submit refuses to send.
 */
export const POOL_PASSWORD = Buffer.concat([
  Buffer.from([0x8e, 0xad, 0x00, 0xbe, 0xef, 0x0a, 0x0d, 0xff, 0x00, 0x7f, 0x80]),
  crypto.getRandomValues(new Uint8Array(245)),
])

/**
 * glidein_start.sh's default RETIRETIME is WALLTIME / 4, at most 1200 s: no new jobs after
 * WALLTIME − RETIRETIME, which `condor_master -r` gets in whole minutes, rounded down.
 */
export const RETIRE_S = Math.min(Math.floor(WALLTIME_S / 4), 1200)
export const RETIRE_MINUTES = Math.floor((WALLTIME_S - RETIRE_S) / 60)
