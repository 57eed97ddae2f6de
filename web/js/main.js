// The web client's entry: sign in, then the map with its panel.
import { T } from './strings.js';
import { currentSession, login, logout } from './auth.js';
import { createMap } from './map.js';

const $ = (id) => document.getElementById(id);
const text = (id, s) => { $(id).textContent = s; };
let controller = null;

for (const [id, s] of [
  ['title', T.appTitle], ['subtitle', T.appSubtitle], ['login-heading', T.loginHeading],
  ['username-label', T.username], ['password-label', T.password], ['login-button', T.loginButton],
  ['links-heading', T.links], ['link-collections', T.linkCollections], ['link-api', T.linkApi],
  ['qgis-hint', T.qgisHint], ['url', location.origin], ['map-heading', T.mapHeading],
  ['time-heading', T.timeWindow], ['layers-heading', T.layersPanel], ['logout-button', T.logoutButton],
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

function buildPanel(me, c) {
  const days = $('days');
  days.replaceChildren(...[7, 30, 90].map((n) => {
    const o = document.createElement('option');
    o.value = String(n); o.textContent = T.days(n); o.selected = n === c.view.days;
    return o;
  }));
  days.onchange = () => c.setDays(Number(days.value));
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

async function show(me) {
  $('login-view').hidden = !!me;
  $('app-view').hidden = !me;
  if (!me) { controller?.close(); controller = null; $('username').focus(); return; }
  text('status', T.loading);
  controller = await createMap($('map'), me, (msg) => text('status', msg));
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
