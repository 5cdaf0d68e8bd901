/**
 * Failed system calls in a few words, for messages that name a file: "no such file" rather
 * than "ENOENT: no such file or directory, open '/x'".
 */

/** The short reason of a failed system call ("permission denied"), for messages. */
export function systemReason(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code
  switch (code) {
    case "ENOENT":
      return "no such file"
    case "EACCES":
    case "EPERM":
      return "permission denied"
    case "EISDIR":
      return "it is a directory"
    case "ENOTDIR":
      return "a parent is not a directory"
    case "ENOSPC":
      return "no space left on the device"
    default:
      return error instanceof Error ? error.message : String(error)
  }
}
