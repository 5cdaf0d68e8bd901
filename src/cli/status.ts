/**
 * @module
 * `glidein status`: what the pool wants and what the sites have. `--server URL` asks a
 * `glidein serve` for its demand table, poll state and sites (a pyglidein server, which has
 * no /api, still gives its demand through get_state).
 */
import { z } from "zod"
import { serverAddress } from "../client/server-address.ts"
import { writeStdout } from "../client/std-output.ts"
import { GlideinError, UsageError } from "../errors.ts"
import { ApiClientsSchema, ApiStateSchema } from "../server/api.ts"
import { demandTable, renderStatusText } from "../server/status-text.ts"
import type { Command } from "./command.ts"

/** How long the server gets to answer each request. */
const TIMEOUT_MS = 10_000

/** The world `status --server` talks to. */
export interface ServerStatusDeps {
  fetch: (url: string, init?: RequestInit) => Promise<Response>
  stdout: (text: string) => void
  now: () => number
}

/** `host:port`, `http://host:port/` or a site config's `…/jsonrpc` address → the server's base URL. */
export function serverBase(address: string): string {
  const url = serverAddress(address, "glidein status: --server")
  const path = url.pathname.replace(/\/jsonrpc\/?$/, "").replace(/\/+$/, "")
  return `${url.origin}${path}`
}

async function request(
  deps: ServerStatusDeps,
  base: string,
  path: string,
  init?: RequestInit,
): Promise<Response> {
  try {
    return await deps.fetch(`${base}${path}`, { ...init, signal: AbortSignal.timeout(TIMEOUT_MS) })
  } catch (error) {
    const reason =
      error instanceof Error && error.name === "TimeoutError"
        ? `no answer within ${TIMEOUT_MS / 1000} s`
        : error instanceof Error
          ? error.message
          : String(error)
    throw new GlideinError(`glidein status: cannot reach ${base}: ${reason}`)
  }
}

/** JSON of a response, or undefined when it is not a 200 with JSON in it. */
async function jsonOf(response: Response): Promise<unknown> {
  if (!response.ok) return undefined
  try {
    return await response.json()
  } catch {
    return undefined
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
  const response = await request(deps, base, "/jsonrpc", {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ jsonrpc: "2.0", method: "get_state", params: {}, id: 1 }),
  })
  const body = z.object({ result: LegacyRows }).safeParse(await jsonOf(response))
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
  deps.stdout(
    `Server ${base} (pyglidein: no poll age, errors or sites)\n\nDemand: ${jobs.toLocaleString("en-US")} idle jobs in ${rows.length} rows\n${rows.length > 0 ? `${demandTable(rows)}\n` : ""}`,
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
  const [stateResponse, clientsResponse] = await Promise.all([
    request(deps, base, "/api/state"),
    request(deps, base, "/api/clients"),
  ])
  const state = ApiStateSchema.safeParse(await jsonOf(stateResponse))
  if (!state.success) return legacyStatus(base, options.json, deps)
  const clients = ApiClientsSchema.safeParse(await jsonOf(clientsResponse))
  if (!clients.success) {
    throw new GlideinError(
      `glidein status: ${base}/api/clients did not answer with the client list (HTTP ${clientsResponse.status})`,
    )
  }
  if (options.json) {
    deps.stdout(
      `${JSON.stringify({ server: base, state: state.data, clients: clients.data }, null, 2)}\n`,
    )
  } else {
    deps.stdout(renderStatusText(base, state.data, clients.data, deps.now()))
  }
  return 0
}

/** The `glidein status` command. */
export const statusCommand: Command = {
  name: "status",
  usage: "--server URL | --config FILE [--json]",
  details: `--server URL asks a glidein serve (or a pyglidein server) for its demand table,
when it last polled condor_q and with what error, and the sites that report to it.
--config FILE shows a site: per partition its glideins running and idle, the limits, what a
submit run would do now (nothing is submitted), and the glideins in its journal.
Exit codes: 0 ok, 1 the server could not be reached, 2 usage error.`,
  options: {
    server: {
      type: "string",
      value: "URL",
      description: "the server, e.g. http://pool.example.org:11001",
    },
    config: {
      type: "string",
      value: "FILE",
      description: "a site config: its glideins, limits and what a submit run would do now",
    },
    json: { type: "boolean", description: "print JSON instead of tables" },
  },
  async run(args) {
    const json = args.flag("json")
    const server = args.string("server")
    const config = args.string("config")
    if (config !== undefined) {
      const { configStatus } = await import("../client/site-status.ts")
      return configStatus(config, { json, ...(server !== undefined ? { server } : {}) })
    }
    if (server !== undefined) {
      return serverStatus(
        server,
        { json },
        {
          fetch: (url, init) => fetch(url, init),
          stdout: writeStdout,
          now: Date.now,
        },
      )
    }
    throw new UsageError(
      "glidein status: say which status: --server URL (a glidein serve, e.g. http://pool.example.org:11001) or --config FILE (a site)",
    )
  },
}
