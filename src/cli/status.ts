/**
 * @module
 * `glidein status`: what the pool wants and what the sites have. `--server URL` asks a
 * `glidein serve` for its demand table, poll state and sites (a pyglidein server, which has
 * no /api, still gives its demand through get_state).
 */
import { z } from "zod"
import { JsonRefused, parseJsonBounded } from "../client/lib/parse-json-bounded.ts"
import { serverAddress } from "../client/lib/server-address.ts"
import {
  displayUrl,
  type RpcOptions,
  requestServer,
  type ServerReply,
  type ServerRequest,
} from "../client/lib/server-request.ts"
import { writeStdout } from "../client/lib/std-output.ts"
import { GlideinError } from "../errors.ts"
import { printable } from "../printable.ts"
import { AllotmentSchema } from "../protocol/allotment.ts"
import { ApiClientsSchema, ApiFunnelSchema, ApiStateSchema } from "../protocol/api.ts"
import { allotmentsText, demandTable, funnelText, renderStatusText } from "../server/status-text.ts"
import { defineCommand, flag } from "./command.ts"
import { text } from "./option-types.ts"

/** One attempt of at most 10 s per request: someone is waiting at a terminal. */
const HTTP: Partial<RpcOptions> = { timeoutMs: 10_000, retries: 0 }

/** The world `status --server` talks to. */
export interface ServerStatusDeps {
  fetch: (url: string, init: RequestInit) => Promise<Response>
  stdout: (text: string) => void
  now: () => number
}

/** `host:port`, `http://host:port/` or a site config's `…/jsonrpc` address → the server's base URL. */
export function serverBase(address: string): string {
  const url = serverAddress(address, "glidein status: --server")
  const path = url.pathname.replace(/\/jsonrpc\/?$/, "").replace(/\/+$/, "")
  return `${url.origin}${path}`
}

/** One request under the client's rules (size cap, no redirects); its JSON when a 2xx holds JSON. */
async function ask(
  deps: ServerStatusDeps,
  url: string,
  request: ServerRequest,
): Promise<{ status: number; json: unknown }> {
  let reply: ServerReply
  try {
    reply = await requestServer(url, request, request.method, { ...HTTP, fetch: deps.fetch })
  } catch (error) {
    if (error instanceof GlideinError) throw new GlideinError(`glidein status: ${error.message}`)
    throw error
  }
  if (reply.status < 200 || reply.status > 299) return { status: reply.status, json: undefined }
  try {
    return { status: reply.status, json: parseJsonBounded(reply.text) }
  } catch (error) {
    if (!(error instanceof JsonRefused)) throw error
    // A pyglidein server answers /api/… with its HTML page: not JSON means "not ours".
    if (!error.tooDeep) return { status: reply.status, json: undefined }
    throw new GlideinError(
      `glidein status: server ${displayUrl(url)}: ${request.method} reply is ${error.message}`,
    )
  }
}

const LegacyRows = z.array(
  z.object({
    cpus: z.number(),
    memory: z.number(),
    disk: z.number(),
    gpus: z.number(),
    os: z.string().nullable(),
    count: z.number(),
  }),
)

/** pyglidein's server has only JSON-RPC: show its demand and say what is missing. */
async function legacyStatus(base: string, json: boolean, deps: ServerStatusDeps): Promise<number> {
  const response = await ask(deps, `${base}/jsonrpc`, {
    method: "POST",
    body: JSON.stringify({ jsonrpc: "2.0", method: "get_state", params: {}, id: 1 }),
  })
  const body = z.object({ result: LegacyRows }).safeParse(response.json)
  if (!body.success) {
    throw new GlideinError(
      `glidein status: ${base} is not a glidein or pyglidein server (GET /api/state and POST /jsonrpc get_state gave no demand; HTTP ${response.status})`,
    )
  }
  const rows = body.data.result
  if (json) {
    deps.stdout(`${JSON.stringify({ server: base, pyglidein: true, rows }, null, 2)}\n`)
    return 0
  }
  const jobs = rows.reduce((sum, r) => sum + r.count, 0)
  const idle = `${jobs.toLocaleString("en-US")} idle job${jobs === 1 ? "" : "s"}`
  const shapes = `${rows.length} row${rows.length === 1 ? "" : "s"}`
  deps.stdout(
    `Server ${base} (pyglidein: no poll age, errors or sites)\n\nDemand: ${idle} in ${shapes}\n${rows.length > 0 ? `${demandTable(rows)}\n` : ""}`,
  )
  return 0
}

/** Prints a server's demand, poll state and sites; exit 1 when it cannot be reached. */
export async function serverStatus(
  address: string,
  options: { json: boolean },
  deps: ServerStatusDeps,
): Promise<number> {
  const base = serverBase(address)
  const [stateResponse, clientsResponse, allotResponse, funnelResponse] = await Promise.all([
    ask(deps, `${base}/api/state`, { method: "GET" }),
    ask(deps, `${base}/api/clients`, { method: "GET" }),
    ask(deps, `${base}/api/allotments`, { method: "GET" }),
    ask(deps, `${base}/api/funnel`, { method: "GET" }),
  ])
  const state = ApiStateSchema.safeParse(stateResponse.json)
  if (!state.success) {
    // pyglidein's server answers /api/… with its page or a 404: it has only JSON-RPC.
    if (stateResponse.json === undefined) return legacyStatus(base, options.json, deps)
    throw new GlideinError(
      `glidein status: ${base}/api/state answered, but not as glidein serve does: ${firstIssue(state.error)} (another version of glidein?)`,
    )
  }
  const clients = ApiClientsSchema.safeParse(clientsResponse.json)
  if (!clients.success) {
    throw new GlideinError(
      clientsResponse.json === undefined
        ? `glidein status: ${base}/api/clients did not answer with the client list (HTTP ${clientsResponse.status})`
        : `glidein status: ${base}/api/clients answered, but not as glidein serve does: ${firstIssue(clients.error)} (another version of glidein?)`,
    )
  }
  // A server from before allotments has no /api/allotments: nothing to show, no error.
  const allot = z.object({ allotments: z.array(AllotmentSchema) }).safeParse(allotResponse.json)
  const allotments = allot.success ? allot.data.allotments : undefined
  // Nor before the pool's side: no funnel then.
  const funnelBody = ApiFunnelSchema.safeParse(funnelResponse.json)
  const funnel = funnelBody.success ? funnelBody.data : undefined
  if (options.json) {
    const all = { server: base, state: state.data, clients: clients.data, allotments, funnel }
    deps.stdout(`${JSON.stringify(all, null, 2)}\n`)
  } else {
    let text = renderStatusText(base, state.data, clients.data, deps.now())
    if (allotments) text += `\n${allotmentsText(allotments, deps.now())}`
    if (funnel?.watched) text += `\n${funnelText(funnel, deps.now())}`
    deps.stdout(text)
  }
  return 0
}

/** The `glidein status` command. */
export const statusCommand = defineCommand({
  name: "status",
  details: `--server URL asks a glidein serve (or a pyglidein server) for its demand table,
when it last polled condor_q and with what error, and the sites that report to it.
--config FILE shows a site: per partition its glideins running and idle, the limits, what a
submit run would do now (nothing is submitted), and the glideins in its journal.
Exit codes: 0 ok, 1 the server could not be reached, 2 usage error.`,
  options: {
    server: {
      ...text("a server address"),
      value: "URL",
      description: "the server, e.g. http://pool.example.org:11001",
    },
    config: {
      ...text("a file name"),
      value: "FILE",
      description: "a site config: its glideins, limits and what a submit run would do now",
    },
    json: flag("print JSON instead of tables"),
  },
  groups: [
    {
      options: ["server", "config"],
      atLeastOne:
        "say which status: --server URL (a glidein serve, e.g. http://pool.example.org:11001) or --config FILE (a site)",
    },
  ],
  async run({ values }) {
    const { json, server, config } = values
    if (config !== undefined) {
      const { configStatus } = await import("../client/status/site-status.ts")
      return configStatus(config, { json, ...(server !== undefined ? { server } : {}) })
    }
    // Without --config, --server is here: the group above refuses a command line with neither.
    return serverStatus(
      server!,
      { json },
      { fetch: (url, init) => fetch(url, init), stdout: writeStdout, now: Date.now },
    )
  },
})

/** `clients.0.idle: missing` for the first thing zod found wrong, never a value. */
function firstIssue(error: z.ZodError): string {
  const issue = error.issues[0]
  if (!issue) return "invalid"
  const where = issue.path.length > 0 ? issue.path.map(String).join(".") : "the answer"
  const missing = issue.code === "invalid_type" && /received undefined/.test(issue.message)
  return `${printable(where)}: ${missing ? "missing" : printable(issue.message)}`
}
