/**
 * `atrium passwd USER`: set or reset a user's hub password. Asks twice on a terminal
 * (without echo); otherwise reads one line from stdin. Never takes it as an argument.
 */
import { AtriumError } from "../../errors.js";
import { DEPLOYED_CONFIG_OPTION, parseCommandArgs } from "../args.js";
import { deployedTarget } from "../deployed.js";

async function readHidden(prompt: string): Promise<string> {
  process.stdout.write(prompt);
  const stdin = process.stdin;
  stdin.setRawMode(true);
  stdin.resume();
  stdin.setEncoding("utf8");
  return new Promise((resolve, reject) => {
    let value = "";
    const onData = (ch: string) => {
      for (const c of ch) {
        if (c === "\r" || c === "\n") {
          stdin.setRawMode(false);
          stdin.pause();
          stdin.off("data", onData);
          process.stdout.write("\n");
          resolve(value);
          return;
        }
        if (c === "\u0003") {
          stdin.setRawMode(false);
          reject(new AtriumError("usage", "cancelled"));
          return;
        }
        if (c === "\u007f") value = value.slice(0, -1);
        else value += c;
      }
    };
    stdin.on("data", onData);
  });
}

async function readLine(): Promise<string> {
  let text = "";
  for await (const chunk of process.stdin) text += chunk;
  return text.split("\n")[0] ?? "";
}

export async function run(args: string[]): Promise<number> {
  const parsed = parseCommandArgs(
    "passwd",
    args,
    { ...DEPLOYED_CONFIG_OPTION },
    "USER [-c FILE]  (password from the terminal or stdin)",
    true,
  );
  if (!parsed) return 0;
  const target = deployedTarget(parsed.values.config);
  const { platform, passwords } = target;
  const user = parsed.positionals[0];
  if (!user) throw new AtriumError("usage", "name the user", "usage: atrium passwd USER");
  if (platform.auth.type !== "password" || !passwords) {
    throw new AtriumError("usage", "this platform logs in through OIDC; passwords are kept by the provider");
  }
  if (!platform.users.some((u) => u.name === user)) {
    throw new AtriumError(
      "not-found",
      `"${user}" is not a user in the file`,
      `users: ${platform.users.map((u) => u.name).join(", ")}`,
    );
  }
  let password: string;
  if (process.stdin.isTTY) {
    password = await readHidden(`New password for ${user}: `);
    if ((await readHidden("Again: ")) !== password)
      throw new AtriumError("usage", "the two passwords differ; nothing changed");
  } else {
    password = await readLine();
  }
  if (password.length < 8)
    throw new AtriumError("usage", "a password has at least 8 characters; nothing changed");
  await passwords.set(user, password);
  process.stdout.write(`password of ${user} set\n`);
  return 0;
}
