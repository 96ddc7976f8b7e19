/**
 * A broker address fit for an error message: without userinfo, query or fragment, where callers
 * put credentials (`wss://user:pass@host/mqtt?token=...`). Scheme, host, port and path stay, as
 * they are what a reader needs to tell which broker failed; a query left out shows as `?…`.
 */
export function redactUrl(url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    // Not a URL, so no way to tell its secret parts from the rest: show none of it.
    return '(invalid URL)'
  }
  const hadQuery = parsed.search !== ''
  parsed.username = ''
  parsed.password = ''
  parsed.search = ''
  parsed.hash = ''
  return hadQuery ? `${parsed.href}?…` : parsed.href
}
