// Builds the page into the Python package (src/vodkit/entrypoints/http/static), where
// `vodkit serve` serves index.html at / and the rest at /assets/. No inline script or
// style (the page's CSP allows neither), no data: URLs for code or fonts.
import { copyFileSync, mkdirSync } from "node:fs";
import { dirname, join } from "node:path";
import { fileURLToPath } from "node:url";
import { defineConfig, type Plugin } from "vite";

const here = dirname(fileURLToPath(import.meta.url));
const outDir = join(here, "../src/vodkit/entrypoints/http/static");

// Swagger UI for /docs, from npm like everything else (public/docs/init.js starts it).
function swaggerUi(): Plugin {
  return {
    name: "vodkit-swagger-ui",
    apply: "build",
    closeBundle() {
      const from = join(here, "node_modules/swagger-ui-dist");
      mkdirSync(join(outDir, "docs"), { recursive: true });
      for (const file of ["swagger-ui-bundle.js", "swagger-ui.css"]) {
        copyFileSync(join(from, file), join(outDir, "docs", file));
      }
    },
  };
}

const api = process.env.VODKIT_API ?? "http://127.0.0.1:8000";

export default defineConfig({
  base: "/",
  plugins: [swaggerUi()],
  build: {
    outDir,
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
