import { defineConfig } from 'vite';
import react from '@vitejs/plugin-react';

// The same toolchain and target as vitrina's web/ (the template itself uses plugin-react-swc).
export default defineConfig({
  plugins: [react()],
  build: { target: 'es2020', sourcemap: false },
});
