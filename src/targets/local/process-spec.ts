/** One process the supervisor runs, as data (the supervisor spec lists them). */
export interface ProcessSpec {
  name: string;
  command: string[];
  env: Record<string, string>;
  /** Environment variable -> secret file whose content becomes its value. */
  secretEnv: Record<string, string>;
  cwd: string;
  log: string;
  pidFile: string;
  /** What requires a restart when it changes: "component:<name>" or "artifact:<path>". */
  restartOn: string[];
  /**
   * What the process re-reads on SIGHUP, in the same form: a change here (and in
   * nothing of restartOn) sends it SIGHUP instead of restarting it.
   */
  reloadOn?: string[];
  /**
   * Settings in a reloadOn file that the process reads only once, at start: part of
   * the spec, so changing them still restarts it.
   */
  restartValues?: Record<string, unknown>;
  /**
   * A request the supervisor makes once this process is back after dying, with a
   * token read from a root-only file; e.g. the hub re-adds its routes to a proxy
   * that lost them.
   */
  afterRestart?: { method: "POST"; url: string; tokenFile: string };
}
