/**
 * One colour per site, the same in every chart, on every page and after every restart:
 * derived from the site's uuid, not from its rank in a chart (which changes as sites come
 * and go, so a site's line used to change colour from one chart to the next).
 */

/** Hues around the OKLCH circle (perceptually even, unlike HSL's crowd of greens). */
const HUES = 18
/** Two lightnesses, both readable on the page's light and dark backgrounds. */
const LIGHTNESS = [0.58, 0.72]
const CHROMA = 0.14

/** OKLCH to an sRGB `#rrggbb` (clamped into the gamut), so every browser draws it. */
function oklchToHex(l: number, c: number, hueDegrees: number): string {
  const h = (hueDegrees * Math.PI) / 180
  const a = c * Math.cos(h)
  const b = c * Math.sin(h)
  const lms = [
    (l + 0.3963377774 * a + 0.2158037573 * b) ** 3,
    (l - 0.1055613458 * a - 0.0638541728 * b) ** 3,
    (l - 0.0894841775 * a - 1.291485548 * b) ** 3,
  ] as const
  const linear = [
    4.0767416621 * lms[0] - 3.3077115913 * lms[1] + 0.2309699292 * lms[2],
    -1.2684380046 * lms[0] + 2.6097574011 * lms[1] - 0.3413193965 * lms[2],
    -0.0041960863 * lms[0] - 0.7034186147 * lms[1] + 1.707614701 * lms[2],
  ]
  return `#${linear
    .map((x) => {
      const v = Math.min(1, Math.max(0, x))
      const srgb = v <= 0.0031308 ? 12.92 * v : 1.055 * v ** (1 / 2.4) - 0.055
      return Math.round(srgb * 255)
        .toString(16)
        .padStart(2, "0")
    })
    .join("")}`
}

/** The colours sites are given: every hue at the first lightness, then at the second. */
export const SITE_COLORS: readonly string[] = LIGHTNESS.flatMap((l) =>
  Array.from({ length: HUES }, (_, i) => oklchToHex(l, CHROMA, (i * 360) / HUES + 15)),
)

/** FNV-1a over the UTF-16 code units of `text`. */
function hash(text: string): number {
  let h = 0x811c9dc5
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i)
    h = Math.imul(h, 0x01000193)
  }
  return h >>> 0
}

/**
 * The colour of the site `uuid`, one of SITE_COLORS. Two sites may share one (36 colours,
 * 500 sites); the legend and the hover text tell them apart.
 */
export function siteColor(uuid: string): string {
  return SITE_COLORS[hash(uuid) % SITE_COLORS.length] as string
}
