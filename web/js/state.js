// The client's shared state: the map controller once signed in, and what each panel keeps.
export const app = {
  /** The map controller (createMap's result), or null when signed out. */
  controller: null,
  /** Panels built once per page (the report queue, the route planner, the export form). */
  reporter: null,
  planner: null,
  exporter: false,
  /** Weekly playback in progress. */
  playing: null,
  /** The area shown in meeting mode. */
  meetingIndex: -1,
  /** The last evening plan of stops shown: { route, stops }, for logging the stops done. */
  dosagePlan: null,
};
