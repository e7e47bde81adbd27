/** A GET on 127.0.0.1 with the path sent exactly as written (no URL normalisation on the way). */
import { request } from "node:http";

export function rawGet(
  port: number,
  path: string,
  token?: string,
  timeoutMs = 30_000,
): Promise<{ status: number; text: string }> {
  return new Promise((ok, fail) => {
    const headers: Record<string, string> = token ? { Authorization: `token ${token}` } : {};
    const req = request({ host: "127.0.0.1", port, path, headers, timeout: timeoutMs }, (res) => {
      let text = "";
      res.on("data", (d: Buffer) => {
        text += d.toString();
      });
      res.on("end", () => ok({ status: res.statusCode ?? 0, text }));
    });
    req.on("timeout", () => req.destroy(new Error(`GET ${path} timed out`)));
    req.on("error", fail);
    req.end();
  });
}
