// The weekly agenda in meeting mode: area by area in the order the coordinator set, counts
// against the previous window and last year, what changed since the last meeting, measures due,
// walks planned against logged, stale markings and broken cameras. Roles that hold the meeting
// keep its record here: start it, create a measure from the map, mark one done (and see its
// follow-up), make the lägesbild document, close the meeting.
import { T } from './strings.js';
import { $, text, option } from './dom.js';
import { getJson, send } from './api.js';
import { csrf, problemText } from './auth.js';
import { app } from './state.js';

const A = T.agenda;
const today = () => new Date().toISOString().slice(0, 10);
const shown = (n) => (n === null || n === undefined ? '–' : String(n));

function el(tag, cls, content) {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (content !== undefined) e.textContent = content;
  return e;
}

/** Loads the agenda of this week (once per meeting). */
export async function loadAgenda() {
  app.agenda = await getJson('/meetings/agenda');
  const a = app.agenda;
  text('agenda-heading', A.heading(a.week, a.window_weeks));
  text('agenda-since', a.since.meeting ? A.since(a.since.meeting_week, a.since.at.slice(0, 10)) : A.sinceNone(a.since.at.slice(0, 10)));
  text('agenda-not-shown', a.not_shown.length ? A.notShown(a.not_shown.map((l) => T.layerNames[l] ?? l).join(', ')) : '');
  text('agenda-held-back', a.counts_rule ? A.heldBack : '');
  return a;
}

/** The names of the agenda's areas, in its order. */
export const agendaNames = () => app.agenda?.areas.map((a) => a.name) ?? [];

function list(title, items, render) {
  if (!items.length) return null;
  const box = el('div', 'agenda-list');
  box.append(el('h4', null, title));
  const ul = el('ul');
  for (const item of items) ul.append(render(item));
  box.append(ul);
  return box;
}

/** Shows the agenda's part for area number `index`. */
export function showAgendaArea(index) {
  const a = app.agenda?.areas[index];
  if (!a) return;
  $('agenda-panel').dataset.area = a.name;
  text('agenda-area', a.name);
  text('agenda-position', A.position(index + 1, app.agenda.areas.length));
  const table = $('agenda-counts');
  table.replaceChildren();
  const head = el('tr');
  for (const h of A.columns) head.append(el('th', null, h));
  table.append(head);
  if (!a.counted) {
    const tr = el('tr'); const td = el('td', null, A.notCounted); td.colSpan = 5; tr.append(td); table.append(tr);
  }
  for (const c of a.counts) {
    const tr = el('tr');
    tr.append(el('td', null, T.values[c.category] ?? c.category));
    for (const k of ['week', 'window', 'previous', 'last_year']) tr.append(el('td', 'num', shown(c[k])));
    table.append(tr);
  }
  const lists = [
    list(A.changes, a.since_last_meeting, (n) => el('li', null, `${A.change[n.change]}: ${T.layerNames[n.layer]} – ${T.values[n.label] ?? n.label}`)),
    list(A.due, a.measures_due, (m) => {
      const li = el('li', m.overdue ? 'overdue' : null, `${m.title} (${m.owner}) – ${A.dueOn(m.due)}${m.overdue ? ` · ${A.overdue}` : ''}`);
      if (app.mayHold) {
        // A proposal is decided first: a measure cannot be done before a meeting decided it.
        const proposed = m.status === 'proposed';
        const b = el('button', proposed ? 'decide-button' : 'done-button', proposed ? A.decideProposed : A.markDone);
        b.type = 'button';
        b.dataset.measure = m.id;
        b.addEventListener('click', () => (proposed ? decideProposed(m) : markDone(m)));
        li.append(' ', b);
      }
      return li;
    }),
    list(A.walks, a.walks, (r) => el('li', null, A.walk(r.name, r.weekdays.map((d) => T.plan.days[d]).join(' '), r.hours, r.planned, shown(r.logged)) + (r.score ? ` ${A.routeScore(r.score)}` : ''))),
    a.camera_coverage && a.camera_coverage.incidents > 0
      ? el('p', 'note', A.coverage(a.camera_coverage))
      : null,
    list(A.zones, a.near_repeat_zones, (z) => el('li', 'zone', A.zone(T.values[z.category] ?? z.category, z.radius_m, z.until.slice(0, 10)))),
    list(A.emerging, a.emerging, (e) => el('li', `pattern-${e.pattern}`, `${A.patterns[e.pattern] ?? e.pattern} (${e.cell})`)),
    list(A.hot, a.hot_cells.slice(0, 6), (c) => el('li', null, `${T.values[c.category] ?? c.category}: ${c.count} (${c.cell})`)),
    list(A.stale, a.risk_environments_past_review, (r) => el('li', null, `${T.values[r.label] ?? r.label} – ${A.reviewBy(r.next_review)}`)),
    list(A.cameras, a.cameras_out_of_order, (c) => el('li', null, T.values[c.label] ?? c.label)),
    list(A.camerasPastReview, a.cameras_past_review, (c) => el('li', null, `${T.values[c.label] ?? c.label} – ${A.reviewBy(c.next_review)}`)),
  ].filter(Boolean);
  $('agenda-lists').replaceChildren(...(lists.length ? lists : [el('p', 'note', A.nothing)]));
}

/** Reads the agenda again after a decision and shows the same area. */
async function refresh() {
  await loadAgenda();
  showAgendaArea(Math.max(0, app.meetingIndex));
}

async function withVersion(path) {
  const r = await fetch(path, { credentials: 'same-origin' });
  if (!r.ok) throw await problemText(r);
  const version = (r.headers.get('etag') ?? '').replaceAll('"', '');
  return { body: await r.json(), version };
}

/** The meeting's record this week: an open one if there is one, else a new one. */
async function startRecord() {
  const week = app.agenda.week;
  const { meetings } = await getJson('/meetings?limit=20');
  let m = meetings.find((x) => x.week === week && !x.closed_at);
  if (!m) {
    m = await send('POST', '/meetings', { week, held_on: today(), organisations: [app.me.organisation] },
      { 'content-type': 'application/json' });
  }
  app.meeting = m;
  text('meeting-status', A.recording(week, m.decisions.length));
  $('meeting-close').hidden = false;
  $('measure-form').hidden = false;
}

/** Records a decision on the open meeting's record. */
async function decide(measure, change) {
  if (!app.meeting) return;
  const m = app.meeting;
  const decisions = [...m.decisions, { measure, change }];
  app.meeting = await send('PATCH', `/meetings/${m.id}`, { decisions },
    { 'content-type': 'application/merge-patch+json', 'if-match': `"${m.version}"` });
  text('meeting-status', A.recording(m.week, app.meeting.decisions.length));
}

/** Changes a measure's `properties` (a merge patch on its current version). */
async function patchMeasure(id, properties) {
  const path = `/collections/measures/items/${id}`;
  const { version } = await withVersion(path);
  await send('PATCH', path, { properties }, { 'content-type': 'application/merge-patch+json', 'if-match': `"${version}"` });
}

/** Decides a proposed measure at this meeting (its week), recorded as a newly decided measure;
 * only while the meeting's record is open, so that nothing is decided off the record. */
async function decideProposed(m) {
  if (!app.meeting || app.meeting.closed_at) { text('measure-result', A.decideNeedsRecord); return; }
  try {
    await patchMeasure(m.id, { status: 'decided', decided_at: app.agenda.week });
    await decide(m.id, 'created');
    text('measure-result', A.decidedSaved(m.title));
    await refresh();
  } catch (msg) {
    text('measure-result', String(msg));
  }
}

async function markDone(m) {
  try {
    await patchMeasure(m.id, { status: 'done', end: today() });
    await decide(m.id, 'closed');
    text('measure-result', A.doneSaved(m.title));
    await refresh();
    const f = await getJson(`/collections/measures/items/${m.id}/follow-up`);
    text('follow-up', A.followUp(m.title, f.area, f.counts.before, f.counts.after, f.verdictText));
  } catch (msg) {
    text('follow-up', String(msg));
  }
}

function buildMeasureForm(c) {
  const f = $('measure-form');
  $('measure-kind').replaceChildren(...['situational', 'social', 'enforcement', 'other'].map((k) => option(k, T.values[k] ?? k)));
  $('measure-bone').replaceChildren(...['place', 'offender', 'victim'].map((k) => option(k, A.bones[k])));
  $('measure-categories').replaceChildren(...Object.keys(c.symbols.incidents.colors).map((k) => option(k, T.values[k] ?? k)));
  let point = null;
  $('measure-pick').addEventListener('click', () => {
    text('measure-position', T.report.tapMap);
    c.map.getCanvas().style.cursor = 'crosshair';
    c.pickOnce((lngLat) => {
      c.map.getCanvas().style.cursor = '';
      point = [lngLat.lng, lngLat.lat];
      text('measure-position', T.report.at(point[1].toFixed(5), point[0].toFixed(5)));
    });
  });
  f.addEventListener('submit', async (e) => {
    e.preventDefault();
    if (!point) { text('measure-result', T.report.noPoint); return; }
    const el2 = f.elements;
    const categories = [...$('measure-categories').selectedOptions].map((o) => o.value);
    const body = {
      type: 'Feature',
      geometry: { type: 'Point', coordinates: point },
      properties: {
        title: el2.title.value, kind: el2.kind.value,
        cause: { bone: el2.bone.value, text: el2.cause.value },
        owner: el2.owner.value, status: 'decided', decided_at: app.agenda.week,
        start: today(), horizon: 'short', target_categories: categories,
        organisation: app.me.organisation, classification: 'internal',
        ...(el2.due.value ? { due: el2.due.value } : {}),
      },
    };
    try {
      const created = await send('POST', '/collections/measures/items', body);
      await decide(created.id, 'created');
      text('measure-result', A.created(el2.title.value));
      await refresh();
      f.reset(); point = null; text('measure-position', '');
    } catch (msg) {
      text('measure-result', String(msg));
    }
  });
}

async function makeLagesbild() {
  text('lagesbild-result', T.export.working);
  $('lagesbild-link').hidden = true;
  try {
    const r = await fetch('/exports/lagesbild.pdf', { credentials: 'same-origin' });
    if (!r.ok) throw await problemText(r);
    const blob = await r.blob();
    const link = $('lagesbild-link');
    URL.revokeObjectURL(link.href);
    link.href = URL.createObjectURL(blob);
    link.download = `lagesbild-dokument-${today()}.pdf`;
    link.textContent = T.export.open;
    link.hidden = false;
    text('lagesbild-result', T.export.done(link.download, Math.round(blob.size / 1024)));
  } catch (msg) {
    text('lagesbild-result', String(msg));
  }
}

/** Wires the agenda panel once signed in. */
export function buildAgenda(me, c) {
  app.me = me;
  app.mayHold = me.layers.measures?.create === 'all';
  const reads = me.layers.measures?.read === 'exact';
  $('agenda-panel').hidden = !reads;
  $('agenda-record').hidden = !app.mayHold;
  if (app.agendaBuilt) return;
  app.agendaBuilt = true;
  for (const [id, s] of [['agenda-prev', A.prev], ['agenda-next', A.next], ['meeting-start', A.start],
    ['meeting-close', A.close], ['lagesbild-button', A.lagesbild], ['measure-heading', A.newMeasure],
    ['measure-title-label', T.fields.title], ['measure-kind-label', T.fields.kind], ['measure-bone-label', A.bone],
    ['measure-cause-label', T.fields.cause], ['measure-owner-label', T.fields.owner],
    ['measure-categories-label', T.fields.target_categories], ['measure-due-label', T.fields.due],
    ['measure-pick', T.report.pick], ['measure-submit', A.saveMeasure]]) text(id, s);
  $('meeting-start').addEventListener('click', () => startRecord().catch((msg) => text('meeting-status', String(msg))));
  $('meeting-close').addEventListener('click', async () => {
    try {
      const m = app.meeting;
      app.meeting = await send('POST', `/meetings/${m.id}/close`, undefined, { 'if-match': `"${m.version}"` });
      text('meeting-status', A.closed(m.week));
      $('meeting-close').hidden = true;
      $('meeting-start').hidden = true;
      $('measure-form').hidden = true;
    } catch (msg) { text('meeting-status', String(msg)); }
  });
  $('lagesbild-button').addEventListener('click', makeLagesbild);
  buildMeasureForm(c);
}
