/**
 * What a loaded config means, for `glidein submit --check`: aligned text for a terminal,
 * or pyglidein's Config dict as JSON.
 */
import { formatPlace } from "../errors.ts"
import type { SiteConfig } from "./site-config.ts"
import type { ConfigWarning, IniValue } from "./types.ts"

/** Keys shown even when the config leaves them at their default, per kind of section. */
const ALWAYS_SHOWN: Record<string, string[]> = {
  // `debug` only where a file sets it (with the warning that glidein does not use it).
  Mode: ["dryrun"],
  Glidein: ["address", "ssh_state", "delay"],
  partition: [
    "scheduler",
    "submit_command",
    "running_cmd",
    "idle_cmd",
    "max_total_jobs",
    "max_idle_jobs",
    "limit_per_submit",
    "walltime_hrs",
    "prioritize_jobs",
    "cpu_only",
    "gpu_only",
    "whole_node",
    "max_cpus_per_job",
    "max_gpus_per_job",
    "max_memory_per_job",
    "max_disk_per_job",
    "group_jobs",
  ],
  StartdLogging: ["send_startd_logs"],
  StartdChecks: ["enable_startd_checks"],
}

/** Commands a scheduler adapter supplies when the config has none. */
const BUILT_IN_COMMANDS = new Set(["submit_command", "running_cmd", "idle_cmd"])
/** Inherited by every partition from [Cluster]; shown as the list of partitions instead. */
const HIDDEN = new Set(["partitions"])

/** One warning as a line: `file:line: [section] key: message`. */
export function formatWarning(w: ConfigWarning): string {
  const where = formatPlace(w.place)
  return where ? `${where} ${w.message}` : w.message
}

/** The effective settings, per section and per partition, aligned for a terminal. */
export function describeConfig(config: SiteConfig): string {
  const out: string[] = []
  const n = config.partitions.length
  const schedulers = [...new Set(Object.values(config.partitionSettings).map((p) => p.scheduler))]
  const demand = config.glidein.ssh_state
    ? "demand from ~/glidein_state (ssh_state)"
    : config.glidein.address !== undefined
      ? `demand from ${config.glidein.address}`
      : "demand from the command line (--server or --state-file)"
  out.push(
    `${config.file}: usable; ${schedulers.join("/")}, ${n} partition${n === 1 ? "" : "s"}; ${demand}`,
  )
  const blocks: [string, string, Record<string, unknown>][] = [
    ["[Mode]", "Mode", config.mode],
    ["[Glidein]", "Glidein", config.glidein],
    ["[SubmitFile]", "SubmitFile", config.submitFile],
    ["[CustomEnv]", "CustomEnv", config.customEnv],
    ["[StartdLogging]", "StartdLogging", config.startdLogging],
    ["[StartdChecks]", "StartdChecks", config.startdChecks],
  ]
  config.partitions.forEach((p, i) => {
    const title =
      p === "Cluster"
        ? "partition Cluster (the [Cluster] section)"
        : `partition ${p} (${i + 1} of ${n}; [${p}] over [Cluster])`
    blocks.push([title, p, config.partitionSettings[p] ?? {}])
  })
  for (const [title, section, values] of blocks) {
    const kind =
      section in ALWAYS_SHOWN ? section : config.partitions.includes(section) ? "partition" : ""
    const rows = rowsOf(config, section, values, ALWAYS_SHOWN[kind] ?? [])
    const optional = section === "StartdLogging" || section === "StartdChecks"
    if (rows.length === 0 || (optional && rows.every(([, , source]) => source === "default")))
      continue
    out.push("", title, ...alignRows(rows))
  }
  if (config.warnings.length > 0) {
    const w = config.warnings.length
    out.push("", `${w} warning${w === 1 ? "" : "s"}:`)
    for (const warning of config.warnings) out.push(`  ${formatWarning(warning)}`)
  }
  return `${out.join("\n")}\n`
}

/** pyglidein's Config dict as one JSON object, plus "warnings". */
export function configJson(config: SiteConfig): Record<string, unknown> {
  return { ...config.sections, warnings: config.warnings.map(formatWarning) }
}

function rowsOf(
  config: SiteConfig,
  section: string,
  values: Record<string, unknown>,
  always: string[],
): [string, string, string][] {
  const rows: [string, string, string][] = []
  const keys = new Set([...always, ...Object.keys(values)])
  for (const key of keys) {
    if (HIDDEN.has(key)) continue
    const place = config.place(section, key)
    const setHere = place.line !== undefined && key in (config.sections[section] ?? {})
    if (!setHere && !always.includes(key)) continue
    // With whole_node, the whole_node_* sizes are the limits; the max_* defaults mean nothing.
    if (!setHere && values.whole_node === true && /^max_.*_per_job$/.test(key)) continue
    const value = values[key]
    let shown: string
    if (value !== undefined) shown = show(value as IniValue)
    else if (BUILT_IN_COMMANDS.has(key)) shown = "(the scheduler's built-in command)"
    else if (key === "address")
      shown = config.glidein.ssh_state ? "(none: ssh_state)" : "(none: given on the command line)"
    else continue
    if (key === "delay" && typeof value === "number" && value < 1) shown += " (run once)"
    if ((key === "max_total_jobs" || key === "limit_per_submit") && value === 0)
      shown += " (this partition submits nothing)"
    let source = "default"
    if (setHere)
      source =
        place.section === section ? `line ${place.line}` : `[${place.section}] line ${place.line}`
    rows.push([key, shown, source])
  }
  return rows
}

/** A value in the config's own (Python) spelling. */
function show(value: IniValue): string {
  if (value === true) return "True"
  if (value === false) return "False"
  if (value === null) return "None"
  if (typeof value === "string") return value
  if (typeof value === "number") return String(value)
  return JSON.stringify(value, null, 1)
    .replace(/\n\s*/g, " ")
    .replace(/([[{]) /g, "$1")
    .replace(/ ([\]}])/g, "$1")
}

/** `key  source  value`, the first two padded, so long values (commands) cannot break the
 *  columns; continuation lines of a value are indented under it. */
function alignRows(rows: [string, string, string][]): string[] {
  const keyWidth = Math.max(...rows.map(([k]) => k.length))
  const sourceWidth = Math.max(...rows.map(([, , s]) => s.length))
  const indent = " ".repeat(2 + keyWidth + 2 + sourceWidth + 2)
  return rows.map(([key, value, source]) =>
    `  ${key.padEnd(keyWidth)}  ${source.padEnd(sourceWidth)}  ${value.replaceAll("\n", `\n${indent}`)}`.trimEnd(),
  )
}
