import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

/**
 * The web app: `vite build web` writes web/dist, which the embedded stack serves on the API's port
 * and the CDK stack deploys to S3 behind CloudFront. `vite web` serves it for development, sending
 * API calls to an embedded stack on port 3000.
 */
const API_PREFIXES = ['/plans', '/allocations', '/providers', '/escalations', '/metrics', '/directory', '/openapi.json', '/health', '/_local', '/config.json'];

export default defineConfig({
  plugins: [react()],
  build: {
    outDir: 'dist',
    emptyOutDir: true,
    target: 'es2022',
    sourcemap: false,
    chunkSizeWarningLimit: 800,
  },
  server: {
    proxy: Object.fromEntries(API_PREFIXES.map((p) => [p, 'http://127.0.0.1:3000'])),
  },
});
