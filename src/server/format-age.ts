/**
 * How long ago, for people: "just now", "42 s ago", "3 min ago", "2 h ago", "5 days ago".
 * `ms` is the age in milliseconds; a negative age (a clock ahead of ours) reads "just now".
 */
export function formatAge(ms: number): string {
  const s = Math.floor(ms / 1000)
  if (s < 5) return "just now"
  if (s < 60) return `${s} s ago`
  const min = Math.floor(s / 60)
  if (min < 60) return `${min} min ago`
  const h = Math.floor(min / 60)
  if (h < 48) return `${h} h ago`
  const days = Math.floor(h / 24)
  return `${days} days ago`
}

/** A duration for people: "45 s", "5 min", "2 h 5 min". */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000)
  if (s < 60) return `${s} s`
  const min = Math.round(s / 60)
  if (min < 60) return `${min} min`
  const h = Math.floor(min / 60)
  return min % 60 === 0 ? `${h} h` : `${h} h ${min % 60} min`
}
