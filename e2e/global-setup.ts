/** Serves the built page (dist/) with vite preview for the e2e suite. */
import { preview, type PreviewServer } from 'vite';

let server: PreviewServer | undefined;

export async function setup(): Promise<void> {
  // LAB_PORT lets two checkouts run their e2e suites side by side.
  const port = Number(process.env.LAB_PORT ?? 4173);
  server = await preview({ preview: { port, host: '127.0.0.1', strictPort: true } });
  process.env.LAB_URL = `http://127.0.0.1:${port}/`;
}

export async function teardown(): Promise<void> {
  await server?.close();
}
