/**
 * Checking a JupyterHub API token: the hub says whose token it is
 * (`GET /hub/api/user` with `Authorization: token ...`). A token is good for a
 * login only when the hub names a user (not a service) whose name is the SSH user
 * name, so another user's valid token never opens someone else's account. The
 * token itself never leaves this function except in the request header.
 */
export type TokenCheck = { ok: true } | { ok: false; reason: string };

export async function checkToken(
  hubApiUrl: string,
  username: string,
  token: string,
  timeoutMs = 10_000,
): Promise<TokenCheck> {
  if (token.length === 0 || token.length > 1024 || /[\s\0]/.test(token)) {
    return { ok: false, reason: "not a token" };
  }
  let res: Response;
  try {
    res = await fetch(`${hubApiUrl}/user`, {
      headers: { Authorization: `token ${token}` },
      signal: AbortSignal.timeout(timeoutMs),
    });
  } catch (err) {
    return { ok: false, reason: `the hub did not answer (${(err as Error).message})` };
  }
  const text = await res.text();
  if (res.status === 401 || res.status === 403) return { ok: false, reason: "the hub refused the token" };
  if (res.status !== 200) return { ok: false, reason: `the hub answered ${res.status}` };
  let model: { kind?: unknown; name?: unknown };
  try {
    model = JSON.parse(text) as { kind?: unknown; name?: unknown };
  } catch {
    return { ok: false, reason: "the hub's answer is not JSON" };
  }
  if (model.kind !== undefined && model.kind !== "user") {
    return { ok: false, reason: `the token belongs to a ${String(model.kind)}, not a user` };
  }
  if (model.name !== username) return { ok: false, reason: "the token belongs to another user" };
  return { ok: true };
}
