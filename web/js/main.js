// The web client's entry: sign in, then the map with its panel.
import { T } from './strings.js';
import { currentSession, login, logout, problemText } from './auth.js';
import { createMap } from './map.js';
import { getJson, send } from './api.js';
import { setupReport } from './report.js';
import { setupPlan } from './plan.js';

const $ = (id) => document.getElementById(id);
const text = (id, s) => { $(id).textContent = s; };
let controller = null;

for (const [id, s] of [
  ['title', T.appTitle], ['subtitle', T.appSubtitle], ['login-heading', T.loginHeading],
  ['username-label', T.username], ['password-label', T.password], ['login-button', T.loginButton],
  ['links-heading', T.links], ['link-collections', T.linkCollections], ['link-api', T.linkApi],
  ['qgis-hint', T.qgisHint], ['url', location.origin], ['map-heading', T.mapHeading],
  ['time-heading', T.timeWindow], ['layers-heading', T.layersPanel], ['logout-button', T.logoutButton],
  ['filters-heading', T.filtersHeading], ['report-button', T.reportButton],
  ['export-button', T.exportButton], ['export-heading', T.export.heading], ['export-title-label', T.export.title],
  ['export-audience-label', T.export.audience], ['export-area-label', T.export.area], ['export-pack-label', T.export.pack],
  ['export-paper-label', T.export.paper], ['export-orientation-label', T.export.orientation],
  ['export-format-label', T.export.format], ['export-dpi-label', T.export.dpi], ['export-submit', T.export.submit],
  ['plan-button', T.planButton], ['plan-edit-label', T.plan.editRoute], ['plan-heading', T.plan.heading], ['plan-draw', T.plan.draw],
  ['plan-undo', T.plan.undo], ['plan-clear', T.plan.clear], ['plan-name-label', T.plan.name],
  ['plan-kind-label', T.plan.kind], ['plan-weekdays-label', T.plan.weekdays], ['plan-start-label', T.plan.start],
  ['plan-end-label', T.plan.end], ['plan-description-label', T.plan.description], ['plan-save', T.plan.save],
  ['walk-heading', T.plan.walkHeading], ['walk-route-label', T.plan.walkRoute], ['walk-start-label', T.plan.walkStart],
  ['walk-end-label', T.plan.walkEnd], ['walk-walkers-label', T.plan.walkWalkers], ['walk-report-label', T.plan.walkReport],
  ['walk-save', T.plan.walkSave],
  ['report-heading', T.report.heading], ['report-category-label', T.report.category],
  ['report-severity-label', T.report.severity], ['report-description-label', T.report.description],
  ['report-pick', T.report.pick], ['report-here', T.report.here], ['report-submit', T.report.submit], ['meeting-button', T.meetingButton], ['meeting-hint', T.meetingHint], ['since-label', T.sinceLabel],
]) text(id, s);
document.title = T.appTitle;

function swatch(color, kind = '') {
  const s = document.createElement('span');
  s.className = `swatch ${kind}`;
  s.style.background = color;
  return s;
}

function legendFor(layer, symbols, grant) {
  const ul = document.createElement('ul');
  ul.className = 'legend';
  if (grant === 'aggregate') {
    const steps = symbols.aggregate.steps;
    steps.forEach((n, i) => {
      const li = document.createElement('li');
      const sw = swatch(symbols.aggregate.color, 'cell');
      sw.style.opacity = String(0.35 + (0.55 * i) / (steps.length - 1));
      const upper = steps[i + 1] ? `–${steps[i + 1] - 1}` : '+';
      li.append(sw, document.createTextNode(`${n}${upper}`));
      ul.append(li);
    });
    return ul;
  }
  const entries = (colors, kind) => Object.entries(colors).forEach(([k, c]) => {
    const li = document.createElement('li');
    li.append(swatch(c, kind), document.createTextNode(T.values[k] ?? k));
    ul.append(li);
  });
  if (layer === 'incidents') entries(symbols.incidents.colors);
  if (layer === 'risk_environments') {
    entries(symbols.risk_environments.colors);
    const li = document.createElement('li');
    li.append(swatch(symbols.risk_environments.colors.medium, 'stale'), document.createTextNode(T.stale));
    ul.append(li);
  }
  if (layer === 'cameras') entries(symbols.cameras.colors);
  if (layer === 'patrol_routes') entries(symbols.patrol_routes.colors, 'line');
  return ul;
}

/** Category, organisation and status filters for incidents (only what the role can see). */
async function buildFilters(c) {
  const box = $('filter-boxes');
  box.replaceChildren();
  const g = c.grant('incidents');
  if (g !== 'exact' && g !== 'coarse') { $('filters').hidden = true; return; }
  const groups = [['categories', 'category', T.filterCategory]];
  if (g === 'exact') groups.push(['organisations', 'organisation', T.filterOrganisation], ['statuses', 'status', T.filterStatus]);
  for (const [kind, prop, title] of groups) {
    const values = prop === 'category' ? Object.keys(c.symbols.incidents.colors) : await c.valuesOf(prop);
    const fieldset = document.createElement('fieldset');
    const legend = document.createElement('legend');
    legend.textContent = title;
    fieldset.append(legend);
    for (const v of values) {
      const label = document.createElement('label');
      const input = document.createElement('input');
      input.type = 'checkbox';
      input.value = v;
      input.dataset.filter = kind;
      input.checked = c.view[kind].has(v);
      input.onchange = () => c.setFilter(kind,
        [...fieldset.querySelectorAll('input:checked')].map((i) => i.value));
      label.append(input, document.createTextNode(T.values[v] ?? v));
      fieldset.append(label);
    }
    box.append(fieldset);
  }
}

let reporter = null;
function buildReport(me, c) {
  const may = me.layers.incidents?.create && me.layers.incidents.create !== 'none';
  $('report-button').hidden = !may;
  if (!may || reporter) return;
  $('report-category').replaceChildren(...Object.keys(c.symbols.incidents.colors).map((k) => {
    const o = document.createElement('option');
    o.value = k; o.textContent = T.values[k] ?? k;
    return o;
  }));
  $('report-button').onclick = () => { $('report-panel').hidden = !$('report-panel').hidden; };
  reporter = setupReport({
    form: $('report-form'),
    list: $('report-log'),
    pickButton: $('report-pick'),
    hereButton: $('report-here'),
    position: $('report-position'),
    pickPoint: () => new Promise((resolve) => {
      c.map.getCanvas().style.cursor = 'crosshair';
      c.pickOnce((lngLat) => { c.map.getCanvas().style.cursor = ''; resolve([lngLat.lng, lngLat.lat]); });
    }),
  });
}

let planner = null;
function buildPlan(me, c) {
  const may = me.layers.patrol_routes?.create && me.layers.patrol_routes.create !== 'none';
  $('plan-button').hidden = !may;
  if (!may || planner) return;
  $('plan-kind').replaceChildren(...Object.keys(c.symbols.patrol_routes.colors).map((k) => {
    const o = document.createElement('option');
    o.value = k; o.textContent = T.values[k] ?? k;
    return o;
  }));
  const days = $('plan-weekdays');
  for (const [k, label] of Object.entries(T.plan.days)) {
    const l = document.createElement('label');
    const i = document.createElement('input');
    i.type = 'checkbox'; i.name = 'weekday'; i.value = k; i.checked = k === 'fri' || k === 'sat';
    l.append(i, document.createTextNode(label));
    days.append(l);
  }
  $('plan-button').onclick = async () => {
    $('plan-panel').hidden = !$('plan-panel').hidden;
    const mayLog = me.layers.walks?.create && me.layers.walks.create !== 'none';
    $('walk-form').hidden = !mayLog;
    if (!$('plan-panel').hidden && mayLog) {
      const routes = await c.map.getSource('patrol_routes').getData();
      $('walk-route').replaceChildren(...routes.features.map((f) => {
        const o = document.createElement('option');
        o.value = f.id; o.textContent = f.properties.name;
        return o;
      }));
    }
  };
  $('walk-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const data = new FormData($('walk-form'));
    const routes = await c.map.getSource('patrol_routes').getData();
    const route = routes.features.find((f) => f.id === data.get('route'));
    if (!route) return;
    try {
      await send('POST', '/collections/walks/items', {
        type: 'Feature',
        geometry: route.geometry,
        properties: {
          route_id: route.id,
          started_at: new Date(String(data.get('started'))).toISOString(),
          ended_at: new Date(String(data.get('ended'))).toISOString(),
          walkers: Number(data.get('walkers')),
          report: String(data.get('report') || ''),
        },
      });
      $('walk-result').textContent = T.plan.walkSaved;
      $('walk-result').className = 'note sent';
    } catch (msg) {
      $('walk-result').textContent = T.plan.refused(String(msg));
      $('walk-result').className = 'note failed';
    }
  });
  planner = setupPlan(c, me, {
    draw: $('plan-draw'), undo: $('plan-undo'), clear: $('plan-clear'), length: $('plan-length'),
    coverage: $('plan-coverage'), form: $('plan-form'), result: $('plan-result'), editSelect: $('plan-edit'),
  }) ?? true;
}

/** Exportera: a briefing map of the current view, made by the server. */
let exporter = false;
function buildExport(c) {
  $('export-button').onclick = () => {
    $('export-panel').hidden = !$('export-panel').hidden;
    const area = $('export-area');
    const current = area.value;
    const all = document.createElement('option');
    all.value = ''; all.textContent = T.export.allAreas;
    area.replaceChildren(all, ...c.areaNames().map((n) => {
      const o = document.createElement('option');
      o.value = n; o.textContent = n;
      return o;
    }));
    area.value = current;
  };
  if (exporter) return;
  exporter = true;
  const form = $('export-form');
  form.elements.title.value = T.export.defaultTitle;
  form.elements.audience.value = T.export.defaultAudience;
  $('export-orientation').replaceChildren(...[['landscape', T.export.landscape], ['portrait', T.export.portrait]].map(([v, t]) => {
    const o = document.createElement('option');
    o.value = v; o.textContent = t;
    return o;
  }));
  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    const f = form.elements;
    const format = f.format.value;
    const [from, to] = c.view.range ?? [isoDay(new Date(Date.now() - (c.view.days - 1) * 86400000)), isoDay(new Date())];
    const p = new URLSearchParams({
      title: f.title.value, audience: f.audience.value, paper: f.paper.value,
      orientation: f.orientation.value, from, to,
      layers: ['incidents', 'risk_environments', 'cameras', 'patrol_routes']
        .filter((l) => c.grant(l) !== 'none' && !c.view.hidden.has(l)).join(','),
    });
    if (c.view.categories.size) p.set('category', [...c.view.categories].join(','));
    if (format === 'png') p.set('dpi', f.dpi.value);
    if ($('export-pack').checked && format === 'pdf') p.set('pack', c.areaNames().join(','));
    else if (f.area.value) p.set('area', f.area.value);
    $('export-result').textContent = T.export.working;
    $('export-link').hidden = true;
    try {
      const r = await fetch(`/exports/briefing.${format}?${p}`, { credentials: 'same-origin' });
      if (!r.ok) throw await problemText(r);
      const blob = await r.blob();
      const name = `lagesbild-${to}.${format}`;
      const link = $('export-link');
      URL.revokeObjectURL(link.href);
      link.href = URL.createObjectURL(blob);
      link.download = name;
      link.textContent = T.export.open;
      link.hidden = false;
      $('export-result').textContent = T.export.done(name, Math.round(blob.size / 1024));
    } catch (msg) {
      $('export-result').textContent = String(msg);
    }
  });
}

function buildPanel(me, c) {
  buildFilters(c);
  buildExport(c);
  buildPlan(me, c);
  buildReport(me, c);
  const days = $('days');
  const custom = document.createElement('option');
  custom.value = 'custom'; custom.textContent = T.customRange; custom.selected = !!c.view.range;
  days.replaceChildren(...[7, 30, 90].map((n) => {
    const o = document.createElement('option');
    o.value = String(n); o.textContent = T.days(n); o.selected = !c.view.range && n === c.view.days;
    return o;
  }), custom);
  const showRange = () => { $('range').hidden = days.value !== 'custom'; };
  if (c.view.range) { $('from').value = c.view.range[0]; $('to').value = c.view.range[1]; }
  showRange();
  days.onchange = () => {
    showRange();
    if (days.value !== 'custom') c.setDays(Number(days.value));
  };
  const applyRange = () => {
    if ($('from').value && $('to').value && $('from').value <= $('to').value) c.setRange($('from').value, $('to').value);
  };
  $('from').onchange = applyRange;
  $('to').onchange = applyRange;
  $('play').onclick = () => playWeeks(c);
  const list = $('layer-list');
  list.replaceChildren();
  for (const layer of ['incidents', 'risk_environments', 'cameras', 'patrol_routes', 'areas']) {
    const g = c.grant(layer);
    if (g === 'none') continue;
    const li = document.createElement('li');
    const label = document.createElement('label');
    const box = document.createElement('input');
    box.type = 'checkbox'; box.checked = !c.view.hidden.has(layer); box.dataset.layer = layer;
    box.onchange = () => c.setVisible(layer, box.checked);
    label.append(box, document.createTextNode(T.layerNames[layer]));
    li.append(label);
    if (g === 'aggregate' || g === 'coarse') {
      const note = document.createElement('p');
      note.className = 'note';
      note.textContent = g === 'aggregate' ? T.aggregateNote : T.coarseNote;
      li.append(note);
    }
    li.append(legendFor(layer, c.symbols, g));
    list.append(li);
  }
  text('signed-in', T.signedInAs(me.user, me.roleLabel, me.organisation));
}

/** ISO 8601 week number of a date. */
function isoWeek(d) {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const first = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  return Math.ceil(((t - first) / 86400000 + 1) / 7);
}

const isoDay = (d) => d.toISOString().slice(0, 10);

/** The area panel: counts per category in the window against the previous equal window. */
async function showArea(name) {
  if (!controller) return;
  const days = controller.view.days;
  const now = new Date();
  const start = new Date(now - days * 86400000);
  const before = new Date(now - 2 * days * 86400000);
  const count = async (a, b) => {
    const fc = await getJson(`/collections/incidents/aggregate?by=area&datetime=${isoDay(a)}/${isoDay(b)}`);
    const out = { total: 0, categories: {} };
    for (const f of fc.features.filter((x) => x.properties.name === name)) {
      out.total += f.properties.count;
      for (const [c, n] of Object.entries(f.properties.categories)) out.categories[c] = (out.categories[c] ?? 0) + n;
    }
    return out;
  };
  $('area-panel').hidden = false;
  text('area-heading', T.areaHeading(name));
  text('area-period', T.areaPeriod(isoWeek(start), isoWeek(now), isoWeek(before), isoWeek(new Date(start - 86400000))));
  let current; let previous;
  try {
    [current, previous] = await Promise.all([count(start, now), count(before, start)]);
  } catch (msg) {
    text('status', String(msg));
    return;
  }
  const table = $('area-table');
  const head = document.createElement('tr');
  for (const h of T.areaColumns) { const th = document.createElement('th'); th.textContent = h; head.append(th); }
  const rows = [head];
  const cats = [...new Set([...Object.keys(current.categories), ...Object.keys(previous.categories)])];
  const row = (label, a, b) => {
    const tr = document.createElement('tr');
    const diff = a - b;
    const cells = [label, String(a), String(b), diff > 0 ? `+${diff}` : String(diff)];
    cells.forEach((c, i) => {
      const td = document.createElement('td');
      td.textContent = c;
      if (i > 0) td.className = 'num';
      if (i === 3 && diff !== 0) td.classList.add(diff > 0 ? 'up' : 'down');
      tr.append(td);
    });
    return tr;
  };
  for (const c of cats) rows.push(row(T.values[c] ?? c, current.categories[c] ?? 0, previous.categories[c] ?? 0));
  rows.push(row(T.areaTotal, current.total, previous.total));
  table.replaceChildren(...rows);
  if (current.total === 0 && previous.total === 0) text('area-period', T.areaNone);
}

/** Weekly playback: the last 12 ISO weeks one at a time, then back to the chosen window. */
let playing = null;
async function playWeeks(c) {
  if (playing) { clearTimeout(playing.timer); playing = null; text('play', T.play); text('playing', ''); await c.setDays(c.view.days); return; }
  const monday = (d) => { const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate())); t.setUTCDate(t.getUTCDate() - ((t.getUTCDay() + 6) % 7)); return t; };
  const start = monday(new Date(Date.now() - 11 * 7 * 86400000));
  const weeks = Array.from({ length: 12 }, (_, i) => new Date(start.getTime() + i * 7 * 86400000));
  const saved = c.view.range;
  playing = { i: 0 };
  text('play', T.stop);
  const step = async () => {
    if (!playing) return;
    const w = weeks[playing.i];
    const end = new Date(w.getTime() + 6 * 86400000);
    await c.setRange(isoDay(w), isoDay(end));
    text('playing', T.playingWeek(isoWeek(w), w.getUTCFullYear()));
    playing.i += 1;
    if (playing.i < weeks.length) playing.timer = setTimeout(step, 1500);
    else { playing = null; text('play', T.play); c.view.range = saved; }
  };
  step();
}

let meetingIndex = -1;
function stepArea(delta) {
  const names = controller?.areaNames() ?? [];
  if (!names.length) return;
  meetingIndex = (meetingIndex + delta + names.length) % names.length;
  controller.focusArea(names[meetingIndex]);
  showArea(names[meetingIndex]);
}

function setMeeting(on) {
  document.body.classList.toggle('meeting', on);
  controller?.setLarge(on);
  if (on) document.querySelectorAll('.maplibregl-popup-close-button').forEach((b) => b.click());
  text('meeting-button', on ? T.leaveMeeting : T.meetingButton);
  if (on) document.documentElement.requestFullscreen?.().catch(() => {});
  else if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  setTimeout(() => controller?.map.resize(), 50);
}

$('meeting-button').addEventListener('click', () => setMeeting(!document.body.classList.contains('meeting')));
document.addEventListener('keydown', (e) => {
  if (!document.body.classList.contains('meeting')) return;
  if (e.key === 'ArrowRight') stepArea(1);
  if (e.key === 'ArrowLeft') stepArea(-1);
  if (e.key === 'Escape') setMeeting(false);
});
$('since').addEventListener('change', async () => {
  if (!controller) return;
  if (controller.grant('incidents') !== 'exact') { text('since-counts', T.sinceNeedsExact); return; }
  const counts = await controller.showSince($('since').value);
  text('since-counts', $('since').value ? T.sinceCounts(counts) : '');
});

async function show(me) {
  $('login-view').hidden = !!me;
  $('app-view').hidden = !me;
  if (!me) { controller?.close(); controller = null; $('username').focus(); return; }
  text('status', T.loading);
  controller = await createMap($('map'), me, (msg) => text('status', msg), showArea);
  buildPanel(me, controller);
  text('status', '');
  window.lagesbild = { map: controller.map, controller, ready: true };
  document.body.dataset.ready = 'true';
}

$('login-form').addEventListener('submit', async (e) => {
  e.preventDefault();
  text('login-error', '');
  $('login-button').disabled = true; text('login-button', T.loggingIn);
  try {
    const me = await login($('username').value.trim(), $('password').value);
    $('password').value = '';
    await show(me);
  } catch (msg) {
    text('login-error', String(msg));
  } finally {
    $('login-button').disabled = false; text('login-button', T.loginButton);
  }
});
$('logout-button').addEventListener('click', async () => { await logout(); await show(null); });

currentSession().then(show).catch((msg) => { show(null); text('login-error', String(msg)); });
