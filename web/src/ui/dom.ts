/**
 * The only way this app builds DOM: elements with attributes set one by one and children given
 * as nodes or strings, strings always becoming text nodes. Record text can therefore never be
 * parsed as HTML (no innerHTML anywhere), whatever a Grist cell contains.
 */

export type Child = Node | string | number | null | undefined | false;

export interface Props {
  class?: string;
  /** Attribute values are set with setAttribute, which never parses markup. */
  attrs?: Record<string, string | number | boolean | undefined>;
  text?: string;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.class) element.className = props.class;
  for (const [name, value] of Object.entries(props.attrs ?? {})) setAttr(element, name, value);
  if (props.text !== undefined) element.textContent = props.text;
  append(element, ...children);
  return element;
}

export function setAttr(
  element: Element,
  name: string,
  value: string | number | boolean | undefined,
) {
  // Event handler and style attributes would be script or CSS sinks: never set them this way
  // (the CSP blocks them anyway; this makes the mistake loud during development).
  if (/^on/i.test(name) || name.toLowerCase() === "style") {
    throw new Error(`refusing to set attribute ${name}`);
  }
  if (value === undefined || value === false) element.removeAttribute(name);
  else element.setAttribute(name, value === true ? "" : String(value));
}

export function append(parent: Node, ...children: Child[]) {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.appendChild(typeof child === "object" ? child : document.createTextNode(String(child)));
  }
}

/** Replaces all children. */
export function replaceChildren(parent: Element, ...children: Child[]) {
  parent.replaceChildren();
  append(parent, ...children);
}

/** Sets text only when it changed, so screen readers and selection are not disturbed. */
export function setText(element: Element, text: string) {
  if (element.textContent !== text) element.textContent = text;
}

/** A visually hidden label for screen readers. */
export function srOnly(text: string): HTMLSpanElement {
  return h("span", { class: "sr-only", text });
}
