/**
 * @module
 * Test support: a small tmpfs to run out of space on. Mounting needs root (or CAP_SYS_ADMIN),
 * which CI and the development containers have; elsewhere `SMALL_DISK_SKIP` says why the
 * tests that need one are skipped.
 */
import { closeSync, mkdtempSync, openSync, rmSync, writeSync } from "node:fs"
import { tmpdir } from "node:os"
import { join } from "node:path"

/** A mounted tmpfs. */
export interface SmallDisk {
  dir: string
  /** Fills every free byte with a file named `name` (removable to free the space again). */
  fill(name?: string): void
  /** Unmounts and removes the mount point. */
  remove(): void
}

/** Mounts a tmpfs of `sizeKb` KiB on a new folder; undefined when mounting is not permitted. */
export function smallDisk(sizeKb: number): SmallDisk | undefined {
  const dir = mkdtempSync(join(tmpdir(), "glidein-small-disk-"))
  const mounted = Bun.spawnSync(["mount", "-t", "tmpfs", "-o", `size=${sizeKb}k`, "tmpfs", dir], {
    stdout: "ignore",
    stderr: "pipe",
  })
  if (mounted.exitCode !== 0) {
    rmSync(dir, { recursive: true, force: true })
    return undefined
  }
  return {
    dir,
    fill(name = "filler") {
      const fd = openSync(join(dir, name), "a")
      try {
        // Big blocks first, then single bytes for what is left of the last page.
        for (const size of [64 * 1024, 4096, 1]) {
          const block = new Uint8Array(size)
          try {
            for (;;) writeSync(fd, block)
          } catch {
            // ENOSPC at this block size; try a smaller one.
          }
        }
      } finally {
        closeSync(fd)
      }
    },
    remove() {
      Bun.spawnSync(["umount", "-l", dir])
      rmSync(dir, { recursive: true, force: true })
    },
  }
}

const probe = smallDisk(64)
probe?.remove()

/** Why tests needing a small disk are skipped, or undefined when they can run. */
export const SMALL_DISK_SKIP: string | undefined = probe
  ? undefined
  : "mounting a tmpfs is not permitted here (needs root)"
