// Meeting mode: large type, one area after the other with the arrow keys, and what changed since
// the last meeting.
import { T } from './strings.js';
import { $, text } from './dom.js';
import { app } from './state.js';
import { checkDate } from './time.js';
import { showArea } from './area-panel.js';
import { agendaNames, loadAgenda, showAgendaArea } from './agenda.js';

/** Steps through the areas: in the agenda's order when there is one, else by name. */
function stepArea(delta) {
  const agenda = agendaNames();
  const names = agenda.length ? agenda : (app.controller?.areaNames() ?? []);
  if (!names.length) return;
  app.meetingIndex = (app.meetingIndex + delta + names.length) % names.length;
  app.controller.focusArea(names[app.meetingIndex]);
  showArea(names[app.meetingIndex]);
  if (agenda.length) showAgendaArea(app.meetingIndex);
}

async function openAgenda() {
  if ($('agenda-panel').hidden) return;
  try {
    await loadAgenda();
    app.meetingIndex = -1;
    stepArea(1);
  } catch (msg) {
    text('agenda-heading', String(msg));
  }
}

function setMeeting(on) {
  document.body.classList.toggle('meeting', on);
  app.controller?.setLarge(on);
  if (on) document.querySelectorAll('.maplibregl-popup-close-button').forEach((b) => b.click());
  text('meeting-button', on ? T.leaveMeeting : T.meetingButton);
  if (on) openAgenda();
  if (on) document.documentElement.requestFullscreen?.().catch(() => {});
  else if (document.fullscreenElement) document.exitFullscreen().catch(() => {});
  setTimeout(() => app.controller?.map.resize(), 50);
}

/** Wires the meeting button, the keys and the "since" selector. */
export function setupMeeting() {
  $('meeting-button').addEventListener('click', () => setMeeting(!document.body.classList.contains('meeting')));
  $('agenda-prev').addEventListener('click', () => stepArea(-1));
  $('agenda-next').addEventListener('click', () => stepArea(1));
  document.addEventListener('keydown', (e) => {
    if (!document.body.classList.contains('meeting')) return;
    // Typing in the meeting's forms is not stepping through the agenda.
    const typing = e.target instanceof HTMLElement && e.target.closest('input, textarea, select');
    if (e.key === 'ArrowRight' && !typing) stepArea(1);
    if (e.key === 'ArrowLeft' && !typing) stepArea(-1);
    if (e.key === 'Escape') setMeeting(false);
  });
  $('since').addEventListener('change', async () => {
    if (!app.controller) return;
    if (app.controller.grant('incidents') !== 'exact') { text('since-counts', T.sinceNeedsExact); return; }
    if (!checkDate($('since'))) { text('since-counts', T.badDate); return; }
    const counts = await app.controller.showSince($('since').value);
    text('since-counts', $('since').value ? T.sinceCounts(counts) : '');
  });
}
