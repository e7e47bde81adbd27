/**
 * One spelling of a request path, so that the guard decides on the path the gateway
 * will serve: percent-encoding decoded once, repeated slashes folded, `.` and `..`
 * segments resolved. A path that would still mean something else after decoding
 * (an encoded `?`, `#`, `%`, backslash or control character) has no canonical
 * form and is refused.
 */

export interface CanonicalUrl {
  /** The decoded, normalised path: what the guard matches and what it forwards. */
  path: string;
  /** The query string as sent, with its `?`, or "". */
  query: string;
}

// biome-ignore lint/suspicious/noControlCharactersInRegex: control characters are what it refuses
const AMBIGUOUS = /[?#%\\\u0000-\u001f\u007f]/;

export function canonicalUrl(url: string): CanonicalUrl | undefined {
  const q = url.indexOf("?");
  const rawPath = q === -1 ? url : url.slice(0, q);
  const query = q === -1 ? "" : url.slice(q);
  if (!rawPath.startsWith("/")) return undefined;
  let decoded: string;
  try {
    decoded = decodeURIComponent(rawPath);
  } catch {
    return undefined;
  }
  if (AMBIGUOUS.test(decoded)) return undefined;
  const segments: string[] = [];
  for (const segment of decoded.split("/")) {
    if (segment === "" || segment === ".") continue;
    if (segment === "..") segments.pop();
    else segments.push(segment);
  }
  const trailing = decoded.endsWith("/") && segments.length > 0 ? "/" : "";
  const path = `/${segments.map((s) => encodeURIComponent(s)).join("/")}${trailing}`;
  return { path, query };
}
