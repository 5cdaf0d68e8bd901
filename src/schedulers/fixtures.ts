/**
 * Test fixtures shared by the scheduler tests (imported by tests only).
 */
import type { JobSpec } from "./types.ts"

/** A planned submission of one 2-core glidein with every optional setting off. */
export function jobSpec(
  patch: Partial<JobSpec> = {},
  site: Partial<JobSpec["site"]> = {},
): JobSpec {
  return {
    partition: "Cluster",
    count: 1,
    resources: { cpus: 2, memoryMb: 4200, diskKb: 11264000, gpus: 0, walltimeS: 14 * 3600 },
    env: {
      CPUS: "2",
      GPUS: "0",
      MEMORY: "4200",
      DISK: "11264000",
      WALLTIME: "50100",
      SITE: "Test Site",
      ResourceName: "test-cluster",
      CLUSTER: "pool.example.org",
    },
    site: { groupJobs: false, extra: {}, ...site },
    paths: {
      submitDir: "/home/user/glidein",
      startScript: "/home/user/glidein/glidein_start.sh",
      tarball: "/shared/glidein.tar.gz",
    },
    ...patch,
  }
}

/** Resources with `patch` applied to the fixture's. */
export function resources(patch: Partial<JobSpec["resources"]>): JobSpec["resources"] {
  return { ...jobSpec().resources, ...patch }
}
