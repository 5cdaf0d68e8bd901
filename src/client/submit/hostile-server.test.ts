/**
 * A hostile or broken demand source against whole submit runs. A real HTTP server (and a raw
 * TCP one for what is not HTTP) answers `get_state` with every kind of garbage; the same
 * content is then served as a `--state-file`. The batch system is a pair of real scripts
 * (`sbatch`, `squeue`) found on PATH, and every hostile string tries to create a file in a
 * watched folder, so a value that reached a shell would leave evidence. For each variant the
 * run must end with one printable line, submit nothing, write nothing but its lock, and
 * return on its own timeout; for demand that is accepted, the rendered files must hold only
 * validated numbers.
 */
import { afterAll, afterEach, beforeAll, describe, expect, spyOn, test } from "bun:test"
import {
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  writeFileSync,
} from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"
import { gzipSync } from "node:zlib"
import { GlideinError } from "../../errors.ts"
import { DEMAND_LIMITS } from "../../protocol/demand.ts"
import { readJournal } from "../site/journal.ts"
import { runSubmit } from "./run-submit.ts"
import { realDeps, shellScript, type TestSite, testSite } from "./test-site.ts"

/** Per-attempt limit of the runs that test the timeout. The others get a patient 10 s, so a
 *  busy machine cannot turn a prompt answer into a timeout. */
const TIMEOUT_MS = 400

let root: string
/** Hostile strings try to create files here; it must stay empty. */
let victim: string
/** The fake batch commands. */
let tools: string

beforeAll(() => {
  root = mkdtempSync(join(tmpdir(), "glidein-hostile-"))
  victim = join(root, "victim")
  tools = join(root, "tools")
  mkdirSync(victim)
  mkdirSync(tools)
  // sbatch records its argument and the submit file, then answers as Slurm does.
  shellScript(
    tools,
    "sbatch",
    'printf "argv %s\\n" "$*" >>"$SUBMIT_LOG"\ncat "$1" >>"$SUBMIT_LOG"\necho "Submitted batch job $$"\n',
  )
  // squeue: no glideins running or pending.
  shellScript(tools, "squeue", "exit 0\n")
})
afterAll(() => rmSync(root, { recursive: true, force: true }))

/** Shell tricks, each of which would create `victim/PWNED-n` if a shell ever saw it. */
function hostileStrings(): string[] {
  const v = (n: number) => `${victim}/PWNED-${n}`
  return [
    `$(touch ${v(1)})`,
    `\`touch ${v(2)}\``,
    `el7; touch ${v(3)}`,
    `el7\ntouch ${v(4)}\n#SBATCH --uid=0`,
    `el7\u0000; touch ${v(5)}`,
    `' ; touch ${v(6)} ; '`,
    `" ; touch ${v(7)} ; "`,
    `el7 && touch ${v(8)} #`,
    `{{START_COMMAND}}; touch ${v(9)}`,
    `\u001b]2;touch ${v(10)}\u0007\u001b[31m`,
    `el7\r\ntouch ${v(11)}`,
    `${"A".repeat(100_000)}$(touch ${v(12)})`,
  ]
}

const ROW = { cpus: 1, memory: 2000, disk: 10000, gpus: 0, os: null, count: 2 }

/** A get_state result (or state file content) and the line it must be refused with. */
interface Refused {
  name: string
  /** The JSON text of the result / state file. */
  text: string
  message: string | RegExp
}

function refusedResults(): Refused[] {
  const rows = (...r: unknown[]) => JSON.stringify(r)
  const list: Refused[] = [
    {
      name: "an object",
      text: `{"cpus":1}`,
      message: "expected a list of demand rows, got an object",
    },
    {
      name: "a string",
      text: JSON.stringify(hostileStrings()[0]),
      message: "expected a list of demand rows",
    },
    { name: "null", text: "null", message: "expected a list of demand rows, got null" },
    {
      name: "a row that is a list",
      text: "[[1,2000,10000,0,null,3]]",
      message: "[0]: expected an object, got a list",
    },
    {
      name: "cpus as text",
      text: rows({ ...ROW, cpus: "1" }),
      message: '[0].cpus: expected a whole number, got "1"',
    },
    {
      name: "cpus true",
      text: rows({ ...ROW, cpus: true }),
      message: "[0].cpus: expected a whole number, got true",
    },
    {
      name: "cpus null",
      text: rows({ ...ROW, cpus: null }),
      message: "[0].cpus: expected a whole number, got null",
    },
    {
      name: "cpus missing",
      text: rows({ ...ROW, cpus: undefined }),
      message: "[0].cpus: expected a whole number, got nothing",
    },
    {
      name: "memory an object",
      text: rows({ ...ROW, memory: {} }),
      message: "[0].memory: expected a whole number, got an object",
    },
    {
      name: "negative count",
      text: rows({ ...ROW, count: -1 }),
      message: `[0].count: expected a whole number from 0 to ${DEMAND_LIMITS.count}, got -1`,
    },
    {
      name: "fractional cpus",
      text: rows({ ...ROW, cpus: 1.5 }),
      message: "[0].cpus: expected a whole number from 0 to 100000, got 1.5",
    },
    {
      name: "disk 1e400 (Infinity)",
      text: `[{"cpus":1,"memory":2000,"disk":1e400,"gpus":0,"os":null,"count":1}]`,
      message: "[0].disk: expected a number, got Infinity",
    },
    {
      name: "an absurd row beside a malformed one",
      text: rows({ ...ROW, cpus: 200_000 }, { ...ROW, memory: "2000" }),
      message: '[1].memory: expected a whole number, got "2000"',
    },
    {
      name: "gpus negative zero and os a number",
      text: rows({ ...ROW, gpus: -0, os: 7 }),
      message: "[0].os: expected null or a string, got 7",
    },
    {
      name: "a good row, then a bad one",
      text: rows(ROW, { ...ROW, cpus: "$(reboot)" }),
      message: '[1].cpus: expected a whole number, got "$(reboot)"',
    },
    {
      name: "too many rows",
      text: rows(...Array.from({ length: DEMAND_LIMITS.rows + 1 }, () => ROW)),
      message: `more than ${DEMAND_LIMITS.rows} demand rows`,
    },
  ]
  hostileStrings().forEach((os, i) => {
    list.push({
      name: `os hostile #${i + 1}`,
      text: rows(ROW, { ...ROW, os }),
      message: "[1].os: expected a plain token",
    })
  })
  for (const [i, s] of hostileStrings().entries()) {
    list.push({
      name: `cpus hostile #${i + 1}`,
      text: rows({ ...ROW, cpus: s }),
      message: "[0].cpus: expected a whole number, got",
    })
  }
  return list
}

/** Well-formed rows no site could run: skipped with the reason given, the good row submitted. */
const ABSURD: { name: string; row: string; reason: string }[] = [
  {
    name: "200,000 cpus",
    row: JSON.stringify({ ...ROW, cpus: 200_000 }),
    reason: "cpus 200000 > 100000",
  },
  {
    name: "memory 1e308",
    row: JSON.stringify({ ...ROW, memory: 1e308 }),
    reason: "memory 1e+308 > 1000000000",
  },
  {
    name: "count 2**53+1",
    row: `{"cpus":1,"memory":2000,"disk":10000,"gpus":0,"os":null,"count":9007199254740993}`,
    reason: "count 9007199254740992 > 100000000",
  },
  {
    name: "count 1e9",
    row: JSON.stringify({ ...ROW, count: 1e9 }),
    reason: "count 1000000000 > 100000000",
  },
  {
    name: "disk 2e12",
    row: JSON.stringify({ ...ROW, disk: 2e12 }),
    reason: "disk 2000000000000 > 1000000000000",
  },
]

/** Raw bodies that are not JSON at all (or not the JSON expected). */
const NOT_JSON: { name: string; body: string | Uint8Array }[] = [
  { name: "plain text", body: "hello" },
  { name: "an HTML page", body: "<html><body><h1>It works!</h1></body></html>" },
  { name: "empty", body: "" },
  { name: "JSON cut short", body: '{"jsonrpc":"2.0","result":[{"cpus":1,' },
  { name: "invalid UTF-8", body: new Uint8Array([0x7b, 0xff, 0xfe, 0x22, 0x7d]) },
  { name: "a NUL byte", body: '{"jsonrpc":"2.0",\u0000"result":[]}' },
  { name: "JavaScript, not JSON", body: "{jsonrpc:'2.0',result:[],id:1}" },
]

/** Deeply nested arrays: a parser that recursed would overflow its stack. */
const DEEP = `${"[".repeat(200_000)}${"]".repeat(200_000)}`

/** Nesting that fills the 16 MiB cap: JSON.parse of it took the client to 770 MB. */
function deepUnderCap(room: number): string {
  const depth = (16 * 1024 * 1024 - room) / 2
  return `${"[".repeat(depth)}${"]".repeat(depth)}`
}

/** Runs `body` with JSON.parse watched: its value, and how many texts over 1 KiB were parsed. */
async function watchParse<T>(body: () => Promise<T>): Promise<{ value: T; longParses: number }> {
  const parse = spyOn(JSON, "parse")
  try {
    const value = await body()
    const longParses = parse.mock.calls.filter(([text]) => String(text).length > 1024).length
    return { value, longParses }
  } finally {
    parse.mockRestore()
  }
}

interface Outcome {
  code: number
  message: string
  stdout: string
  stderr: string
  site: TestSite
  submitLog: string
}

const sites: TestSite[] = []
afterEach(() => {
  for (const s of sites.splice(0)) s.remove()
})

const SITE = `[Cluster]
scheduler = slurm
limit_per_submit = 3
`

/** One real submit run (`submit --server URL` or `--state-file FILE`); never throws. */
async function submit(
  source: { server?: string; stateFile?: string; dryRun?: boolean },
  timeoutMs = 10_000,
): Promise<Outcome> {
  const s = testSite(source.server ?? "http://127.0.0.1:9/jsonrpc", SITE)
  sites.push(s)
  const submitLog = join(s.dir, "submits.log")
  const stderr: string[] = []
  const stdout: string[] = []
  const deps = realDeps(s, tools, stderr, {
    env: { SUBMIT_LOG: submitLog },
    rpc: { timeoutMs, retries: 1, retryDelayMs: 10 },
    stdout: (t) => stdout.push(t),
  })
  const options = { dryRun: false, json: false, assumeEmpty: false, ...source }
  let code: number
  let message = ""
  try {
    code = await runSubmit(s.config, options, deps)
  } catch (error) {
    if (!(error instanceof GlideinError)) throw error
    code = error.exitCode
    message = error.message
  }
  const log = existsSync(submitLog) ? readFileSync(submitLog, "utf8") : ""
  return {
    code,
    message,
    stdout: stdout.join(""),
    stderr: stderr.join(""),
    site: s,
    submitLog: log,
  }
}

/** Every file under `dir`, recursively. */
function filesUnder(dir: string): string[] {
  if (!existsSync(dir)) return []
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => e.isFile())
    .map((e) => join(e.parentPath, e.name))
}

/** The rendered files of a run by path below the submit folder, its site folder masked. */
function submitFiles(o: Outcome): Record<string, string> {
  const files: Record<string, string> = {}
  for (const file of filesUnder(o.site.paths.submitRoot)) {
    const text = readFileSync(file, "utf8")
    files[file.slice(o.site.paths.submitRoot.length)] = text
      .replaceAll(o.site.paths.dir, "<state>")
      .replaceAll(o.site.dir, "<site>")
  }
  return files
}

/** No hostile string ran, and nothing the state folder holds quotes one. */
function expectNoEvidence(o: Outcome): void {
  expect(readdirSync(victim)).toEqual([])
  for (const file of filesUnder(o.site.stateRoot)) {
    const text = readFileSync(file, "utf8")
    expect(text).not.toContain("PWNED")
    expect(text).not.toContain("touch")
  }
  expect(o.submitLog).not.toContain("PWNED")
}

/** Refused: exit 1, one printable line that says `expected`, nothing submitted or written. */
function expectRefused(o: Outcome, expected: string | RegExp): void {
  expect(o.code).toBe(1)
  if (typeof expected === "string") expect(o.message).toContain(expected)
  else expect(o.message).toMatch(expected)
  // One line of printable text: no newline, no terminal escape, no other control character.
  expect(o.message).not.toMatch(/[\p{Cc}\p{Cf}\u2028\u2029]/u)
  expect(o.message.length).toBeLessThan(400)
  expect(o.submitLog).toBe("")
  expect(existsSync(o.site.paths.submitRoot)).toBe(false)
  expect(existsSync(o.site.paths.journal)).toBe(false)
  // The lock, the note naming the config, the housekeeping stamp and the tarball's check;
  // nothing else.
  expect(readdirSync(o.site.paths.dir).sort()).toEqual([
    "config-path",
    "lock",
    "pruned",
    "tarball-check.json",
  ])
  expectNoEvidence(o)
}

/** A server whose answer each test sets; `hits` counts requests. */
interface Hostile {
  url: string
  hits: number
  answer: (req: Request) => Response | Promise<Response>
}

let server: ReturnType<typeof Bun.serve>
let elsewhere: ReturnType<typeof Bun.serve>
let elsewhereHits = 0
const hostile: Hostile = { url: "", hits: 0, answer: () => new Response("") }

beforeAll(() => {
  server = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    idleTimeout: 30,
    fetch(req) {
      hostile.hits++
      return hostile.answer(req)
    },
  })
  hostile.url = `http://127.0.0.1:${server.port}/jsonrpc`
  // Where redirects point: it answers good demand, so a followed redirect would submit.
  elsewhere = Bun.serve({
    port: 0,
    hostname: "127.0.0.1",
    fetch() {
      elsewhereHits++
      return Response.json({ jsonrpc: "2.0", result: [ROW], id: 1 })
    },
  })
})
afterAll(() => {
  server.stop(true)
  elsewhere.stop(true)
})

const envelope = (resultText: string) => `{"jsonrpc":"2.0","result":${resultText},"id":1}`
const json = (text: string | Uint8Array, init: ResponseInit = {}) =>
  new Response(text, { ...init, headers: { "content-type": "application/json", ...init.headers } })

/** A body that streams `chunk` every `everyMs` and never ends. */
function endless(chunk: Uint8Array, everyMs: number): Response {
  return new Response(
    new ReadableStream({
      async pull(controller) {
        if (everyMs > 0) await Bun.sleep(everyMs)
        controller.enqueue(chunk)
      },
    }),
  )
}

describe("runSubmit() against a hostile server", () => {
  for (const v of refusedResults()) {
    test(`runSubmit() refuses a get_state result that is ${v.name}`, async () => {
      hostile.answer = () => json(envelope(v.text))
      const o = await submit({ server: hostile.url })
      expectRefused(o, v.message)
      expect(o.message).toStartWith(`server ${hostile.url}: get_state: demand rejected: `)
    })
  }

  for (const v of ABSURD) {
    test(`runSubmit() skips a row of ${v.name}, says so once and submits the rest`, async () => {
      hostile.answer = () => json(envelope(`[${v.row},${JSON.stringify(ROW)}]`))
      const o = await submit({ server: hostile.url })
      expect(o.message).toBe("")
      expect(o.code).toBe(0)
      const note = `note: skipped 1 demand row no site could run: ${v.reason}\n`
      expect(o.stderr.split(note)).toHaveLength(2)
      // ROW's two jobs, one glidein each.
      const submitted = readJournal(o.site.paths.journal).filter((r) => r.kind === "submit")
      expect(submitted).toHaveLength(2)
      expectNoEvidence(o)
    })
  }

  test("runSubmit() --dry-run counts skipped rows in its report", async () => {
    const absurd = ABSURD.map((v) => v.row).join(",")
    hostile.answer = () => json(envelope(`[${absurd},${JSON.stringify(ROW)}]`))
    const o = await submit({ server: hostile.url, dryRun: true })
    expect(o.code).toBe(0)
    expect(o.stdout).toContain("Demand from ")
    expect(o.stdout).toContain(
      "Note: skipped 5 demand rows no site could run: cpus 200000 > 100000, and 4 more\n",
    )
    expect(o.submitLog).toBe("")
  })

  for (const v of NOT_JSON) {
    test(`runSubmit() refuses a reply that is ${v.name}`, async () => {
      hostile.answer = () => json(v.body)
      expectRefused(
        await submit({ server: hostile.url }),
        /get_state reply is not (JSON|a JSON-RPC response)$/,
      )
    })
  }

  test("runSubmit() refuses arrays nested 200,000 deep without overflowing its stack", async () => {
    hostile.answer = () => json(envelope(DEEP))
    expectRefused(
      await submit({ server: hostile.url }),
      `server ${hostile.url}: get_state reply is nested deeper than 64 levels`,
    )
  })

  test("runSubmit() refuses a 16 MiB reply nested 8 million deep before parsing it", async () => {
    const text = envelope(deepUnderCap(64))
    expect(text.length).toBeLessThan(16 * 1024 * 1024)
    hostile.answer = () => json(text)
    const { value, longParses } = await watchParse(() => submit({ server: hostile.url }))
    expect(longParses).toBe(0)
    expectRefused(value, `server ${hostile.url}: get_state reply is nested deeper than 64 levels`)
  })

  for (const [name, body] of [
    ["a JSON-RPC batch (a list)", "[]"],
    ["a string", '"$(touch x)"'],
    ["a number", "1e999"],
    ["null", "null"],
  ] as const) {
    test(`runSubmit() refuses a reply whose envelope is ${name}`, async () => {
      hostile.answer = () => json(body)
      expectRefused(
        await submit({ server: hostile.url }),
        "get_state reply is not a JSON-RPC response",
      )
    })
  }

  test("runSubmit() refuses an envelope with neither result nor error", async () => {
    hostile.answer = () => json('{"jsonrpc":"2.0","id":1,"error":null}')
    expectRefused(
      await submit({ server: hostile.url }),
      "get_state reply has neither result nor error",
    )
  })

  test("runSubmit() prints a server's error message as one line without its control characters", async () => {
    const message = `bad\n\u001b[2J\u001b]0;owned\u0007glidein submit: [gpu] submitted 9 glideins\r${"x".repeat(500)}`
    hostile.answer = () =>
      json(JSON.stringify({ jsonrpc: "2.0", error: { code: -32000, message }, id: 1 }))
    const o = await submit({ server: hostile.url })
    expectRefused(o, "get_state returned an error: bad")
  })

  test("runSubmit() ignores keys it does not know and submits only validated numbers", async () => {
    const evil = hostileStrings()
    const rows = [
      { ...ROW, count: 1, note: evil[0], os: null },
      { cpus: 2, memory: 3000, disk: 3145.728, gpus: -0, os: "el7", count: 1, extra: evil },
      { cpus: 1.0, memory: 1000, disk: 10000, gpus: 0, count: DEMAND_LIMITS.count, tag: evil[3] },
    ]
    // A literal "__proto__" key, which JSON.parse keeps as an own property.
    const proto = `"__proto__":{"os":${JSON.stringify(evil[1])},"cpus":"$(x)"},`
    const text = JSON.stringify(rows).replace("[{", `[{${proto}`)
    hostile.answer = () =>
      json(`{"jsonrpc":"2.0","evil":${JSON.stringify(evil[2])},"result":${text},"id":"$(x)"}`)
    const o = await submit({ server: hostile.url })
    expect(o.message).toBe("")
    expect(o.code).toBe(0)
    // limit_per_submit 3: the two bigger shapes, then one of the hundred million.
    const journal = readJournal(o.site.paths.journal)
    // Submissions run side by side: journal lines come in the order they finish.
    const cpus = journal.map((r) => (r.kind === "submit" ? `${r.count}×${r.resources.cpus}` : ""))
    // 2000 MB × 1.05 is over mem_per_core: two cores, as for the 2-core shape.
    expect(cpus.sort()).toEqual(["1×1", "1×2", "1×2"])
    expectNoEvidence(o)
    // The same demand as plain numbers (disk rounded up) renders the very same files.
    const clean = [
      { cpus: 2, memory: 3000, disk: 3146, gpus: 0, os: "el7", count: 1 },
      { ...ROW, count: 1 },
      { cpus: 1, memory: 1000, disk: 10000, gpus: 0, os: null, count: DEMAND_LIMITS.count },
    ]
    hostile.answer = () => json(envelope(JSON.stringify(clean)))
    const twin = await submit({ server: hostile.url })
    expect(twin.code).toBe(0)
    const hostileFiles = submitFiles(o)
    expect(Object.keys(hostileFiles)).toHaveLength(3 * 2)
    expect(hostileFiles).toEqual(submitFiles(twin))
  })

  test("runSubmit() gives up on a server that never sends headers, at its own timeout", async () => {
    hostile.answer = () => new Promise(() => {})
    const o = await submit({ server: hostile.url }, TIMEOUT_MS)
    expectRefused(o, `get_state failed: no reply within ${TIMEOUT_MS} ms (2 attempts)`)
  })

  test("runSubmit() gives up on a body that never ends, at its own timeout", async () => {
    hostile.answer = () => endless(new TextEncoder().encode(" "), 20)
    expectRefused(
      await submit({ server: hostile.url }, TIMEOUT_MS),
      `no reply within ${TIMEOUT_MS} ms (2 attempts)`,
    )
  })

  test("runSubmit() gives up on a valid reply dripped a byte at a time, at its own timeout", async () => {
    const bytes = new TextEncoder().encode(envelope(JSON.stringify([ROW])))
    hostile.answer = () => {
      let i = 0
      return new Response(
        new ReadableStream({
          async pull(controller) {
            await Bun.sleep(50)
            if (i < bytes.length) controller.enqueue(bytes.subarray(i, ++i))
            else controller.close()
          },
        }),
      )
    }
    expectRefused(
      await submit({ server: hostile.url }, TIMEOUT_MS),
      `no reply within ${TIMEOUT_MS} ms (2 attempts)`,
    )
  })

  test("runSubmit() stops reading an endless fast body at the size cap", async () => {
    hostile.answer = () => endless(new Uint8Array(64 * 1024).fill(0x20), 0)
    expectRefused(
      await submit({ server: hostile.url }),
      "get_state failed: reply larger than 16777216 bytes",
    )
  })

  test("runSubmit() refuses a 100 MB reply by its declared length, without reading it", async () => {
    const body = new Uint8Array(100 * 1024 * 1024).fill(0x20)
    hostile.answer = () => json(body)
    expectRefused(
      await submit({ server: hostile.url }),
      "get_state failed: reply larger than 16777216 bytes",
    )
  })

  test("runSubmit() counts a gzip bomb's inflated bytes against the size cap", async () => {
    // 64 MiB of spaces inflate from about 64 KiB.
    const bomb = gzipSync(new Uint8Array(64 * 1024 * 1024).fill(0x20), { level: 9 })
    expect(bomb.byteLength).toBeLessThan(1024 * 1024)
    hostile.answer = () => json(bomb, { headers: { "content-encoding": "gzip" } })
    expectRefused(
      await submit({ server: hostile.url }),
      "get_state failed: reply larger than 16777216 bytes",
    )
  })

  test("runSubmit() retries a 500 page a bounded number of times", async () => {
    hostile.hits = 0
    hostile.answer = () => new Response("<h1>Internal Server Error</h1>", { status: 500 })
    expectRefused(await submit({ server: hostile.url }), "get_state failed: HTTP 500 (2 attempts)")
    expect(hostile.hits).toBe(2)
  })

  test("runSubmit() does not retry a 404 page", async () => {
    hostile.hits = 0
    hostile.answer = () => new Response("<h1>Not Found</h1>", { status: 404 })
    expectRefused(await submit({ server: hostile.url }), "get_state failed: HTTP 404")
    expect(hostile.hits).toBe(1)
  })

  for (const status of [301, 302, 303, 307, 308]) {
    test(`runSubmit() does not follow a ${status} redirect to another server`, async () => {
      elsewhereHits = 0
      const target = `http://127.0.0.1:${elsewhere.port}/jsonrpc`
      hostile.answer = () => new Response("", { status, headers: { location: target } })
      const o = await submit({ server: hostile.url })
      expectRefused(o, `get_state failed: HTTP ${status} redirect to "${target}" (not followed`)
      expect(elsewhereHits).toBe(0)
    })
  }

  test("runSubmit() names a redirect loop in one line, its long location cut short", async () => {
    const location = `${hostile.url}?${"a".repeat(1000)}"; touch ${victim}/PWNED-loop`
    hostile.answer = () => new Response("", { status: 302, headers: { location } })
    const o = await submit({ server: hostile.url })
    expectRefused(o, `HTTP 302 redirect to "${hostile.url}?aaa`)
    expect(o.message).toContain('…" (not followed')
  })

  test("runSubmit() refuses a redirect whose location holds terminal escapes, in one line", async () => {
    hostile.answer = () =>
      new Response("", { status: 307, headers: { location: "/jsonrpc?\u001b[2J\u001b]0;x\u0007" } })
    expectRefused(
      await submit({ server: hostile.url }),
      `server ${hostile.url}: get_state failed: `,
    )
  })
})

describe("runSubmit() against a server that does not speak HTTP", () => {
  let tcp: Bun.TCPSocketListener<undefined>
  let reply = ""
  let closeAfter = true
  beforeAll(() => {
    tcp = Bun.listen({
      hostname: "127.0.0.1",
      port: 0,
      socket: {
        data(socket) {
          if (reply !== "") socket.write(reply)
          if (closeAfter) socket.end()
        },
      },
    })
  })
  afterAll(() => tcp.stop(true))
  const url = () => `http://127.0.0.1:${tcp.port}/jsonrpc`

  test("runSubmit() refuses a banner that is not HTTP", async () => {
    reply = "SSH-2.0-OpenSSH_9.2p1 $(touch x)\r\n"
    closeAfter = true
    expectRefused(await submit({ server: url() }), `server ${url()}: get_state failed:`)
  })

  test("runSubmit() refuses a reply cut off in the middle of its body", async () => {
    reply = `HTTP/1.1 200 OK\r\ncontent-type: application/json\r\ncontent-length: 1000\r\n\r\n${envelope("[")}`
    closeAfter = true
    expectRefused(await submit({ server: url() }), `server ${url()}: get_state`)
  })

  test("runSubmit() gives up on a connection that is accepted and never answered", async () => {
    reply = ""
    closeAfter = false
    expectRefused(
      await submit({ server: url() }, TIMEOUT_MS),
      `no reply within ${TIMEOUT_MS} ms (2 attempts)`,
    )
  })
})

describe("runSubmit() --state-file with hostile content", () => {
  let files: string
  beforeAll(() => {
    files = join(root, "state-files")
    mkdirSync(files)
  })
  let n = 0
  const stateFile = (content: string | Uint8Array) => {
    const file = join(files, `state-${++n}.json`)
    writeFileSync(file, content)
    return file
  }

  for (const v of refusedResults()) {
    test(`runSubmit() refuses a state file that is ${v.name}`, async () => {
      const file = stateFile(v.text)
      const o = await submit({ stateFile: file })
      expectRefused(o, v.message)
      expect(o.message).toStartWith(`state file ${file}: demand rejected: `)
    })
  }

  for (const v of NOT_JSON) {
    test(`runSubmit() refuses a state file that is ${v.name}`, async () => {
      const file = stateFile(v.body)
      expectRefused(await submit({ stateFile: file }), `state file ${file} is not JSON`)
    })
  }

  test("runSubmit() refuses a state file nested 200,000 deep", async () => {
    const file = stateFile(DEEP)
    expectRefused(
      await submit({ stateFile: file }),
      `state file ${file} is nested deeper than 64 levels`,
    )
  })

  test("runSubmit() refuses a 16 MiB state file nested 8 million deep before parsing it", async () => {
    const file = stateFile(deepUnderCap(2))
    const { value, longParses } = await watchParse(() => submit({ stateFile: file }))
    expect(longParses).toBe(0)
    expectRefused(value, `state file ${file} is nested deeper than 64 levels`)
  })

  test("runSubmit() refuses a state file over 16 MiB without reading it whole", async () => {
    const file = stateFile(new Uint8Array(16 * 1024 * 1024 + 1).fill(0x20))
    expectRefused(
      await submit({ stateFile: file }),
      `state file ${file} is larger than 16777216 bytes`,
    )
  })

  test("runSubmit() refuses a state file that is a FIFO nobody writes to, without waiting", async () => {
    const fifo = join(files, "fifo")
    Bun.spawnSync(["mkfifo", fifo])
    expectRefused(await submit({ stateFile: fifo }), `state file ${fifo} is not a regular file`)
  })

  test("runSubmit() refuses a state file that is an endless device or a link to one", async () => {
    expectRefused(
      await submit({ stateFile: "/dev/zero" }),
      "state file /dev/zero is not a regular file",
    )
    const link = join(files, "zero-link")
    Bun.spawnSync(["ln", "-s", "/dev/zero", link])
    expectRefused(await submit({ stateFile: link }), `state file ${link} is not a regular file`)
  })

  test("runSubmit() refuses a state file that is a folder or missing", async () => {
    expectRefused(await submit({ stateFile: files }), `state file ${files} is not a regular file`)
    const missing = join(files, "missing.json")
    expectRefused(
      await submit({ stateFile: missing }),
      `cannot read state file ${missing} (no such file)`,
    )
  })

  test("runSubmit() takes validated numbers from a state file with hostile extra keys", async () => {
    const evil = hostileStrings()
    const file = stateFile(JSON.stringify([{ ...ROW, note: evil[0], os: "el9", tags: evil }]))
    const o = await submit({ stateFile: file })
    expect(o.code).toBe(0)
    // One line per sbatch, each written as soon as it returned.
    expect(readJournal(o.site.paths.journal).map((r) => r.kind === "submit" && r.count)).toEqual([
      1, 1,
    ])
    expectNoEvidence(o)
  })
})
