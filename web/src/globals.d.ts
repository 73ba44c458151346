/** Replaced by web/build.ts: Leaflet's stylesheet, relative to the map chunk. */
declare const __LEAFLET_CSS__: string;
/** URL of the département outlines (GeoJSON), relative to the bundle. */
declare const __DEPARTEMENTS_OUTLINES__: string;
