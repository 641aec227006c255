import { buildMongoLauncher } from './embedded-mongo';

buildMongoLauncher().then(
  () => process.stdout.write('mongo launcher built\n'),
  (error: unknown) => {
    process.stderr.write(`${String(error)}\n`);
    process.exit(1);
  },
);
