// Runs `memscore eval ...` without building: npx tsx scripts/run-eval.ts <experiment> TRAIN [options].
import { runEval } from '../src/cli/evalCommands';

runEval(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: unknown) => {
    console.error(err instanceof Error ? err.message : err);
    process.exit(1);
  },
);
