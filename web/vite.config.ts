import { fileURLToPath } from 'node:url';
import { defineConfig, type UserConfig } from 'vite';

const root = fileURLToPath(new URL('.', import.meta.url));

// The build is committed (web/dist) and checked by test/web/dist-in-sync.test.ts, so it
// must be byte-for-byte reproducible: no sourcemaps, content hashes only.
export default defineConfig(({ command }) => {
  // A NODE_ENV left in the shell (vitest sets `test`) would make a development bundle.
  if (command === 'build') process.env.NODE_ENV = 'production';
  return config;
});

const config = {
  root,
  base: '/',
  // No @preact/preset-vite: Vite 8's own oxc transform does JSX with preact's runtime.
  oxc: { jsx: { runtime: 'automatic', importSource: 'preact' } },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    assetsDir: 'assets',
    sourcemap: false,
    target: 'es2022',
    reportCompressedSize: false,
  },
  server: {
    // `npx vite web` against a running `orch standalone --port 8080`.
    // The server refuses a foreign Origin on mutating calls (CSRF); the dev server is one.
    proxy: {
      '/api': {
        target: 'http://127.0.0.1:8080',
        configure: (proxy) => proxy.on('proxyReq', (req) => req.removeHeader('origin')),
      },
    },
  },
} satisfies UserConfig;
