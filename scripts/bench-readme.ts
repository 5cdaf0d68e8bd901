/**
 * `npm run bench`: runs every benchmark in bench/ and writes what each printed into its
 * section of bench/README.md, so the figures there are the last run's, not remembered ones.
 *
 *   bun scripts/bench-readme.ts                 # every bench/*.ts; rewrites bench/README.md
 *   bun scripts/bench-readme.ts startup views   # only these; the other sections stay
 *   bun scripts/bench-readme.ts --smoke         # every benchmark with --smoke; README untouched
 *
 * Each benchmark prints its own figures beside a reference measured in the same run (the
 * ratios are what to compare across runs); this script adds nothing but the run's
 * circumstances. Its output goes between `<!-- bench:NAME -->` and `<!-- /bench:NAME -->`;
 * the prose around the markers is kept. A benchmark that fails leaves its section as it was,
 * and the script exits 1.
 */
import { readdirSync, readFileSync, writeFileSync } from "node:fs"
import { loadavg } from "node:os"
import path from "node:path"

const ROOT = path.resolve(import.meta.dir, "..")
const BENCH_DIR = path.join(ROOT, "bench")
const README = path.join(BENCH_DIR, "README.md")

/** bench/NAME.ts for every benchmark, in name order. */
export function benchNames(): string[] {
  return readdirSync(BENCH_DIR)
    .filter((name) => name.endsWith(".ts"))
    .map((name) => name.slice(0, -3))
    .sort()
}

/** Runs one benchmark, echoing its output as it comes; its stdout and exit code. */
async function runBench(name: string, smoke: boolean): Promise<{ out: string; code: number }> {
  const child = Bun.spawn(
    [process.execPath, path.join(BENCH_DIR, `${name}.ts`), ...(smoke ? ["--smoke"] : [])],
    { cwd: ROOT, stdout: "pipe", stderr: "inherit" },
  )
  let out = ""
  const decoder = new TextDecoder()
  for await (const chunk of child.stdout) {
    process.stdout.write(chunk)
    out += decoder.decode(chunk, { stream: true })
  }
  return { out: out + decoder.decode(), code: await child.exited }
}

function gitCommit(): string {
  const result = Bun.spawnSync(["git", "rev-parse", "--short", "HEAD"], { cwd: ROOT })
  return result.success ? result.stdout.toString().trim() : "unknown"
}

/** The generated part of one section: when and where it ran, and what it printed. */
export function sectionBody(name: string, output: string, circumstances: string): string {
  return [
    `Last run: ${circumstances}. \`bun bench/${name}.ts\` printed:`,
    "",
    "```text",
    // A benchmark's own terminal colouring has no place in a Markdown file.
    output.replace(/\x1b\[[0-9;]*m/g, "").trimEnd(),
    "```",
  ].join("\n")
}

/** `readme` with the section of `name` replaced by `body` (appended when it has none). */
export function replaceSection(readme: string, name: string, body: string): string {
  const open = `<!-- bench:${name} -->`
  const close = `<!-- /bench:${name} -->`
  const start = readme.indexOf(open)
  const end = readme.indexOf(close)
  if (start < 0 || end < start) {
    return `${readme.trimEnd()}\n\n## bench/${name}.ts\n\n${open}\n${body}\n${close}\n`
  }
  return `${readme.slice(0, start + open.length)}\n${body}\n${readme.slice(end)}`
}

if (import.meta.main) {
  const args = Bun.argv.slice(2)
  const smoke = args.includes("--smoke")
  const all = benchNames()
  const asked = args.filter((arg) => !arg.startsWith("--"))
  const unknown = asked.filter((name) => !all.includes(name))
  if (unknown.length > 0) {
    console.error(`no such benchmark: ${unknown.join(", ")} (there are: ${all.join(", ")})`)
    process.exit(2)
  }
  const names = asked.length > 0 ? asked : all
  const commit = gitCommit()
  let readme = readFileSync(README, "utf8")
  const failed: string[] = []
  for (const name of names) {
    console.log(`--- bench/${name}.ts`)
    const before = loadavg()[0]?.toFixed(1)
    const { out, code } = await runBench(name, smoke)
    if (code !== 0) {
      failed.push(`bench/${name}.ts exited with ${code}`)
      continue
    }
    const day = new Date().toISOString().slice(0, 10)
    const circumstances = `${day}, commit ${commit}, Bun ${Bun.version}, ${navigator.hardwareConcurrency} cores, load average ${before} → ${loadavg()[0]?.toFixed(1)}`
    readme = replaceSection(readme, name, sectionBody(name, out, circumstances))
  }
  if (smoke) {
    console.log("--- smoke run: bench/README.md left as it was")
  } else {
    writeFileSync(README, readme)
    console.log(`--- wrote ${path.relative(ROOT, README)}`)
  }
  for (const line of failed) console.error(line)
  process.exit(failed.length > 0 ? 1 : 0)
}
