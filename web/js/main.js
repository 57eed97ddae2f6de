// The web client's entry: sign in, then the map with its panels (one module each).
import { T } from './strings.js';
import { currentSession, login, logout } from './auth.js';
import { createMap } from './map.js';
import { $, text } from './dom.js';
import { app } from './state.js';
import { buildFilters } from './filters.js';
import { buildReport } from './report-panel.js';
import { buildPlan } from './plan-panel.js';
import { buildCoverage } from './coverage-panel.js';
import { buildExport } from './export.js';
import { buildTime } from './time.js';
import { buildLayers } from './legend.js';
import { showArea } from './area-panel.js';
import { setupMeeting } from './meeting.js';
import { buildAgenda } from './agenda.js';

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
  ['walk-save', T.plan.walkSave], ['plan-compare-label', T.score.compare], ['plan-compare-button', T.score.compareButton],
  ['plan-suggest', T.suggest.button], ['plan-use-suggestion', T.suggest.use], ['plan-dosage-label', T.dosage.heading],
  ['dosage-route-label', T.dosage.route], ['dosage-date-label', T.dosage.date], ['dosage-plan-button', T.dosage.plan], ['dosage-week-button', T.dosage.week],
  ['report-heading', T.report.heading], ['report-category-label', T.report.category],
  ['report-severity-label', T.report.severity], ['report-description-label', T.report.description],
  ['play', T.play], ['report-pick', T.report.pick], ['report-here', T.report.here], ['report-submit', T.report.submit], ['meeting-button', T.meetingButton], ['meeting-hint', T.meetingHint], ['since-label', T.sinceLabel], ['overview-label', T.overviewLabel],
]) text(id, s);
document.title = T.appTitle;

function buildPanel(me, c) {
  buildFilters(c);
  buildExport(c);
  buildPlan(me, c);
  buildCoverage(me, c);
  buildReport(me, c);
  buildTime(c);
  buildLayers(c);
  buildAgenda(me, c);
  text('signed-in', T.signedInAs(me.user, me.roleLabel, me.organisation));
}

setupMeeting();

async function show(me) {
  $('login-view').hidden = !!me;
  $('app-view').hidden = !me;
  if (!me) { app.controller?.close(); app.controller = null; $('username').focus(); return; }
  text('status', T.loading);
  app.controller = await createMap($('map'), me, (msg) => text('status', msg), showArea);
  buildPanel(me, app.controller);
  text('status', '');
  window.lagesbild = { map: app.controller.map, controller: app.controller, ready: true };
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
