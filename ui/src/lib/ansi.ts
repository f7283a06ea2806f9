import { inert } from "./inert";
// ANSI escape sequences in log lines, turned into styled text segments. Only SGR
// (colours, bold, italic, underline) is kept; cursor movement, erase-line (compose
// writes `ESC[2K` before every line), titles and hyperlinks are dropped. The result is
// plain data rendered as text with class names: no log text ever becomes HTML, and no
// inline style is needed (the CSP forbids them), so every colour maps to one of the 16
// palette entries the theme defines for light and dark.

export interface Style {
  /** Palette index 0–15, or null for the default colour. */
  fg: number | null;
  bg: number | null;
  bold: boolean;
  dim: boolean;
  italic: boolean;
  underline: boolean;
  inverse: boolean;
}

export interface Segment {
  text: string;
  style: Style;
}

export const PLAIN: Style = Object.freeze({
  fg: null, bg: null, bold: false, dim: false, italic: false, underline: false, inverse: false,
});

/** CSI (ESC [ … final), OSC / DCS / APC / PM / SOS strings (ended by BEL or ESC \), or a two-character escape. */
const ESCAPE = /\x1b(?:\[([0-9;:?<=>]*)[ -/]*([@-~])|[\]PX^_][\s\S]*?(?:\x07|\x1b\\|$)|[@-Z\\-_]?)/g;
/** C0/C1 controls other than tab, which have no place in a rendered line. */
const CONTROLS = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** xterm's 16 colours, for mapping 256-colour and true-colour requests to the nearest. */
const PALETTE: [number, number, number][] = [
  [0, 0, 0], [205, 0, 0], [0, 205, 0], [205, 205, 0], [0, 0, 238], [205, 0, 205], [0, 205, 205], [229, 229, 229],
  [127, 127, 127], [255, 0, 0], [0, 255, 0], [255, 255, 0], [92, 92, 255], [255, 0, 255], [0, 255, 255], [255, 255, 255],
];

export function nearestPaletteIndex(r: number, g: number, b: number): number {
  let best = 0;
  let bestDistance = Infinity;
  PALETTE.forEach(([pr, pg, pb], i) => {
    const distance = (pr - r) ** 2 + (pg - g) ** 2 + (pb - b) ** 2;
    if (distance < bestDistance) [best, bestDistance] = [i, distance];
  });
  return best;
}

/** The palette index for colour `n` of the 256-colour table. */
export function from256(n: number): number {
  if (n < 16) return n;
  if (n >= 232) {
    const grey = 8 + 10 * (n - 232);
    return nearestPaletteIndex(grey, grey, grey);
  }
  const levels = [0, 95, 135, 175, 215, 255];
  const i = n - 16;
  return nearestPaletteIndex(levels[Math.floor(i / 36)], levels[Math.floor(i / 6) % 6], levels[i % 6]);
}

/** Applies one SGR parameter list (`1;31`, `38;5;208`, `38;2;255;0;0`) to `style`. */
export function applySgr(style: Style, params: string): Style {
  const next = { ...style };
  const codes = params === "" ? [0] : params.split(/[;:]/).map((p) => (p === "" ? 0 : Number(p)));
  for (let i = 0; i < codes.length; i++) {
    const code = codes[i];
    if (code === 0) Object.assign(next, PLAIN);
    else if (code === 1) next.bold = true;
    else if (code === 2) next.dim = true;
    else if (code === 3) next.italic = true;
    else if (code === 4) next.underline = true;
    else if (code === 7) next.inverse = true;
    else if (code === 22) next.bold = next.dim = false;
    else if (code === 23) next.italic = false;
    else if (code === 24) next.underline = false;
    else if (code === 27) next.inverse = false;
    else if (code >= 30 && code <= 37) next.fg = code - 30;
    else if (code >= 90 && code <= 97) next.fg = code - 90 + 8;
    else if (code === 39) next.fg = null;
    else if (code >= 40 && code <= 47) next.bg = code - 40;
    else if (code >= 100 && code <= 107) next.bg = code - 100 + 8;
    else if (code === 49) next.bg = null;
    else if (code === 38 || code === 48) {
      let colour: number | null = null;
      if (codes[i + 1] === 5 && i + 2 < codes.length) {
        colour = from256(codes[i + 2]);
        i += 2;
      } else if (codes[i + 1] === 2 && i + 4 < codes.length) {
        colour = nearestPaletteIndex(codes[i + 2], codes[i + 3], codes[i + 4]);
        i += 4;
      } else {
        break; // malformed: ignore the rest of this sequence
      }
      if (code === 38) next.fg = colour;
      else next.bg = colour;
    }
  }
  return next;
}

function sameStyle(a: Style, b: Style): boolean {
  return a.fg === b.fg && a.bg === b.bg && a.bold === b.bold && a.dim === b.dim && a.italic === b.italic
    && a.underline === b.underline && a.inverse === b.inverse;
}

/** Splits a raw log line into text segments with the style in force for each. */
export function parseAnsi(line: string): Segment[] {
  const segments: Segment[] = [];
  let style = PLAIN;
  let last = 0;
  const push = (text: string) => {
    const clean = inert(text.replace(CONTROLS, ""));
    if (!clean) return;
    const previous = segments[segments.length - 1];
    if (previous && sameStyle(previous.style, style)) previous.text += clean;
    else segments.push({ text: clean, style });
  };
  for (const match of line.matchAll(ESCAPE)) {
    push(line.slice(last, match.index));
    last = match.index + match[0].length;
    const [, params, final] = match;
    if (final === "m" && params !== undefined && !/[?<=>]/.test(params)) style = applySgr(style, params);
  }
  push(line.slice(last));
  return segments;
}

/** The line's text with every escape sequence and control character removed. */
export function stripAnsi(line: string): string {
  return inert(line.replace(ESCAPE, "").replace(CONTROLS, ""));
}

/** Class names for a style, matching the palette and attributes in the log view's CSS. */
export function styleClass(style: Style): string {
  const classes: string[] = [];
  if (style.fg !== null) classes.push(`fg${style.fg}`);
  if (style.bg !== null) classes.push(`bg${style.bg}`);
  if (style.bold) classes.push("b");
  if (style.dim) classes.push("dim");
  if (style.italic) classes.push("i");
  if (style.underline) classes.push("u");
  if (style.inverse) classes.push("inv");
  return classes.join(" ");
}
