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
  },
  test: {
    environment: 'node',
    include: ['src/**/*.test.ts'],
  },
});
