/** The few DOM helpers every module of the demo uses. */

/** The element with this id; the page is static, so a missing one is a bug worth a loud error. */
export function byId<T extends HTMLElement = HTMLElement>(id: string): T {
  const found = document.getElementById(id)
  if (!found) throw new Error(`the demo page has no #${id}`)
  return found as T
}

type Child = Node | string

/** A new element with a class (optional) and children. */
export function el<K extends keyof HTMLElementTagNameMap>(tag: K, className = '', ...children: Child[]): HTMLElementTagNameMap[K] {
  const made = document.createElement(tag)
  if (className) made.className = className
  made.append(...children)
  return made
}

/** Sets a text only when it changes, so observers of the page see real changes only. */
export function setText(target: HTMLElement, text: string): void {
  if (target.textContent !== text) target.textContent = text
}

/** A note in a panel's own message line: shown with its text, hidden when empty. */
export function note(target: HTMLElement, text: string): void {
  setText(target, text)
  target.hidden = text === ''
}

/** An error as `String(err)` gives it: its class name and message, e.g. "InvalidTopicError: ...". */
export const describeError = (err: unknown): string => String(err)

export const clockTime = (at = new Date()): string => at.toLocaleTimeString('en-GB', { hour12: false })
