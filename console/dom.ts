/** Builds elements from data without ever parsing it as HTML: names and notes come from people. */
type Child = Node | string | number | null | undefined | false;

interface Props {
  readonly className?: string;
  readonly attrs?: Readonly<Record<string, string | undefined>>;
  readonly onClick?: (event: Event) => void;
}

export function h<K extends keyof HTMLElementTagNameMap>(
  tag: K,
  props: Props = {},
  ...children: Child[]
): HTMLElementTagNameMap[K] {
  const element = document.createElement(tag);
  if (props.className) element.className = props.className;
  for (const [name, value] of Object.entries(props.attrs ?? {})) {
    if (value !== undefined) element.setAttribute(name, value);
  }
  if (props.onClick) element.addEventListener('click', props.onClick);
  append(element, children);
  return element;
}

export function append(parent: Element, children: readonly Child[]): void {
  for (const child of children) {
    if (child === null || child === undefined || child === false) continue;
    parent.append(child instanceof Node ? child : String(child));
  }
}

/** "4 min ago", "2 h ago": how long, the way people on a shift say it. */
export function ago(at: number | null, now = Date.now()): string {
  if (at === null) return 'never';
  return `${duration(now - at)} ago`;
}

export function duration(ms: number): string {
  const seconds = Math.max(0, Math.round(ms / 1000));
  if (seconds < 90) return `${seconds} s`;
  const minutes = Math.round(seconds / 60);
  if (minutes < 90) return `${minutes} min`;
  const hours = Math.round(minutes / 6) / 10;
  if (hours < 48) return `${hours} h`;
  return `${Math.round(hours / 24)} d`;
}

/** The browser's language (made usable by locale-guard.ts). */
const LOCALE = navigator.language;

/** A figure to four significant digits: 3,230 EUR, 0.399 kWh/m3. */
export function number(value: number): string {
  return value.toLocaleString(LOCALE, { maximumSignificantDigits: 4 });
}

export function clock(at: number): string {
  return new Date(at).toLocaleString(LOCALE, {
    month: 'short',
    day: 'numeric',
    hour: '2-digit',
    minute: '2-digit',
  });
}

/** A plain-words label for a kebab-case code: `sensor-fault` → "Sensor fault". */
export function label(code: string): string {
  const words = code.replace(/-/g, ' ');
  return words.charAt(0).toUpperCase() + words.slice(1);
}
