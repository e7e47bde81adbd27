/**
 * Prebuilt environments: the `environments` of atrium.yaml, built by the
 * environment service (the same code and queue as users' builds), after the
 * services are up. An environment whose spec did not change is not rebuilt; one
 * that left the file is deleted. Apply waits for the builds and fails, naming
 * each failed environment, when one does not build; `current` is then untouched.
 */
import type { ApiBuild, ApiEnvironment } from "../contracts/envs-api.js";
import { AtriumError } from "../errors.js";
import { hashText } from "../lib/hash.js";
import type { PlatformEnvironment } from "../model/platform.js";
import type { Component, Progress } from "./component.js";
import type { EnvsClient } from "./envs-client.js";

interface Data {
  declared: string[];
}

async function buildAll(
  client: EnvsClient,
  envs: PlatformEnvironment[],
  progress: Progress,
): Promise<string[]> {
  const started: Array<{ env: PlatformEnvironment; id: number }> = [];
  const notes: string[] = [];
  for (const env of envs) {
    const r = await client
      .json<{ build_id: number; unchanged: boolean; build: ApiBuild }>("POST", "specification/", {
        namespace: env.namespace,
        environment_name: env.name,
        specification: env.spec,
        environment_description: "declared in atrium.yaml",
        if_changed: true,
        managed_by: "deploy",
      })
      .catch((err: unknown) => {
        // A refused spec names its entries; say which file (or atrium.yaml) they are in.
        if (!(err instanceof AtriumError)) throw err;
        throw new AtriumError(
          err.code,
          `environments: ${env.namespace}/${env.name} (${env.source}): ${err.message}`,
          "fix the entries named and deploy again",
        );
      });
    if (r.unchanged && r.build.status === "COMPLETED") notes.push(`${env.namespace}/${env.name} unchanged`);
    else started.push({ env, id: r.build_id });
  }
  const failed: string[] = [];
  await Promise.all(
    started.map(async ({ env, id }) => {
      const label = `${env.namespace}/${env.name}`;
      progress.detail(`${label}: build ${id}`);
      const done = await client.follow(id, (text) => {
        for (const line of text.split("\n")) if (line.trim()) progress.detail(`${label}: ${line}`);
      });
      if (done.status === "COMPLETED") notes.push(`${label} built (build ${id})`);
      else failed.push(`${label} (build ${id}): ${done.status_info ?? done.status.toLowerCase()}`);
    }),
  );
  if (failed.length > 0) {
    throw new AtriumError(
      "apply-failed",
      `environments that did not build:\n    ${failed.join("\n    ")}`,
      "their previous builds stay current; see atrium env logs NAMESPACE/NAME, fix the spec and deploy again",
    );
  }
  return notes;
}

/**
 * Whether every environment has a current build, asked of the service; true when it
 * does not answer (deploy then trusts its state, and the service's store is on the volume).
 */
export async function builtAll(client: EnvsClient, envs: readonly PlatformEnvironment[]): Promise<boolean> {
  if (envs.length === 0) return true;
  try {
    const list = await client.json<ApiEnvironment[]>("GET", "environment/?size=1000");
    return envs.every((e) =>
      list.some((l) => l.namespace.name === e.namespace && l.name === e.name && l.current_build_id !== null),
    );
  } catch {
    return true;
  }
}

export interface EnvironmentsPlace {
  /** The service's client, with Atrium's token; made only when something is to be built. */
  client(): Promise<EnvsClient> | EnvsClient;
  /** Whether every environment of the file has a current build where the target keeps them. */
  present(envs: readonly PlatformEnvironment[]): Promise<boolean> | boolean;
  /** How long the service may take to answer after the deploy started it. */
  upWithinMs: number;
}

export function environmentsComponent(envs: PlatformEnvironment[], place: EnvironmentsPlace): Component {
  const key = (e: { namespace: string; name: string }) => `${e.namespace}/${e.name}`;
  return {
    name: "environments",
    title: `prebuilt environments (${envs.length} in the file)`,
    spec: envs.map((e) => ({
      env: key(e),
      spec: hashText(e.spec),
    })),
    present: () => place.present(envs),
    async apply(previous, progress) {
      const before = ((previous?.data as Data | undefined)?.declared ?? []).filter(
        (k) => !envs.some((e) => key(e) === k),
      );
      if (envs.length === 0 && before.length === 0) return { note: "none declared", data: { declared: [] } };
      const client = await place.client();
      await client.waitUntilUp(place.upWithinMs);
      const notes = await buildAll(client, envs, progress);
      for (const gone of before) {
        const r = await client.request("DELETE", `environment/${gone}/`);
        if (r.status < 300 || r.status === 404) notes.push(`${gone} deleted`);
        else progress.detail(`could not delete ${gone}: ${r.status} ${r.text}`);
      }
      const data: Data = { declared: envs.map(key) };
      return { note: notes.join(", ") || "nothing to do", data };
    },
  };
}
