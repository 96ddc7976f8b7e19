/** The filter a shared subscription matches on: `$share/group/a/+` matches like `a/+`. */
function matchingFilter(filter: string): string {
  if (!filter.startsWith('$share/')) return filter
  const groupEnd = filter.indexOf('/', 7)
  return groupEnd < 0 ? filter : filter.slice(groupEnd + 1)
}

/**
 * Whether a topic name matches a filter (MQTT §4.7). Topics starting with `$` are not matched by
 * a filter that starts with a wildcard (§4.7.2).
 */
export function matchTopic(filter: string, topic: string): boolean {
  filter = matchingFilter(filter)
  if (topic.startsWith('$') && (filter.startsWith('+') || filter.startsWith('#'))) return false
  const f = filter.split('/')
  const t = topic.split('/')
  for (let i = 0; i < f.length; i++) {
    const level = f[i]
    if (level === '#') return true
    if (i >= t.length) return false
    if (level !== '+' && level !== t[i]) return false
  }
  return f.length === t.length
}
