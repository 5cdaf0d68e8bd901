/**
 * @module
 * How big a glidein is for one demand shape on one partition: the partition's scheduler
 * adapter sizes it by its own rules (src/schedulers/sizing.ts), pyglidein's per scheduler
 * family with its mistakes left out.
 */
import { SCHEDULERS } from "../../schedulers/index.ts"
import type { Shape, Sizing, SizingPolicy } from "../../schedulers/sizing.ts"

export {
  batchWalltimeS,
  type Shape,
  type Sizing,
  type SizingPolicy,
} from "../../schedulers/sizing.ts"

/** Sizes one glidein for `shape` under `policy`, by the rules of the policy's scheduler. */
export function sizeGlidein(shape: Shape, policy: SizingPolicy): Sizing {
  return SCHEDULERS[policy.scheduler].sizing.size(shape, policy)
}
