/**
 * `npm run demo`: the whole system on one machine with nothing but this repository.
 *
 * 1. builds the binary for this host;
 * 2. starts `glidein serve --demo` (a simulated HTCondor queue whose demand changes over time)
 *    on a free local port, with its database in a temporary directory;
 * 3. runs `glidein submit --config configs/demo.ini` against it: a dry run for an imaginary
 *    Slurm site with a CPU and a GPU partition, printing what it would submit and why;
 * 4. shows `glidein status --server` and points at the status page. On a terminal the server
 *    keeps running until Ctrl-C; otherwise (CI) it stops at once.
 */
import { mkdtempSync, rmSync } from "node:fs"
import { tmpdir } from "node:os"
import path from "node:path"

const bin = path.resolve(`dist/glidein-linux-${process.arch}`)

function step(title: string): void {
  console.log(`\n\x1b[1m== ${title}\x1b[0m`)
}

function run(argv: string[]): number {
  console.log(
    `$ ${argv.map((a) => (a.startsWith("/") ? path.relative(".", a) || a : a)).join(" ")}`,
  )
  const result = Bun.spawnSync(argv, { stdout: "inherit", stderr: "inherit" })
  return result.exitCode ?? 1
}

/** A port the kernel says is free now. */
function freePort(): number {
  const probe = Bun.serve({ port: 0, hostname: "127.0.0.1", fetch: () => new Response() })
  const port = probe.port ?? 0
  probe.stop(true)
  return port
}

step("build the single-file binary")
if (run([process.execPath, "compile.ts", "--single"]) !== 0) process.exit(1)
run([bin, "--version"])

const dir = mkdtempSync(path.join(tmpdir(), "glidein-demo-"))
const port = freePort()
const url = `http://127.0.0.1:${port}`
step(`start the server on a simulated queue: ${url}`)
const serverArgv = [bin, "serve", "--demo", "--host", "127.0.0.1", "--port", String(port)]
console.log(
  `$ ${path.relative(".", bin)} ${serverArgv.slice(1).join(" ")} --db ${path.join(dir, "serve.db")} &`,
)
// The server's log goes to a file: a pipe nobody reads would stall it once full.
const log = path.join(dir, "serve.log")
const server = Bun.spawn([...serverArgv, "--db", path.join(dir, "serve.db")], {
  stdout: "ignore",
  stderr: Bun.file(log),
})

function stop(code: number): never {
  server.kill("SIGTERM")
  rmSync(dir, { recursive: true, force: true })
  process.exit(code)
}
process.on("SIGINT", () => stop(0))

let ready = false
for (let i = 0; i < 100 && !ready; i++) {
  ready = await fetch(`${url}/healthz`).then(
    (r) => r.ok,
    () => false,
  )
  if (!ready) await Bun.sleep(100)
}
if (!ready) {
  console.error(`the demo server did not come up:\n${await Bun.file(log).text()}`)
  stop(1)
}

step("the pool's demand, as a site sees it")
run([bin, "status", "--server", url])

step("what a site's cron run would submit (configs/demo.ini: Slurm, CPU and GPU partitions)")
// --assume-empty: this machine has no squeue to count the site's glideins with.
const submitted = run([
  bin,
  "submit",
  "--config",
  "configs/demo.ini",
  "--server",
  url,
  "--assume-empty",
  "--dry-run",
])
if (submitted !== 0) stop(submitted)

step("next")
console.log(`status page:   ${url}/`)
console.log(`API:           ${url}/api/state   ${url}/api/clients   ${url}/metrics`)
console.log("JSON plan:     add --json to the submit command above")
if (process.stdout.isTTY) {
  console.log(
    "\nThe demo server keeps running (its queue changes every few seconds); Ctrl-C stops it.",
  )
  await server.exited
  stop(0)
}
stop(0)
