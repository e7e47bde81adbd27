/**
 * Jitsi Meet's IFrame API, loaded from the configured server
 * (https://<domain>/external_api.js) the first time a room is joined. The script
 * defines the global JitsiMeetExternalAPI; one load per domain serves every meeting.
 */
import { externalApiUrl } from "./hub.js";

export interface JitsiMeetOptions {
  roomName: string;
  parentNode: HTMLElement;
  width?: string | number;
  height?: string | number;
  userInfo?: { displayName?: string; email?: string };
  configOverwrite?: Record<string, unknown>;
  interfaceConfigOverwrite?: Record<string, unknown>;
}

export interface JitsiMeetApi {
  addListener(event: string, listener: (...args: unknown[]) => void): unknown;
  dispose(): void;
}

export type JitsiMeetConstructor = new (domain: string, options: JitsiMeetOptions) => JitsiMeetApi;

declare global {
  interface Window {
    JitsiMeetExternalAPI?: JitsiMeetConstructor;
  }
}

const LOAD_TIMEOUT_MS = 30_000;
const loads = new Map<string, Promise<JitsiMeetConstructor>>();

/** The JitsiMeetExternalAPI constructor from `domain`; a failed load is retried on the next call. */
export function loadJitsi(domain: string): Promise<JitsiMeetConstructor> {
  const known = loads.get(domain);
  if (known) return known;
  const url = externalApiUrl(domain);
  const load = new Promise<JitsiMeetConstructor>((resolve, reject) => {
    const script = document.createElement("script");
    script.src = url;
    script.async = true;
    const fail = (why: string) => {
      clearTimeout(timer);
      script.remove();
      loads.delete(domain);
      reject(
        new Error(
          `Could not load ${url} (${why}). Is the Jitsi server ${domain} reachable from this browser?`,
        ),
      );
    };
    const timer = setTimeout(() => fail("no answer"), LOAD_TIMEOUT_MS);
    script.onload = () => {
      clearTimeout(timer);
      const api = window.JitsiMeetExternalAPI;
      if (typeof api === "function") resolve(api);
      else fail("it did not define JitsiMeetExternalAPI");
    };
    script.onerror = () => fail("the request failed");
    document.head.appendChild(script);
  });
  loads.set(domain, load);
  return load;
}
