/**
 * @module
 * How big a glidein is for one demand shape on one partition: pyglidein's sizing rules per
 * scheduler family (safety margins, memory-per-core scaling, whole nodes), with its mistakes
 * left out. Pure arithmetic, in the same operation order as pyglidein so that float rounding
 * gives the same whole numbers.
 */
import type { GlideinResources, SchedulerName } from "../schedulers/types.ts"

/** The partition settings sizing depends on. */
export interface SizingPolicy {
  scheduler: SchedulerName
  /** whole_node_*: every glidein takes a whole node of this size (MB; disk in wire units). */
  wholeNode?: { cpus: number; memory: number; disk: number; gpus?: number }
  /** mem_per_core (MB): cores are added so that memory per core stays within it. */
  memPerCore?: number
  /** [SubmitFile] mem_safety_scale: multiplies the memory margin. */
  memSafetyScale: number
  walltimeHours: number
}

/** A demand shape after partition-specific adjustment (memory in MB, disk in wire units). */
export interface Shape {
  cpus: number
  memory: number
  disk: number
  gpus: number
}

/** The result of sizing: what the glidein gets, and why it has more cores than asked, if so. */
export interface Sizing {
  resources: GlideinResources
  /** Set when cores were added to stay within mem_per_core. */
  scaledFrom?: number
}

/** pyglidein's default mem_per_core when a partition that is not whole_node sets none. */
const DEFAULT_MEM_PER_CORE = 2000

/** The batch limit, in whole seconds, of `walltime_hrs`. */
export function batchWalltimeS(hours: number): number {
  return Math.round(hours * 3600)
}

/**
 * Sizes one glidein for `shape` under `policy`. HTCondor glideins get 10 % memory and disk
 * margins and the job's own cores; batch-script schedulers get 5 % memory and 10 % disk, and
 * (except Grid Engine, which grants memory per job) as many cores as memory-per-core requires.
 */
export function sizeGlidein(shape: Shape, policy: SizingPolicy): Sizing {
  const walltimeS = batchWalltimeS(policy.walltimeHours)
  const family = schedulerFamily(policy.scheduler)
  const whole = policy.wholeNode
  if (whole) {
    if (family === "htcondor") {
      // condor_submit's request_disk is KiB; pyglidein multiplied whole_node_disk by 1000 here.
      const gpus = shape.gpus !== 0 ? (whole.gpus ?? 0) : 0
      return {
        resources: {
          cpus: whole.cpus,
          memoryMb: whole.memory,
          diskKb: whole.disk * 1000,
          gpus,
          walltimeS,
        },
      }
    }
    // pyglidein told a GPU node's glidein min(whole_node_memory, mem_per_core): a per-core
    // figure, usually inherited from [Cluster], for a whole node. The node's memory it is.
    const gpus = whole.gpus ?? 0
    return {
      resources: {
        cpus: whole.cpus,
        memoryMb: whole.memory,
        diskKb: whole.disk * 1024,
        gpus,
        walltimeS,
      },
    }
  }
  if (family === "htcondor") {
    return {
      resources: {
        cpus: shape.cpus,
        memoryMb: Math.trunc(shape.memory * (1.1 * policy.memSafetyScale)),
        diskKb: Math.trunc(shape.disk * 1024 * 1.1),
        gpus: shape.gpus,
        walltimeS,
      },
    }
  }
  const memoryMb = Math.trunc(shape.memory * (1.05 * policy.memSafetyScale))
  const diskKb = Math.trunc(shape.disk * 1.1 * 1024)
  let cpus = shape.cpus
  let scaledFrom: number | undefined
  if (family === "batch") {
    const perCore = policy.memPerCore ?? DEFAULT_MEM_PER_CORE
    const needed = Math.ceil(memoryMb / perCore)
    // pyglidein added a core whenever memory exceeded mem_per_core, even when the job's own
    // cores already covered it, and capped a GPU glidein's memory at mem_per_core (below what
    // the job asked, so the job could never match). Both kinds get the cores they need.
    if (needed > cpus) {
      scaledFrom = cpus
      cpus = needed
    }
  }
  const resources = { cpus, memoryMb, diskKb, gpus: shape.gpus, walltimeS }
  return scaledFrom === undefined ? { resources } : { resources, scaledFrom }
}

/** htcondor: requests per glidein; gridengine: memory per job; batch: memory per core. */
function schedulerFamily(name: SchedulerName): "htcondor" | "gridengine" | "batch" {
  if (name === "htcondor") return "htcondor"
  if (name === "uge" || name === "sge") return "gridengine"
  return "batch"
}
