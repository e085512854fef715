// The page `aevb explore` serves: a scatter of the posterior means, decoding on hover,
// a selected datapoint with its reconstruction and neighbours, latent sliders,
// interpolation, and (when the model has them) the decoded manifold and per-cluster
// samples. Plain ES2020 with no framework and no outside requests: the file is embedded
// in the binary and must work offline. It talks only to this server's JSON API
// (apps/aevb/explore_api.cpp; docs/explore.md describes it).
'use strict';

// Ten distinguishable colours (Tableau 10), cycled when there are more classes.
const PALETTE = ['#4e79a7', '#f28e2b', '#e15759', '#76b7b2', '#59a14f',
  '#edc948', '#b07aa1', '#ff9da7', '#9c755f', '#bab0ac'];
const NO_CLASS = '#8a8f98';  // points without a label (or when nothing colours them)
const NEIGHBOURS = 8;
const GRID_N = 15;
const CLUSTER_SAMPLES = 8;
// Display sizes (CSS px) of an image's longer side. Images are drawn one canvas pixel per
// image pixel and enlarged by CSS by a whole factor, so pixels stay square and exact.
const MAIN_PX = 112;
const THUMB_PX = 56;
const MAX_TABLE_VALUES = 256;  // non-image data: values shown in a table

const $ = (id) => document.getElementById(id);

// Creates an element; props: class, text, title, style, on<event> listeners, attributes.
function el(tag, props = {}, children = []) {
  const node = document.createElement(tag);
  for (const [key, value] of Object.entries(props)) {
    if (key === 'class') node.className = value;
    else if (key === 'text') node.textContent = value;
    else if (key === 'style') node.style.cssText = value;
    else if (key.startsWith('on')) node.addEventListener(key.slice(2), value);
    else node.setAttribute(key, value);
  }
  for (const child of children) node.append(child);
  return node;
}

const fmt = (v, digits = 3) => (Number.isFinite(v) ? v.toFixed(digits) : String(v));
const colourOf = (k) => (k === null || k === undefined ? NO_CLASS : PALETTE[((k % 10) + 10) % 10]);

const state = {
  info: null,
  projection: null,     // /api/points' "projection"
  projQuery: '',        // the query naming it, passed on to /api/point
  points: [],           // [u, v] per datapoint
  labels: null,
  clusters: null,
  colourBy: 'none',     // 'label', 'cluster' or 'none'
  view: { cx: 0, cy: 0, scale: 1, fit: 1 },  // the data point at the canvas centre; CSS px per unit (fit: fitted)
  selected: null,
  point: null,          // the /api/point reply of the selected datapoint
  ellipse: null,        // its 2x2 covariance in the current projection
  neighbours: [],       // indices, drawn as rings
  a: null,
  b: null,
  traverseZ: null,
};

// The test hook (tests/browser/explore_test.mjs reads it); also handy from the console.
const hook = {
  ready: false,
  info: null,
  selected: null,
  detailsFor: null,     // the index whose details are shown (the selection has loaded)
  neighboursFor: null,
  lastReconstruction: null,
  lastHover: null,
  lastTraverse: null,
  lastInterpolation: null,
  errors: [],
  busy: () => inFlight,
  toScreen: (i) => toScreen(i),
  fromScreen: (x, y) => fromScreen(x, y),
  select: (i) => select(i),
};
window.aevbExplore = hook;

// ---------------------------------------------------------------------------------------
// Status line and server requests

function setStatus(text, kind = 'info') {
  const status = $('status');
  status.textContent = text;
  status.className = 'status ' + kind;
}

// Every failure ends here, so none is silently dropped.
function reportError(err) {
  const message = err instanceof Error ? err.message : String(err);
  hook.errors.push(message);
  setStatus('error: ' + message, 'error');
  console.warn('aevb explore: ' + message);
}

let inFlight = 0;

// GET (no body) or POST (a JSON body); resolves to the reply's JSON, or rejects with the
// server's {"error": ...} message (or what went wrong on the way).
async function api(path, body) {
  const what = (body === undefined ? 'GET ' : 'POST ') + path.split('?')[0];
  inFlight++;
  try {
    let reply;
    try {
      reply = await fetch(path, body === undefined ? {} : {
        method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body) });
    } catch (e) {
      throw new Error(`${what}: no reply from the server (${e.message})`);
    }
    const text = await reply.text();
    let data = null;
    try { data = JSON.parse(text); } catch (e) { /* not JSON: reported below */ }
    if (data && typeof data === 'object' && 'error' in data) {
      throw new Error(`${what}: ${data.error} (HTTP ${reply.status})`);
    }
    if (!reply.ok) throw new Error(`${what}: HTTP ${reply.status} ${text.slice(0, 200)}`);
    if (data === null) throw new Error(`${what}: the reply is not JSON`);
    return data;
  } finally {
    inFlight--;
  }
}

// A decoder with at most one request in flight: a request made while one is out replaces
// any waiting one, and the latest waiting z goes out when the reply comes. Fast hovering or
// slider drags thus cost one request per round trip, never a queue. cancel() drops replies
// to requests made before it (a new selection resets the traverse).
function coalescedDecoder(show) {
  let busy = false;
  let waiting = null;
  let generation = 0;
  async function pump() {
    busy = true;
    while (waiting) {
      const z = waiting;
      const gen = generation;
      waiting = null;
      try {
        const reply = await api('/api/decode', { z: [z] });
        if (gen === generation) show(z, reply.images[0].values);
      } catch (e) {
        reportError(e);
      }
    }
    busy = false;
  }
  return {
    request(z) { waiting = z; if (!busy) pump(); },
    cancel() { waiting = null; generation++; },
  };
}

// ---------------------------------------------------------------------------------------
// Images: planar values (c, y, x) in [0, 1] drawn one canvas pixel per image pixel

const toByte = (v) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));

// Writes one image into RGBA bytes `rgba` (a canvas `stride` pixels wide) at (ox, oy).
function writeTile(rgba, stride, values, ox, oy) {
  const { height: H, width: W, channels: C } = state.info.image;
  const plane = H * W;
  for (let y = 0; y < H; y++) {
    for (let x = 0; x < W; x++) {
      const p = y * W + x;
      const o = ((oy + y) * stride + ox + x) * 4;
      const r = toByte(values[p]);
      rgba[o] = r;
      rgba[o + 1] = C >= 3 ? toByte(values[plane + p]) : r;
      rgba[o + 2] = C >= 3 ? toByte(values[2 * plane + p]) : r;
      rgba[o + 3] = 255;
    }
  }
}

// The whole enlargement that brings an image's longer side near `target` CSS px.
function scaleFor(target) {
  const { height: H, width: W } = state.info.image;
  return Math.max(1, Math.round(target / Math.max(W, H)));
}

// Sets the CSS width (the height follows the canvas' aspect ratio; CSS caps the width
// at the container's, for narrow windows).
function enlarge(canvas, scale) {
  canvas.style.width = `${canvas.width * scale}px`;
}

// Draws tiles (value arrays) as one canvas, `columns` a row, each enlarged `scale` times.
function paintTiles(canvas, tiles, columns, scale) {
  const { height: H, width: W } = state.info.image;
  const rows = Math.ceil(tiles.length / columns);
  canvas.width = W * columns;
  canvas.height = H * rows;
  const ctx = canvas.getContext('2d');
  const image = ctx.createImageData(canvas.width, canvas.height);
  tiles.forEach((values, k) => writeTile(image.data, canvas.width, values, (k % columns) * W, Math.floor(k / columns) * H));
  ctx.putImageData(image, 0, 0);
  enlarge(canvas, scale);
}

// Non-image data: the values as a compact table, `columns` a row, row headers = first index.
function valuesTable(values, columns) {
  const shown = Math.min(values.length, MAX_TABLE_VALUES);
  const table = el('table', { class: 'values' });
  for (let r = 0; r < shown; r += columns) {
    const tr = el('tr', {}, [el('th', { text: String(r) })]);
    for (let c = r; c < Math.min(r + columns, shown); c++) tr.append(el('td', { text: fmt(values[c]), title: `x[${c}]` }));
    table.append(tr);
  }
  if (shown < values.length) table.append(el('caption', { text: `first ${shown} of ${values.length} values` }));
  return table;
}

// Shows one datapoint-sized result in the slot of canvas `id`: the image, or for non-image
// data a table beside the (hidden) canvas.
function showSingle(id, values) {
  const canvas = $(id);
  if (state.info.image) {
    paintTiles(canvas, [values], 1, scaleFor(MAIN_PX));
    return;
  }
  canvas.hidden = true;
  const slot = canvas.parentElement;
  slot.querySelector('table.values')?.remove();
  canvas.after(valuesTable(values, 8));
}

const STRIP_COLUMNS = 12;  // non-image strips: values shown per row

// Fills a strip (neighbours, interpolation) with items {values, caption, onClick}: small
// image tiles in a row, or for non-image data one table row per item.
function fillStrip(box, items) {
  if (state.info.image) {
    box.replaceChildren(...items.map(({ values, caption, onClick }) => {
      const canvas = el('canvas', { class: 'img' });
      paintTiles(canvas, [values], 1, scaleFor(THUMB_PX));
      const figure = el('figure', { class: 'tile' }, [canvas, el('figcaption', { text: caption })]);
      if (onClick) {
        figure.classList.add('clickable');
        figure.addEventListener('click', onClick);
      }
      return figure;
    }));
    return;
  }
  const shown = Math.min(state.info.input_dim, STRIP_COLUMNS);
  const head = el('tr', {}, [el('th', { text: '' })]);
  for (let c = 0; c < shown; c++) head.append(el('th', { text: `x${c}` }));
  if (shown < state.info.input_dim) head.append(el('th', { text: '\u2026' }));
  const table = el('table', { class: 'values strip-table' }, [head]);
  for (const { values, caption, onClick } of items) {
    const tr = el('tr', {}, [el('th', { text: caption.replace('\n', ' ') })]);
    for (let c = 0; c < shown; c++) tr.append(el('td', { text: fmt(values[c]) }));
    if (onClick) {
      tr.classList.add('clickable');
      tr.addEventListener('click', onClick);
    }
    table.append(tr);
  }
  box.replaceChildren(table);
}

// Blank canvases of image size, so the layout does not jump when the first images arrive.
function blankImages() {
  if (!state.info.image) return;
  const { height: H, width: W } = state.info.image;
  for (const id of ['input', 'reconstruction', 'hover', 'traverse']) {
    const canvas = $(id);
    canvas.width = W;
    canvas.height = H;
    enlarge(canvas, scaleFor(MAIN_PX));
  }
}

// ---------------------------------------------------------------------------------------
// The scatter: data (u, v) <-> CSS px of the canvas, v upwards

const scatter = $('scatter');

function toCss(u, v) {
  const { cx, cy, scale } = state.view;
  return [scatter.clientWidth / 2 + (u - cx) * scale, scatter.clientHeight / 2 - (v - cy) * scale];
}

function fromCss(x, y) {
  const { cx, cy, scale } = state.view;
  return [cx + (x - scatter.clientWidth / 2) / scale, cy - (y - scatter.clientHeight / 2) / scale];
}

// Viewport (client) coordinates of point i's dot, for the test and for clicks.
function toScreen(i) {
  const rect = scatter.getBoundingClientRect();
  const [x, y] = toCss(state.points[i][0], state.points[i][1]);
  return { x: rect.left + scatter.clientLeft + x, y: rect.top + scatter.clientTop + y };
}

// Fits every point with a margin; one scale for both axes, so distances and ellipses keep
// their shape.
function fitView() {
  let [u0, u1, v0, v1] = [Infinity, -Infinity, Infinity, -Infinity];
  for (const [u, v] of state.points) {
    u0 = Math.min(u0, u); u1 = Math.max(u1, u);
    v0 = Math.min(v0, v); v1 = Math.max(v1, v);
  }
  if (!Number.isFinite(u0)) { u0 = v0 = -1; u1 = v1 = 1; }
  // A degenerate axis (a 1-D latent, padded) takes the other's span; all points equal: 1.
  const span = Math.max(u1 - u0, v1 - v0) || 1;
  const du = u1 - u0 || span;
  const dv = v1 - v0 || span;
  const scale = 0.9 * Math.min(scatter.clientWidth / du, scatter.clientHeight / dv);
  const fit = Number.isFinite(scale) && scale > 0 ? scale : 1;
  state.view = { cx: (u0 + u1) / 2, cy: (v0 + v1) / 2, scale: fit, fit };
}

// A round step near span/count: 1, 2 or 5 times a power of ten.
function niceStep(span, count) {
  const raw = span / count;
  const p = 10 ** Math.floor(Math.log10(raw));
  const f = raw / p;
  return (f < 1.5 ? 1 : f < 3.5 ? 2 : f < 7.5 ? 5 : 10) * p;
}

function axisName(k) {
  const p = state.projection;
  const share = p.explained && Number.isFinite(p.explained[k]) ? ` (${(100 * p.explained[k]).toFixed(1)}% var.)` : '';
  if (p.kind === 'pca') return `PC${k + 1}${share}`;
  return `z${k === 0 ? p.x : p.y}${share}`;
}

// Grid lines at round values, labelled inside the plot (with a white halo for legibility).
function drawAxes(ctx, w, h) {
  const [u0, v1] = fromCss(0, 0);
  const [u1, v0] = fromCss(w, h);
  const step = niceStep(Math.max(u1 - u0, v1 - v0), 8);
  if (!(step > 0 && Number.isFinite(step))) return;
  const digits = Math.max(0, -Math.floor(Math.log10(step)));
  // Integer multiples of the step (an accumulated sum would drift, or stall when zoomed far in).
  const ticks = (lo, hi) => {
    const out = [];
    for (let k = Math.ceil(lo / step); k * step <= hi && out.length < 100; k++) out.push(k);
    return out;
  };
  const us = ticks(u0, u1);
  const vs = ticks(v0, v1);
  ctx.lineWidth = 1;
  for (const k of us) {
    const x = Math.round(toCss(k * step, 0)[0]) + 0.5;
    ctx.strokeStyle = k === 0 ? '#c8ccd2' : '#eceef1';
    ctx.beginPath(); ctx.moveTo(x, 0); ctx.lineTo(x, h); ctx.stroke();
  }
  for (const k of vs) {
    const y = Math.round(toCss(0, k * step)[1]) + 0.5;
    ctx.strokeStyle = k === 0 ? '#c8ccd2' : '#eceef1';
    ctx.beginPath(); ctx.moveTo(0, y); ctx.lineTo(w, y); ctx.stroke();
  }
  const label = (text, x, y) => { ctx.strokeText(text, x, y); ctx.fillText(text, x, y); };
  ctx.font = '11px system-ui, sans-serif';
  ctx.fillStyle = '#7a808a';
  ctx.strokeStyle = 'rgba(255,255,255,0.9)';
  ctx.lineWidth = 3;
  ctx.textAlign = 'center';
  ctx.textBaseline = 'bottom';
  for (const k of us) {
    const x = toCss(k * step, 0)[0];
    if (x > 24 && x < w - 24) label((k * step).toFixed(digits), x, h - 3);
  }
  ctx.textAlign = 'left';
  ctx.textBaseline = 'middle';
  for (const k of vs) {
    const y = toCss(0, k * step)[1];
    if (y > 24 && y < h - 24) label((k * step).toFixed(digits), 4, y);
  }
  ctx.fillStyle = '#3c4048';
  ctx.font = '12px system-ui, sans-serif';
  ctx.textAlign = 'right';
  ctx.textBaseline = 'bottom';
  label(`${axisName(0)} \u2192`, w - 6, h - 18);
  ctx.textAlign = 'left';
  ctx.textBaseline = 'top';
  label(`\u2191 ${axisName(1)}`, 6, 6);
}

// The class each point is coloured by (null: none).
function classes() {
  if (state.colourBy === 'label') return state.labels;
  if (state.colourBy === 'cluster') return state.clusters;
  return null;
}

// The k-sigma contour of a 2x2 covariance [[a, b], [b, c]] around (u, v), in CSS px:
// eigen-decomposition, then a polygon (the projection may be zoomed, so draw in data units).
function ellipsePath(ctx, u, v, cov, k) {
  const [[a, b], [, c]] = cov;
  const mid = (a + c) / 2;
  const rad = Math.sqrt(((a - c) / 2) ** 2 + b * b);
  const l1 = Math.max(mid + rad, 0);
  const l2 = Math.max(mid - rad, 0);
  const angle = 0.5 * Math.atan2(2 * b, a - c);  // direction of the larger eigenvector
  const [e1u, e1v] = [Math.cos(angle), Math.sin(angle)];
  const [r1, r2] = [k * Math.sqrt(l1), k * Math.sqrt(l2)];
  ctx.beginPath();
  for (let s = 0; s <= 72; s++) {
    const t = (s / 72) * 2 * Math.PI;
    const p = r1 * Math.cos(t);
    const q = r2 * Math.sin(t);
    const [x, y] = toCss(u + p * e1u - q * e1v, v + p * e1v + q * e1u);
    if (s === 0) ctx.moveTo(x, y); else ctx.lineTo(x, y);
  }
  ctx.closePath();
}

function drawScatter() {
  const w = scatter.clientWidth;
  const h = scatter.clientHeight;
  const dpr = window.devicePixelRatio || 1;
  if (scatter.width !== Math.round(w * dpr) || scatter.height !== Math.round(h * dpr)) {
    scatter.width = Math.round(w * dpr);
    scatter.height = Math.round(h * dpr);
  }
  const ctx = scatter.getContext('2d');
  ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
  ctx.fillStyle = '#ffffff';
  ctx.fillRect(0, 0, w, h);
  if (!state.projection) return;
  drawAxes(ctx, w, h);

  // One path per colour: thousands of dots stay cheap.
  const cls = classes();
  const radius = state.points.length > 5000 ? 1.6 : 2.6;
  const groups = new Map();
  let drawn = 0;
  state.points.forEach(([u, v], i) => {
    const [x, y] = toCss(u, v);
    if (x < -radius || y < -radius || x > w + radius || y > h + radius) return;
    const colour = colourOf(cls ? cls[i] : null);
    if (!groups.has(colour)) groups.set(colour, new Path2D());
    const path = groups.get(colour);
    path.moveTo(x + radius, y);
    path.arc(x, y, radius, 0, 2 * Math.PI);
    drawn++;
  });
  ctx.globalAlpha = 0.85;
  for (const [colour, path] of groups) { ctx.fillStyle = colour; ctx.fill(path); }
  ctx.globalAlpha = 1;

  const ring = (i, r, colour, width) => {
    const [x, y] = toCss(...state.points[i]);
    ctx.strokeStyle = colour; ctx.lineWidth = width;
    ctx.beginPath(); ctx.arc(x, y, r, 0, 2 * Math.PI); ctx.stroke();
  };
  for (const j of state.neighbours) ring(j, 4.5, '#4a4f57', 1);
  ctx.font = 'bold 13px system-ui, sans-serif';
  ctx.textAlign = 'left';
  ctx.textBaseline = 'bottom';
  for (const [name, i] of [['A', state.a], ['B', state.b]]) {
    if (i === null) continue;
    ring(i, 6, '#1f6feb', 2);
    const [x, y] = toCss(...state.points[i]);
    ctx.strokeStyle = 'rgba(255,255,255,0.95)';  // a halo keeps the letter readable over dots
    ctx.lineWidth = 3;
    ctx.strokeText(name, x + 7, y - 5);
    ctx.fillStyle = '#1f6feb';
    ctx.fillText(name, x + 7, y - 5);
  }
  if (state.selected !== null) {
    const [u, v] = state.points[state.selected];
    if (state.ellipse) {
      ctx.strokeStyle = 'rgba(17, 19, 24, 0.8)';
      ctx.lineWidth = 1.5;
      ellipsePath(ctx, u, v, state.ellipse, 1);
      ctx.stroke();
      ctx.setLineDash([5, 4]);
      ellipsePath(ctx, u, v, state.ellipse, 2);
      ctx.stroke();
      ctx.setLineDash([]);
    }
    ring(state.selected, 5, '#111318', 2);
  }
  scatter.dataset.points = String(drawn);
}

let drawQueued = false;
function scheduleDraw() {
  if (drawQueued) return;
  drawQueued = true;
  requestAnimationFrame(() => { drawQueued = false; drawScatter(); });
}

// The datapoint whose dot is nearest to (x, y) CSS px (the first of equals).
function nearestPoint(x, y) {
  let best = null;
  let bestD = Infinity;
  state.points.forEach(([u, v], i) => {
    const [px, py] = toCss(u, v);
    const d = (px - x) ** 2 + (py - y) ** 2;
    if (d < bestD) { bestD = d; best = i; }
  });
  return best;
}

// Hover: the latent point under the cursor, z = center + u axes[0] + v axes[1].
const hoverDecoder = coalescedDecoder((z, values) => {
  showSingle('hover', values);
  hook.lastHover = { z, values };
  $('hover-z').textContent = 'z = (' + z.map((t) => fmt(t, 2)).join(', ') + ')';
});

// The latent point drawn at (x, y) CSS px of the scatter.
function latentAt(x, y) {
  const [u, v] = fromCss(x, y);
  const { center, axes } = state.projection;
  return center.map((c, k) => c + u * axes[0][k] + v * axes[1][k]);
}

// The same for viewport (client) coordinates, for the test hook.
function fromScreen(x, y) {
  const rect = scatter.getBoundingClientRect();
  return latentAt(x - rect.left - scatter.clientLeft, y - rect.top - scatter.clientTop);
}

function hoverAt(x, y) {
  if (state.projection) hoverDecoder.request(latentAt(x, y));
}

function setupScatterInput() {
  let drag = null;
  const local = (e) => {
    const rect = scatter.getBoundingClientRect();
    return [e.clientX - rect.left - scatter.clientLeft, e.clientY - rect.top - scatter.clientTop];
  };
  scatter.addEventListener('pointerdown', (e) => {
    if (e.button !== 0) return;
    drag = { x: e.clientX, y: e.clientY, cx: state.view.cx, cy: state.view.cy, moved: false };
    scatter.setPointerCapture(e.pointerId);
  });
  scatter.addEventListener('pointermove', (e) => {
    if (!drag) { hoverAt(...local(e)); return; }
    const dx = e.clientX - drag.x;
    const dy = e.clientY - drag.y;
    if (!drag.moved && Math.hypot(dx, dy) > 4) drag.moved = true;  // a small wobble is still a click
    if (drag.moved) {
      state.view.cx = drag.cx - dx / state.view.scale;
      state.view.cy = drag.cy + dy / state.view.scale;
      scheduleDraw();
    }
  });
  scatter.addEventListener('pointerup', (e) => {
    if (!drag) return;
    const click = !drag.moved;
    drag = null;
    if (scatter.hasPointerCapture(e.pointerId)) scatter.releasePointerCapture(e.pointerId);
    if (click && state.points.length) select(nearestPoint(...local(e)));
  });
  scatter.addEventListener('pointercancel', () => { drag = null; });
  scatter.addEventListener('wheel', (e) => {
    e.preventDefault();
    const [x, y] = local(e);
    const [u, v] = fromCss(x, y);  // keep the point under the cursor in place
    const view = state.view;
    // Between a hundredth and ten thousand times the fitted scale.
    view.scale = Math.min(Math.max(view.scale * Math.exp(-e.deltaY * 0.0015), view.fit / 100), view.fit * 1e4);
    view.cx = u - (x - scatter.clientWidth / 2) / view.scale;
    view.cy = v + (y - scatter.clientHeight / 2) / view.scale;
    scheduleDraw();
  }, { passive: false });
  const refit = () => { fitView(); drawScatter(); };
  $('reset-view').addEventListener('click', refit);
  new ResizeObserver(refit).observe(scatter);
}

// ---------------------------------------------------------------------------------------
// Points, projection and colours

function renderLegend() {
  const legend = $('legend');
  legend.replaceChildren();
  const cls = classes();
  if (!cls) {
    legend.append(el('span', { class: 'muted', text: 'no labels: every point in one colour' }));
    return;
  }
  const counts = new Map();
  for (const k of cls) counts.set(k, (counts.get(k) || 0) + 1);
  const title = state.colourBy === 'label' ? 'label' : 'cluster';
  legend.append(el('span', { class: 'legend-title', text: title }));
  for (const k of [...counts.keys()].sort((p, q) => (p ?? -Infinity) - (q ?? -Infinity))) {
    legend.append(el('span', { class: 'legend-item', title: `${counts.get(k)} points` }, [
      el('span', { class: 'swatch', style: `background:${colourOf(k)}` }),
      document.createTextNode(k === null ? 'none' : String(k)),
    ]));
  }
}

let pointsSeq = 0;  // a reply to an older projection request is dropped

// Loads the scatter for `query` ('' = the server's default projection); false when a newer
// request overtook this one.
async function loadPoints(query) {
  const seq = ++pointsSeq;
  const reply = await api('/api/points' + (query ? '?' + query : ''));
  if (seq !== pointsSeq) return false;
  const p = reply.projection;
  state.projection = p;
  state.projQuery = p.kind === 'pca' ? 'projection=pca' : `projection=dims&x=${p.x}&y=${p.y}`;
  state.points = reply.points;
  state.labels = reply.labels;
  state.clusters = reply.clusters;
  syncProjectionControls();
  renderLegend();
  fitView();
  drawScatter();
  return true;
}

// The projection controls show the projection drawn.
function syncProjectionControls() {
  const p = state.projection;
  if (!p) return;
  $('projection').value = p.kind;
  $('dims-pick').hidden = p.kind !== 'dims';
  if (p.kind === 'dims') { $('dim-x').value = String(p.x); $('dim-y').value = String(p.y); }
}

async function changeProjection() {
  const kind = $('projection').value;
  const query = kind === 'pca' ? 'projection=pca' : `projection=dims&x=${$('dim-x').value}&y=${$('dim-y').value}`;
  try {
    if (!(await loadPoints(query))) return;
    state.ellipse = null;  // it belongs to the old plane
    drawScatter();
    setStatus(`projection: ${axisName(0)} against ${axisName(1)}`);
    const seq = pointsSeq;
    if (state.selected !== null) {
      const i = state.selected;
      const reply = await api(`/api/point?i=${i}&${state.projQuery}`);
      if (state.selected === i && seq === pointsSeq) { state.ellipse = reply.ellipse; drawScatter(); }
    }
  } catch (e) {
    syncProjectionControls();  // the plot still shows the old projection
    reportError(e);
  }
}

function setupControls(info) {
  const dims = info.latent >= 2;
  $('projection').querySelector('option[value=dims]').disabled = !dims;
  for (const id of ['dim-x', 'dim-y']) {
    const pick = $(id);
    for (let k = 0; k < info.latent; k++) pick.append(el('option', { value: String(k), text: `z${k}` }));
    pick.addEventListener('change', () => {
      // The same dimension on both axes is no plane: the other axis takes the old value.
      const other = $(id === 'dim-x' ? 'dim-y' : 'dim-x');
      if (other.value === pick.value) other.value = String(id === 'dim-x' ? state.projection.x : state.projection.y);
      changeProjection();
    });
  }
  $('projection').addEventListener('change', () => {
    // Switching to two dimensions starts from the first two unless already chosen.
    if ($('projection').value === 'dims' && $('dim-x').value === $('dim-y').value) $('dim-y').value = '1';
    changeProjection();
  });
  state.colourBy = info.labels ? 'label' : info.clusters > 0 ? 'cluster' : 'none';
  $('colour-pick').hidden = !(info.labels && info.clusters > 0);
  $('colour-by').value = state.colourBy === 'none' ? 'label' : state.colourBy;
  $('colour-by').addEventListener('change', () => {
    state.colourBy = $('colour-by').value;
    renderLegend();
    drawScatter();
  });
  setupScatterInput();
  $('set-a').addEventListener('click', () => setEnd('a'));
  $('set-b').addEventListener('click', () => setEnd('b'));
  $('run-interpolation').addEventListener('click', runInterpolation);
  $('reset-traverse').addEventListener('click', resetTraverse);
}

// ---------------------------------------------------------------------------------------
// The selected datapoint

let selectSeq = 0;  // replies for an older selection are dropped

async function select(i) {
  const seq = ++selectSeq;
  state.selected = i;
  hook.selected = i;
  state.ellipse = null;
  state.neighbours = [];
  scheduleDraw();
  const plane = pointsSeq;
  try {
    const p = await api(`/api/point?i=${i}&${state.projQuery}`);
    if (seq !== selectSeq) return;
    state.point = p;
    // An ellipse for a plane since replaced is not drawn (changeProjection fetches the new one).
    state.ellipse = plane === pointsSeq ? p.ellipse : null;
    showPoint(p);
    hook.detailsFor = i;
    scheduleDraw();
    setStatus(`selected datapoint #${i}`);
    await loadNeighbours(i, seq);
  } catch (e) {
    if (seq === selectSeq) reportError(e);
  }
}

function showPoint(p) {
  const parts = [`#${p.index}`];
  if (p.label !== null && p.label !== undefined) parts.push(`label ${p.label}`);
  if (p.cluster !== null && p.cluster !== undefined) parts.push(`cluster ${p.cluster}`);
  $('selected-title').textContent = parts.join(' \u00b7 ');
  $('selected-title').className = 'selected-title';
  showSingle('input', p.input.values);
  showSingle('reconstruction', p.reconstruction.values);
  hook.lastReconstruction = p.reconstruction.values;

  // The posterior q(z|x): mean and standard deviation per dimension.
  const table = el('table', { class: 'posterior' }, [
    el('tr', {}, [el('th', { text: '' }), el('th', { text: 'mean' }), el('th', { text: 'sigma' })]),
  ]);
  p.mean.forEach((m, k) => table.append(el('tr', {}, [
    el('th', { text: `z${k}` }), el('td', { text: fmt(m) }), el('td', { text: fmt(p.sigma[k]) }),
  ])));
  $('point-details').replaceChildren(el('div', { class: 'details-title', text: 'q(z|x)' }), table);

  const probs = $('probabilities');
  probs.hidden = !p.probabilities;
  if (p.probabilities) {
    const best = p.probabilities.indexOf(Math.max(...p.probabilities));
    probs.replaceChildren(el('div', { class: 'details-title', text: 'q(y|x)' }), ...p.probabilities.map((q, k) =>
      el('div', { class: 'bar-row' + (k === best ? ' best' : '') }, [
        el('span', { class: 'bar-label', text: String(k) }),
        el('span', { class: 'bar' }, [el('span', { style: `width:${(100 * q).toFixed(1)}%;background:${colourOf(k)}` })]),
        el('span', { class: 'bar-value', text: q.toFixed(3) }),
      ])));
  }
  $('set-a').disabled = false;
  $('set-b').disabled = false;
  startTraverse(p);
}

async function loadNeighbours(i, seq) {
  const box = $('neighbours');
  const reply = await api(`/api/neighbours?i=${i}&k=${NEIGHBOURS}`);
  if (seq !== selectSeq) return;
  state.neighbours = reply.neighbours.map((n) => n.index);
  scheduleDraw();
  // The reply has no images: fetch each neighbour's input.
  const points = await Promise.all(reply.neighbours.map((n) => api(`/api/point?i=${n.index}`)));
  if (seq !== selectSeq) return;
  fillStrip(box, reply.neighbours.map((n, k) => {
    const label = n.label === null || n.label === undefined ? '' : ` \u00b7 ${n.label}`;
    return { values: points[k].input.values, caption: `#${n.index}${label}\nd ${fmt(n.distance)}`, onClick: () => select(n.index) };
  }));
  hook.neighboursFor = i;
}

// ---------------------------------------------------------------------------------------
// Traverse: one slider per latent dimension

const traverseDecoder = coalescedDecoder((z, values) => {
  showSingle('traverse', values);
  hook.lastTraverse = { z, values };
});

const round2 = (x) => Number(x.toFixed(2));

function buildSliders(d) {
  const box = $('sliders');
  for (let k = 0; k < d; k++) {
    const input = el('input', { type: 'range', id: `slider-${k}`, min: '-4', max: '4', step: '0.01', value: '0' });
    const out = el('output', { class: 'slider-value', text: '0.00' });
    input.addEventListener('input', () => {
      state.traverseZ[k] = Number(input.value);
      out.textContent = fmt(state.traverseZ[k], 2);
      traverseDecoder.request(state.traverseZ.slice());
    });
    box.append(el('div', { class: 'slider-row' }, [el('label', { for: input.id, text: `z${k}` }), input, out]));
  }
  state.traverseZ = new Array(d).fill(0);
}

// Places the sliders at `center` (range center +- 3) or, with none, at 0 in [-4, 4].
function placeSliders(center) {
  const d = state.info.latent;
  for (let k = 0; k < d; k++) {
    const input = $(`slider-${k}`);
    const c = center ? center[k] : 0;
    input.min = String(center ? round2(Math.floor((c - 3) * 100) / 100) : -4);
    input.max = String(center ? round2(Math.ceil((c + 3) * 100) / 100) : 4);
    input.value = String(c);
    input.nextElementSibling.textContent = fmt(c, 2);
  }
}

// A new selection: the sliders start at its mean, whose decode is its reconstruction.
function startTraverse(p) {
  traverseDecoder.cancel();
  placeSliders(p.mean);
  state.traverseZ = p.mean.slice();
  showSingle('traverse', p.reconstruction.values);
  hook.lastTraverse = { z: p.mean.slice(), values: p.reconstruction.values };
}

function resetTraverse() {
  if (state.point) { startTraverse(state.point); return; }
  traverseDecoder.cancel();
  placeSliders(null);
  state.traverseZ = new Array(state.info.latent).fill(0);
  traverseDecoder.request(state.traverseZ.slice());
}

// ---------------------------------------------------------------------------------------
// Interpolation between two datapoints' posterior means

function setEnd(which) {
  if (state.selected === null) return;
  state[which] = state.selected;
  const show = (i) => (i === null ? '\u2013' : `#${i}`);
  $('ab').textContent = `A: ${show(state.a)}  B: ${show(state.b)}`;
  scheduleDraw();
}

async function runInterpolation() {
  if (state.a === null || state.b === null) {
    setStatus('error: choose A and B first (select a point, then "set as A" / "set as B")', 'error');
    return;
  }
  // The steps go to the server as typed: it checks the range and says what is wrong.
  const body = { a: state.a, b: state.b, steps: Number($('steps').value), mode: $('mode').value };
  const box = $('interpolation');
  try {
    const reply = await api('/api/interpolate', body);
    const n = reply.images.length;
    fillStrip(box, reply.images.map((image, k) => {
      const caption = k === 0 ? `A #${body.a}` : k === n - 1 ? `B #${body.b}` : `${k}/${n - 1}`;
      return { values: image.values, caption };
    }));
    hook.lastInterpolation = { ...body, z: reply.z, images: reply.images.map((image) => image.values) };
    setStatus(`interpolated #${body.a} to #${body.b}: ${n} steps, ${body.mode}`);
  } catch (e) {
    reportError(e);
  }
}

// ---------------------------------------------------------------------------------------
// Panels that depend on the model: header, notes, manifold, cluster samples

function renderHeader(info) {
  $('model-name').textContent = info.model;
  document.title = `aevb explore \u00b7 ${info.model}`;
  const img = info.image;
  const shape = img ? `${img.width}\u00d7${img.height}${img.channels > 1 ? `\u00d7${img.channels}` : ''} images` : `${info.input_dim} values (not images)`;
  const items = [
    ['family', info.family],
    ['latent', String(info.latent)],
    ['input', shape],
    ['data', info.data],
    ['datapoints', String(info.count)],
  ];
  if (info.clusters > 0) items.push(['clusters', String(info.clusters)]);
  $('meta').replaceChildren(...items.map(([k, v]) => el('span', { class: 'meta-item' }, [
    el('span', { class: 'meta-key', text: k }), el('span', { class: 'meta-value', text: v })])));
}

function renderNotes(info) {
  const notes = info.notes || [];
  $('notes').replaceChildren(notes.length
    ? el('ul', {}, notes.map((n) => el('li', { text: n })))
    : el('p', { class: 'muted', text: 'Nothing to note: every panel applies to this model.' }));
}

async function loadManifold() {
  $('manifold-card').hidden = false;
  if (!state.info.image) {
    $('manifold-hint').textContent = 'The decoded grid needs image data.';
    $('manifold').hidden = true;
    return;
  }
  const reply = await api(`/api/grid?n=${GRID_N}`);
  const canvas = $('manifold');
  // The whole grid near 440 CSS px (15 MNIST tiles: native size).
  const scale = Math.max(1, Math.round(440 / (reply.n * Math.max(state.info.image.width, state.info.image.height))));
  paintTiles(canvas, reply.images.map((image) => image.values), reply.n, scale);
  const z = reply.z;
  const corner = (p) => `(${fmt(p[0], 2)}, ${fmt(p[1], 2)})`;
  $('manifold-hint').textContent = `E[x|z] on a ${reply.n}\u00d7${reply.n} grid: z0 grows to the right, z1 upwards; ` +
    `top left ${corner(z[0])}, bottom right ${corner(z[z.length - 1])}.`;
}

async function loadClusterSamples() {
  $('clusters-card').hidden = false;
  const box = $('cluster-samples');
  if (!state.info.image) {
    box.textContent = 'Samples per cluster need image data.';
    return;
  }
  const reply = await api(`/api/cluster_samples?n=${CLUSTER_SAMPLES}`);
  box.replaceChildren(...reply.samples.map((row, k) => {
    const canvas = el('canvas', { class: 'img' });
    paintTiles(canvas, row.map((image) => image.values), row.length, scaleFor(THUMB_PX));
    return el('div', { class: 'cluster-row' }, [
      el('span', { class: 'cluster-label' }, [el('span', { class: 'swatch', style: `background:${colourOf(k)}` }),
        document.createTextNode(`cluster ${k}`)]),
      canvas,
    ]);
  }));
}

// ---------------------------------------------------------------------------------------

async function init() {
  try {
    const info = await api('/api/info');
    state.info = info;
    hook.info = info;
    renderHeader(info);
    renderNotes(info);
    blankImages();
    setupControls(info);
    buildSliders(info.latent);
    await loadPoints('');
    hook.ready = true;
    setStatus(`${info.count} datapoints: hover the scatter to decode, click to select`);
    traverseDecoder.request(state.traverseZ.slice());  // the prior mean until a selection
    // Independent panels: a failure in one is reported and leaves the others working.
    if (info.manifold) loadManifold().catch(reportError);
    if (info.clusters > 0) loadClusterSamples().catch(reportError);
  } catch (e) {
    reportError(e);
  }
}

init();
