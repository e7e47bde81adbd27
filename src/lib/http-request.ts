/**
 * One HTTP(S) request with a body as text, a timeout, and an optional certificate
 * authority to trust (a platform's self-signed certificate), which fetch cannot take.
 */
import { request as httpRequest } from "node:http";
import { request as httpsRequest } from "node:https";

export interface HttpAnswer {
  status: number;
  text: string;
  header(name: string): string | undefined;
}

export interface HttpOptions {
  method: string;
  headers: Record<string, string>;
  body?: string;
  timeoutMs: number;
  /** PEM certificates trusted for an https URL, instead of the system's. */
  ca?: string;
}

export function requestText(url: string, opts: HttpOptions): Promise<HttpAnswer> {
  const target = new URL(url);
  const send = target.protocol === "https:" ? httpsRequest : httpRequest;
  return new Promise((resolve, reject) => {
    const req = send(
      target,
      {
        method: opts.method,
        headers: opts.headers,
        // no kept-alive socket: it would hold a command's process open until the server closes it
        agent: false,
        timeout: opts.timeoutMs,
        // the one certificate given is trusted, whatever name the address has: it is pinned
        ...(opts.ca === undefined ? {} : { ca: opts.ca, checkServerIdentity: () => undefined }),
      },
      (res) => {
        let text = "";
        res.setEncoding("utf8");
        res.on("data", (chunk: string) => {
          text += chunk;
        });
        res.on("end", () => {
          resolve({
            status: res.statusCode ?? 0,
            text,
            header: (name) => {
              const value = res.headers[name.toLowerCase()];
              return Array.isArray(value) ? value.join(", ") : value;
            },
          });
        });
        res.on("error", reject);
      },
    );
    req.on("timeout", () => req.destroy(new Error(`no answer within ${opts.timeoutMs / 1000} s`)));
    req.on("error", reject);
    req.end(opts.body);
  });
}
