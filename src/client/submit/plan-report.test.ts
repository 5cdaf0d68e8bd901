import { describe, expect, test } from "bun:test"
import { partitionLineJson } from "./plan-report.ts"

describe("partitionLineJson()", () => {
  test("partitionLineJson() gives the counts and limit of a counted partition", () => {
    const outcome = {
      partition: "gpu",
      running: 4,
      idle: 1,
      limit: 2,
      limitBy: "max_idle_jobs 3 − 1 idle",
      launched: 2,
    }
    expect(partitionLineJson({ partition: "gpu", scheduler: "slurm", outcome })).toEqual({
      partition: "gpu",
      scheduler: "slurm",
      running: 4,
      idle: 1,
      limit: 2,
      limit_by: "max_idle_jobs 3 − 1 idle",
    })
  })

  test("partitionLineJson() gives why a partition could not be counted, and no numbers", () => {
    expect(
      partitionLineJson({ partition: "cpu", scheduler: "pbs", error: "qselect failed" }),
    ).toEqual({ partition: "cpu", scheduler: "pbs", error: "qselect failed" })
  })
})
