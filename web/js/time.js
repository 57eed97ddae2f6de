// The time window: 7/30/90 days or a custom range, and weekly playback.
import { T } from './strings.js';
import { $, text, option } from './dom.js';
import { app } from './state.js';

/**
 * Whether `v` is a real date written the Swedish way, ÅÅÅÅ-MM-DD (the date inputs are text
 * fields with that pattern, so they read the same whatever the browser's own language).
 */
export function isDate(v) {
  if (!/^\d{4}-\d{2}-\d{2}$/.test(v)) return false;
  const d = new Date(`${v}T00:00:00Z`);
  return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === v;
}

/** Marks a date input valid or not (for assistive technology too); returns whether it is. */
export function checkDate(input) {
  const ok = input.value === '' || isDate(input.value);
  input.setAttribute('aria-invalid', ok ? 'false' : 'true');
  input.setCustomValidity(ok ? '' : T.badDate);
  return ok;
}

/** ISO 8601 week number of a date. */
export function isoWeek(d) {
  const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate()));
  const day = t.getUTCDay() || 7;
  t.setUTCDate(t.getUTCDate() + 4 - day);
  const first = new Date(Date.UTC(t.getUTCFullYear(), 0, 1));
  return Math.ceil(((t - first) / 86400000 + 1) / 7);
}

export const isoDay = (d) => d.toISOString().slice(0, 10);


/** The window's controls. */
export function buildTime(c) {
  const days = $('days');
  const custom = option('custom', T.customRange);
  custom.selected = !!c.view.range;
  days.replaceChildren(...[7, 30, 90].map((n) => {
    const o = option(String(n), T.days(n));
    o.selected = !c.view.range && n === c.view.days;
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
    const from = $('from');
    const to = $('to');
    if (!checkDate(from) || !checkDate(to)) return;
    if (from.value && to.value && from.value <= to.value) c.setRange(from.value, to.value);
  };
  $('from').onchange = applyRange;
  $('to').onchange = applyRange;
  $('play').onclick = () => playWeeks(c);
}

/** Weekly playback: the last 12 ISO weeks one at a time, then back to the chosen window. */
async function playWeeks(c) {
  if (app.playing) { clearTimeout(app.playing.timer); app.playing = null; text('play', T.play); text('playing', ''); await c.setDays(c.view.days); return; }
  const monday = (d) => { const t = new Date(Date.UTC(d.getFullYear(), d.getMonth(), d.getDate())); t.setUTCDate(t.getUTCDate() - ((t.getUTCDay() + 6) % 7)); return t; };
  const start = monday(new Date(Date.now() - 11 * 7 * 86400000));
  const weeks = Array.from({ length: 12 }, (_, i) => new Date(start.getTime() + i * 7 * 86400000));
  const saved = c.view.range;
  app.playing = { i: 0 };
  text('play', T.stop);
  const step = async () => {
    if (!app.playing) return;
    const w = weeks[app.playing.i];
    const end = new Date(w.getTime() + 6 * 86400000);
    await c.setRange(isoDay(w), isoDay(end));
    text('playing', T.playingWeek(isoWeek(w), w.getUTCFullYear()));
    app.playing.i += 1;
    if (app.playing.i < weeks.length) app.playing.timer = setTimeout(step, 1500);
    else { app.playing = null; text('play', T.play); c.view.range = saved; }
  };
  step();
}

