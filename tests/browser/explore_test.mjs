// Headless-browser test of the page `aevb explore` serves: it drives the page as a user
// would (click a point, interpolate, move a slider) and checks what the page shows against
// `aevb decode` run on the same latent codes, to the float and to the pixel byte.
//
// Usage: node tests/browser/explore_test.mjs --url http://127.0.0.1:PORT/ --aevb PATH
//          --model MODEL --scratch DIR --screenshots DIR
// Prints one line per check ("ok: ..." or "FAIL: ..."); exits 0 only if every check passed.
// tests/browser/run.sh trains a tiny model, starts the server and runs this.
import { chromium } from 'playwright-core';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

const TOLERANCE = 1e-6;

function parseArgs(argv) {
  const wanted = ['url', 'aevb', 'model', 'scratch', 'screenshots'];
  const args = {};
  for (let k = 0; k < argv.length; k += 2) {
    const key = argv[k].replace(/^--/, '');
    if (!wanted.includes(key) || k + 1 >= argv.length) throw new Error(`unknown or incomplete option ${argv[k]}`);
    args[key] = argv[k + 1];
  }
  for (const key of wanted) if (!args[key]) throw new Error(`missing --${key} (usage: --url U --aevb A --model M --scratch D --screenshots D)`);
  return args;
}

let failures = 0;
function check(name, ok, detail = '') {
  console.log(`${ok ? 'ok' : 'FAIL'}: ${name}${detail ? ` (${detail})` : ''}`);
  if (!ok) failures++;
  return ok;
}

// The largest |a[k] - b[k]| (Infinity when the lengths differ).
function maxDiff(a, b) {
  if (!a || !b || a.length !== b.length) return Infinity;
  let m = 0;
  for (let k = 0; k < a.length; k++) m = Math.max(m, Math.abs(a[k] - b[k]));
  return m;
}

// A little-endian float32 NPY file: {shape, data}.
function readNpy(file) {
  const buf = fs.readFileSync(file);
  if (buf.toString('latin1', 0, 6) !== '\x93NUMPY') throw new Error(`${file}: not an NPY file`);
  const major = buf[6];
  const headerLen = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = major === 1 ? 10 : 12;
  const header = buf.toString('latin1', start, start + headerLen);
  const descr = /'descr':\s*'([^']*)'/.exec(header);
  const fortran = /'fortran_order':\s*(True|False)/.exec(header);
  const shape = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || descr[1] !== '<f4') throw new Error(`${file}: expected float32 '<f4', header ${header.trim()}`);
  if (!fortran || fortran[1] !== 'False') throw new Error(`${file}: expected C order, header ${header.trim()}`);
  if (!shape) throw new Error(`${file}: no shape in header ${header.trim()}`);
  const dims = shape[1].split(',').map((s) => s.trim()).filter((s) => s).map(Number);
  const count = dims.reduce((p, q) => p * q, 1);
  const offset = start + headerLen;
  if (buf.length < offset + 4 * count) throw new Error(`${file}: ${buf.length - offset} data bytes, expected ${4 * count}`);
  const data = new Float32Array(count);
  for (let k = 0; k < count; k++) data[k] = buf.readFloatLE(offset + 4 * k);
  return { shape: dims, data };
}

// The bytes the page must draw for image values (the contract's rule).
const toByte = (v) => (v <= 0 ? 0 : v >= 1 ? 255 : Math.round(v * 255));

async function main() {
  const args = parseArgs(process.argv.slice(2));
  fs.mkdirSync(args.scratch, { recursive: true });
  fs.mkdirSync(args.screenshots, { recursive: true });
  const base = new URL(args.url);
  const getJson = async (route) => {
    const reply = await fetch(new URL(route, base));
    const data = await reply.json();
    if (!reply.ok || data.error) throw new Error(`GET ${route}: HTTP ${reply.status} ${JSON.stringify(data)}`);
    return data;
  };

  // `aevb decode` of latent rows, through a CSV with 9 significant digits (exact for float32).
  let decodes = 0;
  const cliDecode = (rows) => {
    const name = `decode-${++decodes}`;
    const csv = path.join(args.scratch, `${name}.csv`);
    const npy = path.join(args.scratch, `${name}.npy`);
    fs.writeFileSync(csv, rows.map((z) => z.map((x) => x.toPrecision(9)).join(',')).join('\n') + '\n');
    execFileSync(args.aevb, ['decode', '--model', args.model, '--latents', csv, '--npy', npy, '--threads', '1'],
      { stdio: ['ignore', 'pipe', 'pipe'] });
    const { shape, data } = readNpy(npy);
    const width = shape[1];
    return rows.map((_, r) => Array.from(data.subarray(r * width, (r + 1) * width)));
  };

  const info = await getJson('/api/info');
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
      '--disable-component-update', '--disable-sync'],
  });
  try {
    const page = await browser.newPage({ viewport: { width: 1400, height: 1000 } });
    const pageErrors = [];
    page.on('pageerror', (e) => pageErrors.push(e.message));
    // Console errors too, but not the browser's note on the 400 this test provokes on purpose.
    page.on('console', (m) => {
      if (m.type() === 'error' && !m.text().startsWith('Failed to load resource')) pageErrors.push(m.text());
    });
    const hook = (fn, arg) => page.evaluate(fn, arg);
    // Waits until the page has no request out (API calls, hover and slider decodes).
    const settle = () => page.waitForFunction(() => window.aevbExplore.busy() === 0, null, { timeout: 20000 });

    await page.goto(args.url);
    await page.waitForFunction(() => window.aevbExplore && window.aevbExplore.ready === true, null, { timeout: 30000 });
    const drawn = await hook(() => document.getElementById('scatter').dataset.points);
    check('scatter draws every datapoint', Number(drawn) === info.count, `data-points ${drawn}, /api/info count ${info.count}`);
    check('header names the model', (await page.textContent('#model-name')).includes(info.model), info.model);

    // Clicks point i's dot; returns the index selected (i, or one drawn within 1 px of it).
    const clickPoint = async (i) => {
      const at = await hook((k) => window.aevbExplore.toScreen(k), i);
      await page.mouse.click(at.x, at.y);
      await page.waitForFunction(() => window.aevbExplore.selected !== null &&
        window.aevbExplore.detailsFor === window.aevbExplore.selected, null, { timeout: 20000 });
      const got = await hook(() => window.aevbExplore.selected);
      const there = await hook((k) => window.aevbExplore.toScreen(k), got);
      const off = Math.hypot(there.x - at.x, there.y - at.y);
      // Another point drawn on the same spot (within 1 px) may win the click: accept it.
      check(`click on point ${i} selects it`, got === i || off <= 1,
        got === i ? `selected ${got}` : `selected ${got}, drawn ${off.toFixed(2)} px away`);
      if (got !== i && off > 1) throw new Error(`clicking point ${i} selected ${got}`);
      return got;
    };

    // Hover: at most one decode in flight however fast the cursor moves, and the panel shows
    // the decode of the latent point under the cursor.
    const open = new Set();  // decode requests out now
    let mostOpen = 0;
    let hoverDecodes = 0;
    page.on('request', (r) => {
      if (!r.url().endsWith('/api/decode')) return;
      open.add(r);
      hoverDecodes++;
      mostOpen = Math.max(mostOpen, open.size);
    });
    page.on('requestfinished', (r) => open.delete(r));
    page.on('requestfailed', (r) => open.delete(r));
    await settle();
    hoverDecodes = 0;
    mostOpen = 0;
    const box = await page.locator('#scatter').boundingBox();
    for (let k = 0; k < 60; k++) await page.mouse.move(box.x + 40 + 8 * k, box.y + 60 + 7 * k);
    await settle();
    check('hover keeps at most one decode in flight', mostOpen === 1, `60 moves, ${hoverDecodes} decodes, at most ${mostOpen} at once`);
    const hover = await hook(() => window.aevbExplore.lastHover);
    const [wantHover] = cliDecode([hover.z]);
    const dHover = maxDiff(hover.values, wantHover);
    check('hover image equals aevb decode of its z', dHover <= TOLERANCE, `max |diff| ${dHover.toExponential(2)}`);

    // Selection and reconstruction
    const first = await clickPoint(3);
    await settle();
    const p1 = await getJson(`/api/point?i=${first}`);
    if (info.latent === 2) {
      // With two latent dimensions the plane is all of z: the inverse projection of a dot is
      // its mean exactly (what hover decodes there).
      const back = await hook((i) => { const a = window.aevbExplore; const s = a.toScreen(i); return a.fromScreen(s.x, s.y); }, first);
      const dBack = maxDiff(back, p1.mean);
      check('inverse projection of a dot gives its mean', dBack <= TOLERANCE, `max |diff| ${dBack.toExponential(2)}`);
    }
    const [want] = cliDecode([p1.mean]);
    const recon = await hook(() => window.aevbExplore.lastReconstruction);
    const dRecon = maxDiff(recon, want);
    check('reconstruction values equal aevb decode of the mean', dRecon <= TOLERANCE, `max |diff| ${dRecon.toExponential(2)} over ${want.length} values`);
    if (info.image) {
      const { height: H, width: W, channels: C } = info.image;
      const canvas = await hook(() => {
        const c = document.getElementById('reconstruction');
        return { w: c.width, h: c.height, rgba: Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data) };
      });
      let bad = 0;
      let firstBad = '';
      if (canvas.w === W && canvas.h === H) {
        for (let p = 0; p < H * W; p++) {
          for (let ch = 0; ch < (C >= 3 ? 3 : 1); ch++) {
            const expected = toByte(want[ch * H * W + p]);
            const got = canvas.rgba[4 * p + ch];
            if (got !== expected) {
              if (!bad) firstBad = `pixel ${p} channel ${ch}: ${got}, expected ${expected}`;
              bad++;
            }
          }
        }
      }
      check('reconstruction canvas bytes equal the decoded values drawn', canvas.w === W && canvas.h === H && bad === 0,
        canvas.w === W && canvas.h === H ? (bad ? `${bad} differ; first ${firstBad}` : `${W}x${H}, every pixel`) : `canvas ${canvas.w}x${canvas.h}, image ${W}x${H}`);
    }
    await page.waitForFunction((i) => window.aevbExplore.neighboursFor === i, first, { timeout: 20000 });
    const tiles = await page.locator('#neighbours figure').count();
    check('8 nearest neighbours shown', tiles === 8, `${tiles} tiles`);

    // A server error reaches the status line: steps outside 2..64 are the server's to refuse.
    await page.click('#set-a');
    await page.click('#set-b');
    await page.fill('#steps', '65');
    await page.click('#run-interpolation');
    const shown = await page.waitForFunction(() => document.getElementById('status').classList.contains('error'), null,
      { timeout: 10000 }).then(() => true, () => false);
    check('a server error (steps 65) is shown in the status line', shown, (await page.textContent('#status')).trim());

    // Interpolation: A = the first selection, B = another point, 7 steps of slerp
    await page.click('#set-a');
    const second = await clickPoint(first === 10 ? 11 : 10);
    await settle();
    await page.click('#set-b');
    const ab = (await page.textContent('#ab')).replace(/\s+/g, ' ').trim();
    check('A and B shown', ab.includes(`#${first}`) && ab.includes(`#${second}`), ab);
    await page.fill('#steps', '7');
    await page.selectOption('#mode', 'slerp');
    await page.click('#run-interpolation');
    await page.waitForFunction(() => {
      const it = window.aevbExplore.lastInterpolation;
      return it && it.z.length === 7 && it.mode === 'slerp';
    }, null, { timeout: 20000 });
    const strip = await page.locator(info.image ? '#interpolation canvas' : '#interpolation figure').count();
    check('interpolation strip has 7 images', strip === 7, `${strip} ${info.image ? 'canvases' : 'tiles'}`);
    const p2 = await getJson(`/api/point?i=${second}`);
    const interp = await hook(() => window.aevbExplore.lastInterpolation);
    const dA = maxDiff(interp.z[0], p1.mean);
    const dB = maxDiff(interp.z[interp.z.length - 1], p2.mean);
    check('interpolation starts at mean of A and ends at mean of B', dA <= TOLERANCE && dB <= TOLERANCE,
      `A #${first} ${dA.toExponential(2)}, B #${second} ${dB.toExponential(2)}`);
    check('status line clear after a successful run', !(await page.locator('#status.error').count()), (await page.textContent('#status')).trim());

    // Traverse: move slider 0 by about +1.23 from the selected mean
    const slid = await hook(() => {
      const s = document.getElementById('slider-0');
      const target = Math.min(Number(s.max), Number(s.value) + 1.23);
      s.value = String(target);
      s.dispatchEvent(new Event('input', { bubbles: true }));
      s.dispatchEvent(new Event('change', { bubbles: true }));
      return Number(s.value);
    });
    await page.waitForFunction((v) => {
      const t = window.aevbExplore.lastTraverse;
      return t && t.z[0] === v;
    }, slid, { timeout: 20000 });
    await settle();
    const trav = await hook(() => window.aevbExplore.lastTraverse);
    check('traverse z[0] equals slider-0', trav.z[0] === slid, `z[0] ${trav.z[0]}, slider ${slid}`);
    const [wantT] = cliDecode([trav.z]);
    const dT = maxDiff(trav.values, wantT);
    check('traverse values equal aevb decode of its z', dT <= TOLERANCE, `max |diff| ${dT.toExponential(2)}`);

    if (info.manifold) {
      await page.waitForFunction(() => document.getElementById('manifold').width > 0 && window.aevbExplore.busy() === 0, null, { timeout: 20000 });
      const m = await hook(() => [document.getElementById('manifold').width, document.getElementById('manifold').height]);
      const W = info.image ? info.image.width * 15 : 0;
      check('manifold grid drawn', !info.image || m[0] === W, `canvas ${m[0]}x${m[1]}`);
    }

    // Screenshots for the docs: the page after selection and interpolation, and the scatter.
    await page.mouse.move(5, 995);  // the cursor off the scatter
    await settle();
    await page.evaluate(() => window.scrollTo(0, 0));
    const overview = path.join(args.screenshots, 'explore-overview.png');
    const scatterShot = path.join(args.screenshots, 'explore-scatter.png');
    await page.screenshot({ path: overview, fullPage: true });
    await page.locator('#scatter').screenshot({ path: scatterShot });
    check('screenshots written', fs.existsSync(overview) && fs.existsSync(scatterShot), `${overview}, ${scatterShot}`);
    check('no script errors on the page', pageErrors.length === 0, pageErrors.slice(0, 3).join(' | '));
  } finally {
    await browser.close();
  }
}

try {
  await main();
} catch (e) {
  console.log(`FAIL: ${e && e.stack ? e.stack : e}`);
  process.exit(1);
}
process.exit(failures ? 1 : 0);
