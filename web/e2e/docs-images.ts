/**
 * `npm run docs:images`: regenerates the user guides' screenshots in docs/images/ from the real
 * dashboard (see guide-images.ts). Run it after any change to the screen, then commit the
 * images with the change.
 */
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { captureGuideImages } from "./guide-images.ts";

const imagesDir = join(dirname(fileURLToPath(import.meta.url)), "..", "..", "docs", "images");
const names = await captureGuideImages(imagesDir);
console.log(`${names.length} images écrites dans docs/images/ : ${names.join(", ")}`);
