import { defineConfig } from "vitest/config";

// The build lands inside the Python package, which `crowdship serve` serves.
export default defineConfig({
  base: "/",
  build: {
    outDir: "../src/crowdship/web/dist",
    emptyOutDir: true,
    sourcemap: true,
    chunkSizeWarningLimit: 400,
  },
  oxc: { jsx: { runtime: "automatic", importSource: "preact" } },
  server: { proxy: { "^/(?!src|@|node_modules).*": "http://127.0.0.1:8000" } },
  test: { environment: "jsdom" },
});
