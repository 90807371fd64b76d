import { fileURLToPath } from 'node:url';
import react from '@vitejs/plugin-react';
import { defineConfig } from 'vite';

/** The feedback widget as one self-contained script (React included) for host pages: dist/widget/merit-feedback.js. */
export default defineConfig({
  plugins: [react()],
  // Library builds keep process.env.NODE_ENV as written; a browser has no `process`.
  define: { 'process.env.NODE_ENV': JSON.stringify('production') },
  build: {
    outDir: fileURLToPath(new URL('../dist/widget', import.meta.url)),
    emptyOutDir: true,
    lib: {
      entry: fileURLToPath(new URL('./widget/script-tag.tsx', import.meta.url)),
      name: 'MeritFeedbackWidget',
      formats: ['iife'],
      fileName: () => 'merit-feedback.js',
    },
  },
});
