/**
 * The environment service as one file, where the atrium command is not installed (the
 * kubernetes target's pod runs it with Node from a wheel): `node envs-service.mjs CONFIG`.
 * scripts/bundle.mjs makes dist/envs-service.mjs from this.
 */
import { main } from "./main.js";

const file = process.argv[2];
if (file === undefined) {
  process.stderr.write("usage: node envs-service.mjs CONFIG\n");
  process.exit(2);
}
main(file).catch((err: unknown) => {
  process.stderr.write(`envs: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});
