/** Serves the built page (dist/) with vite preview for the e2e suite. */
import { preview, type PreviewServer } from 'vite';

let server: PreviewServer | undefined;

export async function setup(): Promise<void> {
  server = await preview({ preview: { port: 4173, host: '127.0.0.1', strictPort: true } });
  process.env.LAB_URL = `http://127.0.0.1:4173/`;
}

export async function teardown(): Promise<void> {
  await server?.close();
}
