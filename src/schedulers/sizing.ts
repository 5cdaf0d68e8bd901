/**
 * How big a glidein is for one demand shape, by scheduler family: pyglidein's sizing rules
 * (safety margins, memory-per-core scaling, whole nodes) with its mistakes left out. Each
 * adapter names the rules it follows (`Scheduler.sizing`); the planner asks the adapter. Pure
 * arithmetic, in the same operation order as pyglidein so that float rounding gives the same
 * whole numbers.
 */
import type { GlideinResources, SchedulerName } from "./types.ts"

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

/** A scheduler's sizing rules. */
export interface SizingRules {
  /** The demand's memory (MB) in the unit this scheduler's limits and glideins count it. */
  demandMemoryMb(mb: number): number
  /** The glidein for `shape` (memory already through `demandMemoryMb`) under `policy`. */
  size(shape: Shape, policy: SizingPolicy): Sizing
}

/** pyglidein's default mem_per_core when a partition that is not whole_node sets none. */
const DEFAULT_MEM_PER_CORE = 2000

/** The batch limit, in whole seconds, of `walltime_hrs`. */
export function batchWalltimeS(hours: number): number {
  return Math.round(hours * 3600)
}

const sameMemory = (mb: number) => mb

/**
 * HTCondor (`request_*` per glidein): 10 % memory (× mem_safety_scale) and disk margins and the
 * job's own cores; a whole node's disk × 1000 KiB, as pyglidein had it.
 */
export const requestSizing: SizingRules = {
  demandMemoryMb: sameMemory,
  size(shape, policy) {
    const walltimeS = batchWalltimeS(policy.walltimeHours)
    const whole = policy.wholeNode
    if (whole) {
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
    return {
      resources: {
        cpus: shape.cpus,
        memoryMb: Math.trunc(shape.memory * (1.1 * policy.memSafetyScale)),
        diskKb: Math.trunc(shape.disk * 1024 * 1.1),
        gpus: shape.gpus,
        walltimeS,
      },
    }
  },
}

/** A batch-script glidein: a whole node, or 5 % memory and 10 % disk margins. */
function batchSizing(addCores: boolean): SizingRules {
  return {
    demandMemoryMb: sameMemory,
    size(shape, policy) {
      const walltimeS = batchWalltimeS(policy.walltimeHours)
      const whole = policy.wholeNode
      if (whole) {
        // pyglidein told a GPU node's glidein min(whole_node_memory, mem_per_core): a per-core
        // figure, usually inherited from [Cluster], for a whole node. The node's memory it is.
        return {
          resources: {
            cpus: whole.cpus,
            memoryMb: whole.memory,
            diskKb: whole.disk * 1024,
            gpus: whole.gpus ?? 0,
            walltimeS,
          },
        }
      }
      const memoryMb = Math.trunc(shape.memory * (1.05 * policy.memSafetyScale))
      const diskKb = Math.trunc(shape.disk * 1.1 * 1024)
      let cpus = shape.cpus
      let scaledFrom: number | undefined
      if (addCores) {
        const perCore = policy.memPerCore ?? DEFAULT_MEM_PER_CORE
        const needed = Math.ceil(memoryMb / perCore)
        // pyglidein added a core whenever memory exceeded mem_per_core, even when the job's own
        // cores already covered it, and capped a GPU glidein's memory at mem_per_core (below
        // what the job asked, so the job could never match). Both get the cores they need.
        if (needed > cpus) {
          scaledFrom = cpus
          cpus = needed
        }
      }
      const resources = { cpus, memoryMb, diskKb, gpus: shape.gpus, walltimeS }
      return scaledFrom === undefined ? { resources } : { resources, scaledFrom }
    },
  }
}

/** Slurm, PBS, LSF: memory per core is limited, so cores are added to fit mem_per_core. */
export const perCoreSizing: SizingRules = batchSizing(true)

/** Grid Engine grants memory per slot as asked (`h_rss`), so no cores are added for it. */
export const perSlotSizing: SizingRules = batchSizing(false)
