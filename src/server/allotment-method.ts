/**
 * The server's edge of the allotment: the `get_allotment` JSON-RPC method (params checked
 * here, once) and `GET /api/allotments`, both over one AllotmentBook.
 */
import { Hono } from "hono"
import type { AllotPolicy } from "../allotment/allot-policy.ts"
import type { AllotmentBook } from "../allotment/allotment-book.ts"
import type { DemandSnapshot } from "../demand/index.ts"
import { AllotmentParamsSchema, partitionsOf } from "../protocol/allotment.ts"
import type { DemandRow } from "../protocol/demand.ts"
import { RPC_CODES, RpcError } from "../protocol/json-rpc.ts"
import { countFailed } from "../protocol/monitoring.ts"
import type { StoredClient } from "./report-store.ts"
import type { TokenSet } from "./tokens.ts"

export interface AllotmentDeps {
  book: AllotmentBook
  policy: AllotPolicy
  demand: () => DemandSnapshot
  clients: () => StoredClient[]
  tokens?: () => TokenSet | undefined
  staleAfterMs: number
  now: () => number
  /**
   * The pool, when `serve` watches it: the demand left once unclaimed cores of joined
   * glideins are counted (and how many jobs that took out), and a site's flag.
   */
  pool?: {
    demand: (rows: DemandRow[]) => { rows: DemandRow[]; covered: number }
    flag: (uuid: string) => string | undefined
  }
}

/** `get_allotment`: what the asking site should submit now, per partition, and why. */
export function allotmentMethod(deps: AllotmentDeps) {
  return (params: unknown, context: { authorization: string | null }) => {
    const tokens = deps.tokens?.()
    let tokenName: string | null = null
    if (tokens !== undefined) {
      tokenName = tokens.nameFor(context.authorization) ?? null
      if (tokenName === null) {
        throw new RpcError(
          RPC_CODES.unauthorized,
          "this server needs a valid token with each allotment request: send Authorization: Bearer <token>",
        )
      }
    }
    const parsed = AllotmentParamsSchema.safeParse(params)
    if (!parsed.success) {
      const issue = parsed.error.issues[0]
      const where = issue?.path.map(String).join(".") || "params"
      throw new RpcError(RPC_CODES.invalidParams, `${where}: ${issue?.message ?? "invalid"}`)
    }
    // A site's name is its token's (as for monitoring): another token may neither read its
    // per-site terms nor overwrite what the server remembers of its grants.
    const clients = deps.clients()
    if (tokenName !== null) {
      const owner = clients.find((c) => c.uuid === parsed.data.uuid)?.tokenName ?? null
      if (owner !== null && owner !== tokenName) {
        throw new RpcError(
          RPC_CODES.refused,
          `the site "${parsed.data.uuid}" reports under another token; ask for your own site's allotment`,
        )
      }
    }
    const demand = deps.demand()
    if (demand.rows === null) {
      throw new RpcError(RPC_CODES.notReady, "no demand table yet: the first poll has not finished")
    }
    const uuid = parsed.data.uuid
    const left = deps.pool?.demand(demand.rows)
    const flag = deps.pool?.flag(uuid)
    return deps.book.allot({
      now: deps.now(),
      demand: left?.rows ?? demand.rows,
      ...(left ? { pool: { covered: left.covered, ...(flag ? { flag } : {}) } } : {}),
      reports: clients.map((c) => ({
        uuid: c.uuid,
        tokenName: c.tokenName,
        lastSeen: c.lastSeen,
        running: c.running,
        idle: c.idle,
        launched: c.launched,
        countFailed: countFailed(c),
        // Flagged by the pool: left out of the shares before it even asks.
        ...(deps.pool?.flag(c.uuid) !== undefined ? { backedOff: true } : {}),
      })),
      freshMs: deps.staleAfterMs,
      policy: deps.policy,
      uuid,
      tokenName,
      partitions: partitionsOf(parsed.data),
      dryRun: parsed.data.dry_run === true,
    })
  }
}

/** `GET /api/allotments`: every site's latest allotment with its terms, and the policy. */
export function allotmentRoutes(book: AllotmentBook, policy: AllotPolicy): Hono {
  return new Hono().get("/api/allotments", (c) => c.json({ policy, allotments: book.latest() }))
}
