/** Replaced by web/build.ts: Leaflet's stylesheet, relative to the map chunk. */
declare const __LEAFLET_CSS__: string;
