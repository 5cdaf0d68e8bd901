/**
 * @module
 * The heart of the suite: what each running glidein recorded, checked against the plan —
 * its contract environment, the batch job's request, how condor_master was started and
 * configured, and the pool password it sees.
 */
import { PASSED_THROUGH_VARIABLES } from "../../src/schedulers/job-script.ts"
import type { Cluster } from "./batch.ts"
import {
  BATCH_LIMIT_S,
  FIRST_RUN,
  GLIDEINS,
  type Glidein,
  label,
  POOL_PASSWORD,
  RETIRE_MINUTES,
  RETIRE_S,
  WALLTIME_S,
} from "./expected.ts"
import { CheckFailed, check, show } from "./harness.ts"
import type { Context } from "./pool.ts"
import type { MasterRecord } from "./records.ts"
import { LOG_UPLOAD_INTERVAL_S, recordsOf, type Site } from "./site.ts"

/** Scenario `glideins`: every glidein of the first run ran as planned (see the module comment). */
export async function glideinsScenario(ctx: Context, c: Cluster, site: Site): Promise<string> {
  const records = recordsOf(ctx, c)
  const jobs = await c.jobs(ctx.user.name)
  check(
    records.length === FIRST_RUN,
    `${records.length} masters started, want ${FIRST_RUN}`,
    records.map((r) => r.dir).join("\n"),
  )
  const shape = (env: Record<string, string> | undefined) => `${env?.CPUS}/${env?.GPUS}`
  // Every glidein is checked, so one failure does not hide another.
  const checkGlidein = async (want: Glidein): Promise<void> => {
    const rec = records.find((r) => shape(r.contract) === shape({ ...want }))
    check(
      rec !== undefined,
      `no ${label(want)} started`,
      records.map((r) => show(r.contract)).join("\n"),
    )
    // Exactly the contract: the job script starts glidein_start.sh from `env -i`.
    const env = rec.contract!
    const expected: Record<string, string> = {
      ...want,
      WALLTIME: String(WALLTIME_S),
      SITE: site.name,
      ResourceName: `${site.name}-vm`,
      CLUSTER: "pool.e2e.invalid",
      // Who submitted it and for which partition, for the pool's view of the site.
      GLIDEIN_CLIENT: site.uuid,
      GLIDEIN_PARTITION: "Cluster",
      GLIDEIN_TARBALL: site.tarball,
      E2E_CLUSTER: c.name,
      LOG_UPLOAD_INTERVAL: String(LOG_UPLOAD_INTERVAL_S),
      LOG_UPLOAD_URL: `${site.logs.url}/${site.logs.bucket}/`,
      LOG_UPLOAD_PREFIX: `${site.name}_`,
    }
    // The signed parts of the upload form: their shapes (the logs scenario uses them).
    const signed = {
      LOG_UPLOAD_POLICY: /^[A-Za-z0-9+/]+=*$/,
      LOG_UPLOAD_CREDENTIAL: new RegExp(
        `^${site.logs.accessKey}/\\d{8}/us-east-1/s3/aws4_request$`,
      ),
      LOG_UPLOAD_DATE: /^\d{8}T\d{6}Z$/,
      LOG_UPLOAD_SIGNATURE: /^[0-9a-f]{64}$/,
    }
    for (const [k, pattern] of Object.entries(signed)) {
      const value = env[k] ?? ""
      check(pattern.test(value), `${label(want)}: ${k}=${JSON.stringify(env[k])}, want ${pattern}`)
      expected[k] = value
    }
    for (const [k, v] of Object.entries(expected)) {
      check(env[k] === v, `${label(want)}: ${k}=${JSON.stringify(env[k])}, want "${v}"`, show(env))
    }
    // glidein_start.sh also reads the GPUs the batch system assigned, when there are any, and
    // the batch job's id: the job script passes them through env -i unchanged.
    for (const name of PASSED_THROUGH_VARIABLES) {
      if (env[name] === undefined) continue
      const assigned = rec.jobEnv?.[name]
      check(
        env[name] === assigned,
        `${label(want)}: ${name}=${env[name]}, but the batch job has ${JSON.stringify(assigned)}`,
      )
      expected[name] = assigned
    }
    const extra = Object.keys(env).filter((k) => !(k in expected))
    check(
      extra.length === 0,
      `${label(want)}: glidein_start.sh was started with more than the contract: ${extra.join(", ")}`,
      show(env),
    )
    check(rec.user === ctx.user.name, `the master ran as "${rec.user}", want "${ctx.user.name}"`)

    // The batch job asked the scheduler for the same resources.
    check(rec.jobId !== undefined, "no batch job id above the master", rec.dir)
    const job = jobs.find((j) => j.id === rec.jobId)
    check(
      job?.state === "running",
      `job ${rec.jobId} is ${job?.raw ?? "gone"}, want running`,
      show(jobs),
    )
    const req = await c.request(rec.jobId)
    const cpus = Number(want.CPUS)
    const wantReq = {
      owner: ctx.user.name,
      cpus,
      memoryMb: c.requestedMemory(Number(want.MEMORY), cpus),
      gpus: Number(want.GPUS),
      timeLimitS: BATCH_LIMIT_S,
    }
    check(
      show(req) === show(wantReq),
      `${label(want)}: job ${rec.jobId} asked ${c.name} for other resources`,
      `got ${show(req)}\nwant ${show(wantReq)}`,
    )

    // The master: foreground, retiring before WALLTIME, configured for this glidein.
    checkMaster(rec, want, site)

    // The credential, byte for byte, private.
    check(
      rec.passwordPath !== undefined,
      "the master was given no SEC_PASSWORD_FILE",
      show(rec.env),
    )
    check(rec.password !== undefined, `the pool password ${rec.passwordPath} was not readable`)
    check(
      rec.password.equals(POOL_PASSWORD),
      `the pool password the master sees differs (${rec.password.length} bytes, want ${POOL_PASSWORD.length})`,
    )
    check(rec.passwordMode === "600", `the pool password has mode ${rec.passwordMode}, want 600`)
  }
  const failures: CheckFailed[] = []
  for (const want of GLIDEINS) {
    await checkGlidein(want).catch((error: unknown) => {
      if (!(error instanceof CheckFailed)) throw error
      failures.push(error)
    })
  }
  if (failures.length > 0) {
    const more = failures.length > 1 ? ` (and ${failures.length - 1} more below)` : ""
    throw new CheckFailed(
      `${failures[0]!.message}${more}`,
      failures.map((f) => [f.message, f.details].filter(Boolean).join("\n")).join("\n\n"),
    )
  }
  const shapes = GLIDEINS.map((g) => `${g.CPUS} cpu/${g.MEMORY} MB/${g.GPUS} gpu`).join(", ")
  return `${FIRST_RUN} glideins (${shapes}) with WALLTIME=${WALLTIME_S}, SITE, CLUSTER; batch requests match; password byte-exact; condor_master ${records[0]!.args.join(" ")}`
}

/**
 * How the master was started: in the foreground with the retirement time, its daemons beside
 * it, and HTCondor configured (through `_condor_*`) with exactly the glidein's resources.
 */
function checkMaster(rec: MasterRecord, want: Glidein, site: Site): void {
  const args = rec.args
  check(args.includes("-f"), `condor_master was started without -f: ${args.join(" ")}`)
  const at = args.indexOf("-r")
  check(
    at >= 0 && args[at + 1] === String(RETIRE_MINUTES),
    `condor_master ${args.join(" ")}: want -r ${RETIRE_MINUTES} (minutes until WALLTIME ${WALLTIME_S} s − RETIRETIME ${RETIRE_S} s)`,
  )
  check(!rec.error, `the stand-in master reported: ${rec.error}`)
  for (const d of ["condor_startd", "condor_starter"]) {
    check(rec.daemons.includes(d), `${d} is missing or not executable beside condor_master`)
  }
  const config: Record<string, string> = {
    _condor_NUM_CPUS: want.CPUS,
    _condor_MEMORY: want.MEMORY,
    _condor_DISK: want.DISK,
    _condor_GLIDEIN_Site: `"${site.name}"`,
    _condor_GLIDEIN_ResourceName: `"${site.name}-vm"`,
    _condor_GLIDEIN_Max_Walltime: String(WALLTIME_S),
    _condor_CONDOR_HOST: "pool.e2e.invalid",
  }
  for (const [k, v] of Object.entries(config)) {
    check(
      rec.env[k] === v,
      `${label(want)}: master has ${k}=${JSON.stringify(rec.env[k])}, want ${JSON.stringify(v)}`,
    )
  }
  const toDie = Number(rec.env._condor_GLIDEIN_ToDie)
  const toRetire = Number(rec.env._condor_GLIDEIN_ToRetire)
  check(
    toDie - toRetire === RETIRE_S &&
      toDie - rec.started <= WALLTIME_S &&
      toDie - rec.started > WALLTIME_S - 60,
    `${label(want)}: GLIDEIN_ToRetire ${toRetire} and GLIDEIN_ToDie ${toDie} for a master started at ${rec.started}: want the end WALLTIME ${WALLTIME_S} s after the start and retirement ${RETIRE_S} s before it`,
  )
  // GPUs: as many as planned; the ones the batch system assigned when it says which. They
  // come from condor_gpu_discovery's output (the stand-in names index i GPU-e2e0000<i>), or
  // from a plain list of ids when discovery found none.
  const detected = /^DetectedGPUs="(.*)"$/m.exec(rec.gpuInventory ?? "")?.[1]
  const advertised = (detected ?? rec.env._condor_MACHINE_RESOURCE_GPUs ?? "")
    .split(/[,\s]+/)
    .filter((id) => id !== "" && id !== "0")
  check(
    advertised.length === Number(want.GPUS),
    `${label(want)}: the master advertises ${advertised.length} GPUs (MACHINE_RESOURCE_GPUs=${JSON.stringify(rec.env._condor_MACHINE_RESOURCE_GPUs)}), want ${want.GPUS}`,
  )
  const assigned = rec.jobEnv?.CUDA_VISIBLE_DEVICES
  if (Number(want.GPUS) > 0 && assigned) {
    const ids = assigned
      .split(",")
      .map((id) => (/^\d+$/.test(id) && detected !== undefined ? `GPU-e2e0000${id}` : id))
    check(
      show(advertised) === show(ids),
      `${label(want)}: the master advertises GPUs ${advertised.join(", ")}, but the batch job was assigned CUDA_VISIBLE_DEVICES=${assigned}: the assignment did not reach glidein_start.sh`,
      `the job's environment above env -i has CUDA_VISIBLE_DEVICES=${assigned}; glidein_start.sh's environment: ${show(rec.contract)}`,
    )
  }
}
