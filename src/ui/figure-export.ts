/**
 * A chart as a standalone SVG or PNG file: the chart's region of the page (its recharts or
 * hand-drawn <svg> elements, and the HTML around them such as legends and captions) is
 * redrawn as one SVG, with the computed styles that make it look right inlined (fonts,
 * colours, strokes) and a title on top. PNG: that SVG drawn on a canvas at 2×.
 * Elements marked data-export="skip" (the export buttons) and tooltips are left out.
 */

const NS = 'http://www.w3.org/2000/svg';
/** Height of the title band above the chart, and the margin around it all. */
const TITLE_H = 28;
const PAD = 10;
/** Style properties that matter for SVG elements drawn outside the page's CSS. */
const SVG_PROPS = [
  'fill',
  'fill-opacity',
  'stroke',
  'stroke-width',
  'stroke-dasharray',
  'stroke-opacity',
  'stroke-linecap',
  'stroke-linejoin',
  'opacity',
  'font-family',
  'font-size',
  'font-weight',
  'font-style',
  'text-anchor',
  'dominant-baseline',
] as const;
const SKIP = '[data-export="skip"], .recharts-tooltip-wrapper, script, style, input, select, textarea';
/** What the mouse puts into a chart (hover cursor, highlighted dots): not part of the figure. */
const TRANSIENT = '.recharts-tooltip-cursor, .recharts-active-dot';

const transparent = (c: string) => c === '' || c === 'transparent' || /rgba\([^)]*,\s*0\)$/.test(c);
const px = (v: string) => parseFloat(v) || 0;

/** The opacity an element is drawn with: its own times its ancestors' up to `root`. */
function opacityOf(el: Element, root: Element): number {
  let o = 1;
  for (let e: Element | null = el; e && e !== root.parentElement; e = e.parentElement) o *= Number(getComputedStyle(e).opacity || 1);
  return o;
}

function svgEl(doc: Document, name: string, attrs: Record<string, string | number>, text?: string): Element {
  const e = doc.createElementNS(NS, name);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, String(v));
  if (text !== undefined) e.textContent = text;
  return e;
}

/** The SVG text of `root`'s region, `title` on top. */
export function figureSvg(root: HTMLElement, title: string): { svg: string; width: number; height: number } {
  const box = root.getBoundingClientRect();
  const width = Math.ceil(box.width) + 2 * PAD;
  const height = Math.ceil(box.height) + TITLE_H + 2 * PAD;
  const doc = document.implementation.createDocument(NS, 'svg', null);
  const out = doc.documentElement;
  const rootStyle = getComputedStyle(root);
  for (const [k, v] of Object.entries({
    width,
    height,
    viewBox: `0 0 ${width} ${height}`,
    'font-family': rootStyle.fontFamily,
    'font-size': rootStyle.fontSize,
  }))
    out.setAttribute(k, String(v));
  out.appendChild(svgEl(doc, 'title', {}, title));
  out.appendChild(svgEl(doc, 'rect', { x: 0, y: 0, width, height, fill: '#ffffff' }));
  out.appendChild(svgEl(doc, 'text', { x: PAD, y: PAD + 17, 'font-size': 15, 'font-weight': 600, fill: rootStyle.color }, title));
  const g = svgEl(doc, 'g', { transform: `translate(${PAD} ${PAD + TITLE_H})` });
  out.appendChild(g);
  const at = (r: DOMRect) => ({ x: r.left - box.left, y: r.top - box.top });

  const drawBox = (el: HTMLElement, cs: CSSStyleDeclaration) => {
    const r = el.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    const { x, y } = at(r);
    const opacity = opacityOf(el, root);
    const sides = (['Top', 'Right', 'Bottom', 'Left'] as const).map((s) => ({
      s,
      w: px(cs.getPropertyValue(`border-${s.toLowerCase()}-width`)),
      style: cs.getPropertyValue(`border-${s.toLowerCase()}-style`),
      colour: cs.getPropertyValue(`border-${s.toLowerCase()}-color`),
    }));
    const visible = sides.filter((b) => b.w > 0 && b.style !== 'none' && b.style !== 'hidden' && !transparent(b.colour));
    const dash = (style: string, w: number) => (style === 'dashed' ? `${3 * w} ${2 * w}` : style === 'dotted' ? `${w} ${w}` : 'none');
    const radius = cs.borderTopLeftRadius.endsWith('%') ? (px(cs.borderTopLeftRadius) / 100) * r.width : px(cs.borderTopLeftRadius);
    const uniform = visible.length === 4 && visible.every((b) => b.w === visible[0].w && b.colour === visible[0].colour && b.style === visible[0].style);
    const bg = cs.backgroundColor;
    if (!transparent(bg) || uniform) {
      const b = uniform ? visible[0] : null;
      g.appendChild(
        svgEl(doc, 'rect', {
          x: x + (b ? b.w / 2 : 0),
          y: y + (b ? b.w / 2 : 0),
          width: Math.max(0, r.width - (b ? b.w : 0)),
          height: Math.max(0, r.height - (b ? b.w : 0)),
          rx: Math.min(radius, r.width / 2, r.height / 2),
          fill: transparent(bg) ? 'none' : bg,
          stroke: b ? b.colour : 'none',
          'stroke-width': b ? b.w : 0,
          'stroke-dasharray': b ? dash(b.style, b.w) : 'none',
          opacity,
        }),
      );
      if (uniform) return;
    }
    for (const b of visible) {
      const h = b.w / 2;
      const [x1, y1, x2, y2] =
        b.s === 'Top'
          ? [x, y + h, x + r.width, y + h]
          : b.s === 'Bottom'
            ? [x, y + r.height - h, x + r.width, y + r.height - h]
            : b.s === 'Left'
              ? [x + h, y, x + h, y + r.height]
              : [x + r.width - h, y, x + r.width - h, y + r.height];
      g.appendChild(svgEl(doc, 'line', { x1, y1, x2, y2, stroke: b.colour, 'stroke-width': b.w, 'stroke-dasharray': dash(b.style, b.w), opacity }));
    }
  };

  const drawText = (t: Text) => {
    const raw = t.textContent ?? '';
    if (!raw.trim() || !t.parentElement) return;
    const cs = getComputedStyle(t.parentElement);
    const size = px(cs.fontSize) || 12;
    const range = document.createRange();
    // One <text> per line the browser broke the text into (words grouped by their line's top).
    const lines: { text: string; r: DOMRect }[] = [];
    for (const m of raw.matchAll(/\S+/g)) {
      range.setStart(t, m.index);
      range.setEnd(t, m.index + m[0].length);
      const r = range.getBoundingClientRect();
      if (r.width === 0 && r.height === 0) continue;
      const last = lines[lines.length - 1];
      if (last && Math.abs(last.r.top - r.top) < size / 2) {
        last.text += ` ${m[0]}`;
        last.r = new DOMRect(last.r.left, last.r.top, r.right - last.r.left, Math.max(last.r.height, r.height));
      } else lines.push({ text: m[0], r });
    }
    const transform = cs.textTransform === 'uppercase' ? (s: string) => s.toUpperCase() : (s: string) => s;
    for (const l of lines) {
      const { x, y } = at(l.r);
      g.appendChild(
        svgEl(
          doc,
          'text',
          {
            x: x.toFixed(1),
            // The alphabetic baseline of a line box of this height, centred.
            y: (y + (l.r.height - size) / 2 + 0.8 * size).toFixed(1),
            'font-family': cs.fontFamily,
            'font-size': cs.fontSize,
            'font-weight': cs.fontWeight,
            'font-style': cs.fontStyle,
            fill: cs.color,
            opacity: opacityOf(t.parentElement, root),
            ...(cs.textDecorationLine.includes('line-through') ? { 'text-decoration': 'line-through' } : {}),
          },
          transform(l.text),
        ),
      );
    }
  };

  const placeSvg = (svg: SVGSVGElement) => {
    const r = svg.getBoundingClientRect();
    if (r.width === 0 || r.height === 0) return;
    const clone = svg.cloneNode(true) as SVGSVGElement;
    const from = [svg, ...svg.querySelectorAll('*')];
    const to = [clone, ...clone.querySelectorAll('*')];
    from.forEach((src, i) => {
      const cs = getComputedStyle(src);
      const dst = to[i];
      if (src.matches(TRANSIENT)) {
        dst.setAttribute('data-transient', '');
        return;
      }
      if (cs.display === 'none' || cs.visibility === 'hidden') {
        dst.setAttribute('display', 'none');
        return;
      }
      const style = SVG_PROPS.map((p) => [p, cs.getPropertyValue(p)] as const)
        .filter(([, v]) => v !== '' && v !== 'normal' && v !== 'auto')
        .map(([p, v]) => `${p}:${v}`)
        .join(';');
      dst.setAttribute('style', style);
      dst.removeAttribute('class');
    });
    for (const e of clone.querySelectorAll('[data-transient]')) e.remove();
    const { x, y } = at(r);
    if (!clone.hasAttribute('viewBox')) clone.setAttribute('viewBox', `0 0 ${r.width} ${r.height}`);
    for (const [k, v] of Object.entries({ x, y, width: r.width, height: r.height })) clone.setAttribute(k, String(v));
    g.appendChild(doc.importNode(clone, true));
  };

  const walk = (node: Node) => {
    for (const child of node.childNodes) {
      if (child.nodeType === Node.TEXT_NODE) {
        drawText(child as Text);
        continue;
      }
      if (!(child instanceof Element) || child.matches(SKIP)) continue;
      const cs = getComputedStyle(child);
      if (cs.display === 'none' || cs.visibility === 'hidden') continue;
      if (child instanceof SVGSVGElement) placeSvg(child);
      else if (child instanceof HTMLElement) {
        drawBox(child, cs);
        walk(child);
      }
    }
  };
  walk(root);
  return { svg: '<?xml version="1.0" encoding="UTF-8"?>\n' + new XMLSerializer().serializeToString(out), width, height };
}

/** The SVG drawn on a canvas `scale` times its size, as PNG. */
export async function svgToPng(svg: string, width: number, height: number, scale = 2): Promise<Blob> {
  const url = URL.createObjectURL(new Blob([svg], { type: 'image/svg+xml' }));
  try {
    const img = new Image();
    img.src = url;
    await img.decode();
    const canvas = document.createElement('canvas');
    canvas.width = Math.round(width * scale);
    canvas.height = Math.round(height * scale);
    const ctx = canvas.getContext('2d');
    if (!ctx) throw new Error('this browser gives no 2D canvas');
    ctx.scale(scale, scale);
    ctx.drawImage(img, 0, 0, width, height);
    return await new Promise<Blob>((resolve, reject) => canvas.toBlob((b) => (b ? resolve(b) : reject(new Error('the canvas gave no PNG'))), 'image/png'));
  } finally {
    URL.revokeObjectURL(url);
  }
}
