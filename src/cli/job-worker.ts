/** One worker process of `--jobs N` (see jobs.ts): adopts the parent's FP model, then runs the plan cells it is sent. */
import { readFileSync } from 'node:fs';
import * as tf from '@tensorflow/tfjs';
import { Lab } from '../engine/poly/lab';
import { readSnapshot, type FromWorker, type ToWorker } from './jobs';
import { initNodeBackend } from './node-env';

const send = (m: FromWorker) => process.send?.(m);
const lab = new Lab();

process.on('message', (m: ToWorker) => {
  void (async () => {
    try {
      if (m.type === 'init') {
        await initNodeBackend(m.backend);
        lab.testData(m.warm);
        send({ type: 'ready' });
      } else if (m.type === 'item') {
        if (m.fp && lab.fpFor(m.fp.config)?.runId !== m.fp.runId) lab.adoptFp(m.fp.config, m.fp.runId, readSnapshot(readFileSync(m.fp.file)));
        const runs = await lab.run(m.item.config, m.item.methods, (event) => send({ type: 'event', event }));
        send({ type: 'item', index: m.index, runs });
      } else {
        lab.dispose();
        tf.disposeVariables();
        process.exit(0);
      }
    } catch (e) {
      send({ type: 'error', message: (e as Error).message });
    }
  })();
});
