/**
 * The part of Leaflet 1.9's API the map tab uses. Leaflet ships no types and @types/leaflet is
 * not a dependency; this subset is written from Leaflet's documented API (leafletjs.com/reference).
 */
declare module "leaflet/dist/leaflet-src.esm.js" {
  export type LatLngTuple = [number, number];
  export interface Point {
    x: number;
    y: number;
  }
  export interface LatLngBounds {
    readonly _leafletBoundsBrand?: never;
  }
  export interface Evented {
    on(type: string, fn: (event: unknown) => void): this;
    off(type: string, fn?: (event: unknown) => void): this;
  }
  export interface Layer extends Evented {
    addTo(map: Map | LayerGroup): this;
    remove(): this;
  }
  export interface LayerGroup extends Layer {
    addLayer(layer: Layer): this;
    removeLayer(layer: Layer): this;
  }
  export interface GeoJSON extends Layer {
    bringToBack(): this;
  }
  export interface Marker extends Layer {
    bindPopup(content: HTMLElement | string): this;
  }
  export interface Popup extends Layer {
    setLatLng(position: LatLngTuple): this;
    setContent(content: HTMLElement): this;
    openOn(map: Map): this;
  }
  export interface Icon {
    readonly _leafletIconBrand?: never;
  }
  export interface Map extends Evented {
    setView(center: LatLngTuple, zoom: number): this;
    fitBounds(
      bounds: LatLngBounds | [LatLngTuple, LatLngTuple],
      options?: { padding?: [number, number]; maxZoom?: number; animate?: boolean },
    ): this;
    invalidateSize(): this;
    getZoom(): number;
    project(position: LatLngTuple, zoom: number): Point;
    getContainer(): HTMLElement;
  }
  export function map(
    element: HTMLElement,
    options?: {
      zoomControl?: boolean;
      keyboard?: boolean;
      zoomAnimation?: boolean;
      fadeAnimation?: boolean;
      markerZoomAnimation?: boolean;
      zoomSnap?: number;
    },
  ): Map;
  export function tileLayer(
    urlTemplate: string,
    options?: { attribution?: string; maxZoom?: number },
  ): Layer;
  export function geoJSON(
    data: unknown,
    options?: {
      interactive?: boolean;
      attribution?: string;
      style?: () => Record<string, string | number>;
    },
  ): GeoJSON;
  export function layerGroup(): LayerGroup;
  export function popup(options?: { maxWidth?: number; maxHeight?: number }): Popup;
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
