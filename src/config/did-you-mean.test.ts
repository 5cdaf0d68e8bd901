import { expect, test } from "bun:test"
import { didYouMean } from "./did-you-mean.ts"

const SECTIONS = [
  "Mode",
  "Glidein",
  "Cluster",
  "SubmitFile",
  "CustomEnv",
  "StartdLogging",
  "StartdChecks",
]

test("didYouMean() finds a misspelled section (the real [StardChecks] typo)", () => {
  expect(didYouMean("StardChecks", SECTIONS)).toBe("StartdChecks")
  expect(didYouMean("cluster", SECTIONS)).toBe("Cluster")
  expect(didYouMean("SubmitFiel", SECTIONS)).toBe("SubmitFile")
})

test("didYouMean() finds a name cut short at an underscore", () => {
  expect(didYouMean("max_disk", ["max_disk_per_job", "max_total_jobs"])).toBe("max_disk_per_job")
})

test("didYouMean() finds swapped letters", () => {
  expect(didYouMean("gropu_jobs", ["group_jobs", "gpu_only"])).toBe("group_jobs")
})

test("didYouMean() suggests nothing for an unrelated name", () => {
  expect(didYouMean("whole", SECTIONS)).toBeUndefined()
  expect(didYouMean("sbatch", ["filename", "local_dir", "custom_header"])).toBeUndefined()
})
