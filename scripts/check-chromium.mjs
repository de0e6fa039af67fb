// Before the e2e suite: say plainly how to get the browser it needs.
import { existsSync } from 'node:fs';
const path = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
if (!existsSync(path)) {
  console.error(
    `e2e: Chromium not found at ${path}. Install Debian's build (it ships SwiftShader for WebGPU without a GPU):\n  sudo apt-get install chromium\nor point CHROMIUM_PATH at a Chromium/Chrome binary.`,
  );
  process.exit(1);
}
