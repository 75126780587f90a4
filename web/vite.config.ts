import react from '@vitejs/plugin-react';
import { defineConfig } from 'vitest/config';

// The gateway serves dist/ at "/" on the same origin as the API; in dev, Vite proxies /v1 (REST and WebSocket).
const gateway = 'http://127.0.0.1:8080';

export default defineConfig({
  plugins: [react()],
  base: '/',
  server: {
    host: '127.0.0.1',
    proxy: {
      // The gateway refuses requests from other origins; this local proxy speaks for the gateway's own origin.
      '/v1': {
        target: gateway,
        ws: true,
        changeOrigin: true,
        headers: { origin: gateway },
      },
      '/healthz': { target: gateway },
    },
  },
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    sourcemap: false,
    rolldownOptions: {
      output: {
        // Libraries change less often than the builder: a separate chunk stays cached across releases.
        codeSplitting: {
          groups: [
            { name: 'schema-check', test: /node_modules[\\/](ajv|fast-uri|fast-deep-equal|json-schema-traverse)[\\/]/, priority: 2 },
            // CodeMirror loads only with a form that has a code field (CodeField.tsx imports the editor lazily).
            {
              name: 'code-editor',
              test: /node_modules[\\/](@codemirror|@lezer|@marijn|style-mod|w3c-keyname|crelt)[\\/]/,
              priority: 3,
            },
            { name: 'vendor', test: /node_modules/, priority: 1 },
          ],
        },
      },
    },
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
