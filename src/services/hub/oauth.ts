/**
 * Logging a browser in through the hub (OAuth 2 authorization code flow, as a hub
 * service) and asking the hub who a token belongs to. Shared by Atrium's services
 * that sit behind the hub's proxy (the Dask dashboard guard, the environments).
 */
export interface HubIdentity {
  name: string;
  /** "user" or "service". */
  kind: string;
  /** The hub's admin flag (the hub shows it to every token for its owner). */
  admin: boolean;
  /** The owner's hub groups; empty for services. */
  groups: string[];
}

export function authorizeUrl(
  hubPrefix: string,
  clientId: string,
  redirectUri: string,
  state: string,
): string {
  const q = new URLSearchParams({
    client_id: clientId,
    redirect_uri: redirectUri,
    response_type: "code",
    state,
  });
  return `${hubPrefix}/api/oauth2/authorize?${q}`;
}

export async function exchangeCode(
  hubApiUrl: string,
  clientId: string,
  clientSecret: string,
  code: string,
  redirectUri: string,
): Promise<string> {
  const res = await fetch(`${hubApiUrl}/oauth2/token`, {
    method: "POST",
    headers: { "Content-Type": "application/x-www-form-urlencoded" },
    body: new URLSearchParams({
      client_id: clientId,
      client_secret: clientSecret,
      grant_type: "authorization_code",
      code,
      redirect_uri: redirectUri,
    }),
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) throw new Error(`the hub refused the login code (${res.status})`);
  const body = (await res.json()) as { access_token?: string };
  if (!body.access_token) throw new Error("the hub's answer had no access token");
  return body.access_token;
}

/** Who a token belongs to, or undefined when the hub does not accept it. */
export async function whoAmI(hubApiUrl: string, token: string): Promise<HubIdentity | undefined> {
  const res = await fetch(`${hubApiUrl}/user`, {
    headers: { Authorization: `token ${token}` },
    signal: AbortSignal.timeout(10_000),
  });
  if (!res.ok) return undefined;
  const body = (await res.json()) as { name?: string; kind?: string; admin?: boolean; groups?: string[] };
  if (!body.name) return undefined;
  return {
    name: body.name,
    kind: body.kind ?? "user",
    admin: body.admin === true,
    groups: Array.isArray(body.groups) ? body.groups.filter((g) => typeof g === "string") : [],
  };
}
