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

/**
 * A message from a WebSocket or the platform about `url`, fit for an error message: the URL shown
 * as redactUrl shows it, and whatever else of its userinfo or query the message quotes (the
 * query whole, or a parameter's value, decoded or not) cut out.
 */
export function scrubUrl(text: string, url: string): string {
  let parsed: URL
  try {
    parsed = new URL(url)
  } catch {
    return text.split(url).join(redactUrl(url))
  }
  const shown = redactUrl(url)
  let out = text.split(url).join(shown).split(parsed.href).join(shown)
  const secrets = [parsed.search.slice(1), parsed.username, parsed.password, decode(parsed.username), decode(parsed.password)]
  // A short value (`v=1`) is no secret, and cutting it would garble the message's own words.
  for (const value of parsed.searchParams.values()) if (value.length >= 4) secrets.push(value, encodeURIComponent(value))
  for (const secret of secrets.filter((s) => s !== '').sort((a, b) => b.length - a.length)) out = out.split(secret).join('…')
  return out
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part)
  } catch {
    return part
  }
}
