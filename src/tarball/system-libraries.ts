/**
 * What a glidein may take from the batch node instead of from its tarball, and which node
 * systems a glibc version runs on. HTCondor's release tarballs are made from its RPMs or debs:
 * they carry HTCondor's own libraries and a few externals, and take the rest from the
 * distribution they were built for. So a release runs on
 * a node of that distribution (or a newer one of the same family), never on any Linux.
 */
import { compareVersions } from "./elf.ts"

/** glibc's libraries and the dynamic loader: every Linux node has them. */
export const C_LIBRARY = new Set([
  "libc.so.6",
  "libm.so.6",
  "libpthread.so.0",
  "libdl.so.2",
  "librt.so.1",
  "libresolv.so.2",
  "libutil.so.1",
  "libanl.so.1",
  // glibc's own on EL7, libxcrypt's (a base package) on EL8 and later and on Debian
  "libcrypt.so.1",
  "ld-linux-x86-64.so.2",
  "ld-linux-aarch64.so.1",
  "ld64.so.2",
  "ld64.so.1",
  "ld-linux.so.2",
  "ld-linux-armhf.so.3",
])

/**
 * Libraries of the distribution's base system that HTCondor's packages depend on and its
 * release tarballs therefore leave out: the C++ runtime, OpenSSL, zlib, PCRE2, libuuid, expat,
 * SQLite, curl, Kerberos, systemd. A node of the distribution the release was built for has them.
 */
export const OS_LIBRARY =
  /^(libstdc\+\+\.so\.6|libgcc_s\.so\.1|libgomp\.so\.1|libz\.so\.1|lib(ssl|crypto)\.so\.(10|1\.1|3)|libpcre2-8\.so\.0|libpcre\.so\.[13]|libuuid\.so\.1|libexpat\.so\.1|libsqlite3\.so\.0|libcurl\.so\.4|libgssapi_krb5\.so\.2|libkrb5\.so\.3|libk5crypto\.so\.3|libkrb5support\.so\.0|libcom_err\.so\.2|libkeyutils\.so\.1|libsystemd\.so\.0|libcap\.so\.2|libselinux\.so\.1|liblzma\.so\.5|libbz2\.so\.1(\.0)?|libffi\.so\.[678]|libnsl\.so\.[123])$/

/** The oldest releases of the usual node systems with at least each glibc version. */
const GLIBC_FLOORS: [version: number[], systems: string][] = [
  [[2, 17], "EL7 (CentOS 7)"],
  [[2, 27], "Ubuntu 18.04"],
  [[2, 28], "EL8, Debian 10"],
  [[2, 31], "Debian 11, Ubuntu 20.04"],
  [[2, 34], "EL9"],
  [[2, 35], "Ubuntu 22.04"],
  [[2, 36], "Debian 12"],
  [[2, 39], "EL10, Ubuntu 24.04"],
  [[2, 41], "Debian 13"],
]

/** "EL9 and later" for "2.34": the systems whose glibc is new enough, by their oldest release. */
export function glibcFloor(version: string): string {
  const wanted = version.split(".").map(Number)
  const ok = GLIBC_FLOORS.filter(([v]) => compareVersions(v, wanted) >= 0)
  const first = ok[0]
  if (!first) return "newer than any system this glidein knows"
  // the oldest EL, Debian and Ubuntu release that is new enough
  const names: string[] = []
  for (const family of ["EL", "Debian", "Ubuntu"]) {
    const hit = ok.find(([, s]) => s.split(", ").some((n) => n.startsWith(family)))
    const name = hit?.[1].split(", ").find((n) => n.startsWith(family))
    if (name) names.push(name)
  }
  return `${names.join(", ")} and later`
}
