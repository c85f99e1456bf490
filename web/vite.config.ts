import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// `npm run dev` proxies the API to a local `vitrina demo` (default port 8080).
export default defineConfig({
  plugins: [react()],
  build: { target: 'es2020', sourcemap: false, cssCodeSplit: true },
  server: {
    proxy: Object.fromEntries(
      ['/api', '/images', '/dev'].map((p) => [p, process.env.VITRINA_URL ?? 'http://127.0.0.1:8080']),
    ),
  },
});
