import { defineConfig } from "vite";

// The window loads ui/dist through Tauri's custom protocol: no dev server, no inline
// scripts or styles (the CSP in src-tauri/tauri.conf.json forbids them).
export default defineConfig({
  base: "./",
  build: { outDir: "dist", emptyOutDir: true, target: "safari15", assetsInlineLimit: 0 },
  server: { fs: { allow: [".."] } },
});
