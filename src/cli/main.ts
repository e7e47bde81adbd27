/**
 * The `atrium` command: picks the subcommand, runs it, and is the only place
 * that prints errors and chooses the exit status. Expected failures are
 * AtriumErrors; anything else is reported as a bug (with the stack under --debug).
 */
import { formatProblems } from "../config/format.js";
import { AtriumError } from "../errors.js";

type Command = { summary: string; load: () => Promise<{ run: (args: string[]) => Promise<number> }> };

const COMMANDS: Record<string, Command> = {
  init: { summary: "write a commented atrium.yaml", load: () => import("./commands/init.js") },
  validate: {
    summary: "check atrium.yaml and list every problem",
    load: () => import("./commands/validate.js"),
  },
  upgrade: {
    summary: "rewrite an older atrium.yaml as the current version",
    load: () => import("./commands/upgrade.js"),
  },
  schema: { summary: "print the JSON Schema of atrium.yaml", load: () => import("./commands/schema.js") },
  render: {
    summary: "write the files the platform will run with",
    load: () => import("./commands/render.js"),
  },
  plan: {
    summary: "show what deploy would change; touches nothing",
    load: () => import("./commands/plan.js"),
  },
  deploy: { summary: "bring this machine in line with the file", load: () => import("./commands/deploy.js") },
  status: {
    summary: "show what runs, who has servers, whether limits apply",
    load: () => import("./commands/status.js"),
  },
  logs: { summary: "show a service's log (-f to follow)", load: () => import("./commands/logs.js") },
  passwd: { summary: "set or reset a user's password", load: () => import("./commands/passwd.js") },
  env: {
    summary: "list, create, build, roll back managed environments",
    load: () => import("./commands/env.js"),
  },
  destroy: {
    summary: "stop the platform (--purge: and delete its data)",
    load: () => import("./commands/destroy.js"),
  },
  unlock: {
    summary: "remove the deploy lock a deploy that died left (--force: even if it looks alive)",
    load: () => import("./commands/unlock.js"),
  },
  service: {
    summary: "(internal) run one of Atrium's services",
    load: () => import("./commands/service.js"),
  },
  supervise: {
    summary: "(internal) run the platform's processes",
    load: () => import("./commands/supervise.js"),
  },
};

const USAGE = `usage: atrium <command> [options]

commands:
${Object.entries(COMMANDS)
  .map(([name, c]) => `  ${name.padEnd(10)} ${c.summary}`)
  .join("\n")}

Run \`atrium <command> --help\` for a command's options. --debug shows stack traces.`;

async function main(argv: string[]): Promise<number> {
  const [name, ...rest] = argv;
  if (name === undefined || name === "--help" || name === "-h" || name === "help") {
    process.stdout.write(`${USAGE}\n`);
    return name === undefined ? 2 : 0;
  }
  if (name === "--version" || name === "-V") {
    const { version } = await import("./version.js");
    process.stdout.write(`atrium ${version()}\n`);
    return 0;
  }
  const command = COMMANDS[name];
  if (!command) {
    const { suggestion } = await import("../config/suggest.js");
    throw new AtriumError(
      "usage",
      `unknown command "${name}"`,
      suggestion(name, Object.keys(COMMANDS), "commands"),
    );
  }
  const mod = await command.load();
  return mod.run(rest.filter((a) => a !== "--debug"));
}

function report(err: unknown, debug: boolean): number {
  if (err instanceof AtriumError) {
    if (err.problems.length > 0) process.stderr.write(`${formatProblems(err.problems)}\n`);
    process.stderr.write(`error: ${err.message}\n`);
    if (err.hint) process.stderr.write(`  hint: ${err.hint}\n`);
    if (debug && err.stack) process.stderr.write(`${err.stack}\n`);
    return err.exitCode;
  }
  const msg = err instanceof Error ? err.message : String(err);
  process.stderr.write(`internal error (this is a bug in Atrium, please report it): ${msg}\n`);
  if (debug && err instanceof Error && err.stack) process.stderr.write(`${err.stack}\n`);
  else process.stderr.write("  run again with --debug for the stack trace\n");
  return 70;
}

const argv = process.argv.slice(2);
const debug = argv.includes("--debug") || process.env.ATRIUM_DEBUG === "1";
main(argv).then(
  (code) => {
    process.exitCode = code;
  },
  (err: unknown) => {
    process.exitCode = report(err, debug);
  },
);
