// Builds the page into the Python package (src/vodkit/entrypoints/http/static), where
// `vodkit serve` serves index.html at / and the rest at /assets/. No inline script or
// style (the page's CSP allows neither), no data: URLs for code or fonts.
import { defineConfig } from "vite";

const api = process.env.VODKIT_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/vodkit/entrypoints/http/static",
    emptyOutDir: true,
    assetsDir: "assets",
    assetsInlineLimit: 0,
    modulePreload: { polyfill: false },
    target: "es2022",
    chunkSizeWarningLimit: 1000, // dash.js alone is ~830 kB, loaded only when DASH is chosen
  },
  // `npm run dev`: the page on Vite's server, the API (`vodkit serve`) behind a proxy
  server: {
    proxy: { "/v1": api, "/play": api },
  },
});
