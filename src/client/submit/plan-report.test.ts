import { describe, expect, test } from "bun:test"
import { partitionJson } from "./plan-report.ts"

describe("partitionJson()", () => {
  test("partitionJson() gives the counts and limit of a counted partition", () => {
    const outcome = {
      partition: "gpu",
      running: 4,
      idle: 1,
      limit: 2,
      limitBy: "max_idle_jobs 3 − 1 idle",
      launched: 2,
    }
    expect(
      partitionJson({ partition: { name: "gpu", scheduler: { name: "slurm" } }, outcome }),
    ).toEqual({
      partition: "gpu",
      scheduler: "slurm",
      running: 4,
      idle: 1,
      limit: 2,
      limit_by: "max_idle_jobs 3 − 1 idle",
    })
  })

  test("partitionJson() gives why a partition could not be counted, and no numbers", () => {
    expect(
      partitionJson({
        partition: { name: "cpu", scheduler: { name: "pbs" } },
        error: "qselect failed",
      }),
    ).toEqual({ partition: "cpu", scheduler: "pbs", error: "qselect failed" })
  })
})
