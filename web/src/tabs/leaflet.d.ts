/**
 * The part of Leaflet 1.9's API the map tab uses. Leaflet ships no types and @types/leaflet is
 * not a dependency; this subset is written from Leaflet's documented API (leafletjs.com/reference).
 */
declare module "leaflet/dist/leaflet-src.esm.js" {
  export type LatLngTuple = [number, number];
  export interface LatLngBounds {
    readonly _leafletBoundsBrand?: never;
  }
  export interface Layer {
    addTo(map: Map): this;
    remove(): this;
  }
  export interface Marker extends Layer {
    bindPopup(content: HTMLElement | string): this;
  }
  export interface Icon {
    readonly _leafletIconBrand?: never;
  }
  export interface Map {
    setView(center: LatLngTuple, zoom: number): this;
    fitBounds(
      bounds: LatLngBounds,
      options?: { padding?: [number, number]; maxZoom?: number },
    ): this;
    invalidateSize(): this;
  }
  export function map(
    element: HTMLElement,
    options?: { zoomControl?: boolean; keyboard?: boolean },
  ): Map;
  export function tileLayer(
    urlTemplate: string,
    options?: { attribution?: string; maxZoom?: number },
  ): Layer;
  export function marker(
    position: LatLngTuple,
    options?: {
      icon?: Icon;
      title?: string;
      alt?: string;
      keyboard?: boolean;
      riseOnHover?: boolean;
      zIndexOffset?: number;
    },
  ): Marker;
  export function divIcon(options: {
    html?: HTMLElement | string;
    className?: string;
    iconSize?: [number, number];
    iconAnchor?: [number, number];
  }): Icon;
  export function latLngBounds(positions: LatLngTuple[]): LatLngBounds;
}
