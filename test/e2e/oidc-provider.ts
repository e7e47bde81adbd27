/**
 * A real OpenID Connect provider for the end-to-end tests (the npm `oidc-provider`),
 * on 127.0.0.1 (or the address given) over plain HTTP: in-memory storage, one confidential client, accounts
 * with a password and a `groups` claim that a test may change between logins.
 *
 * Its login page is its own small form (#login, #password, #submit) that checks the
 * password; consent is given at once, as a team's provider does for its own apps.
 * Plain HTTP is fine here: oidc-provider allows http redirect URIs for the code flow
 * and marks its cookies Secure only on HTTPS requests.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { createServer, type IncomingMessage, type Server, type ServerResponse } from "node:http";
import Provider, { type Configuration } from "oidc-provider";

export interface TestAccount {
  /** Login name at the provider, also the `sub` claim. */
  login: string;
  password: string;
  /** The preferred_username claim (the hub maps it to a Linux name). */
  username: string;
  groups: string[];
}

export interface TestProvider {
  issuer: string;
  clientId: string;
  clientSecret: string;
  accounts: Map<string, TestAccount>;
  close(): Promise<void>;
}

function page(title: string, body: string): string {
  return `<!doctype html><html><head><meta charset="utf-8"><title>${title}</title></head><body><h1>${title}</h1>${body}</body></html>`;
}

function escapeHtml(s: string): string {
  return s.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
}

async function formOf(req: IncomingMessage): Promise<URLSearchParams> {
  let text = "";
  for await (const chunk of req) text += chunk;
  return new URLSearchParams(text);
}

export async function startProvider(opts: {
  port: number;
  /** The address it listens on and names itself by: 127.0.0.1 unless given. */
  host?: string;
  redirectUri: string;
  accounts: TestAccount[];
}): Promise<TestProvider> {
  const host = opts.host ?? "127.0.0.1";
  const issuer = `http://${host}:${opts.port}`;
  const clientId = "atrium-e2e";
  const clientSecret = randomBytes(24).toString("hex");
  const accounts = new Map(opts.accounts.map((a) => [a.login, a]));
  const { privateKey } = generateKeyPairSync("rsa", { modulusLength: 2048 });
  const configuration: Configuration = {
    clients: [
      {
        client_id: clientId,
        client_secret: clientSecret,
        redirect_uris: [opts.redirectUri],
        grant_types: ["authorization_code"],
        response_types: ["code"],
        // oauthenticator sends the secret in the form body by default
        token_endpoint_auth_method: "client_secret_post",
      },
    ],
    claims: {
      openid: ["sub"],
      profile: ["preferred_username", "name"],
      groups: ["groups"],
    },
    scopes: ["openid", "profile", "groups"],
    cookies: { keys: [randomBytes(32).toString("hex")] },
    ttl: {
      AuthorizationCode: 60,
      Interaction: 600,
      Session: 3600,
      Grant: 3600,
      AccessToken: 600,
      IdToken: 600,
    },
    jwks: { keys: [{ ...privateKey.export({ format: "jwk" }), kid: "e2e", use: "sig", alg: "RS256" }] },
    features: { devInteractions: { enabled: false } },
    interactions: { url: (_ctx, interaction) => `/interaction/${interaction.uid}` },
    findAccount: (_ctx, sub) => {
      const account = accounts.get(sub);
      if (!account) return undefined;
      return {
        accountId: sub,
        claims: () => ({
          sub,
          preferred_username: account.username,
          name: account.username,
          groups: [...account.groups],
        }),
      };
    },
  };
  const provider = new Provider(issuer, configuration);
  const callback = provider.callback();

  const loginForm = (uid: string, error = "") =>
    page(
      "Test identity provider: sign in",
      `${error ? `<p id="error">${escapeHtml(error)}</p>` : ""}<form method="post" action="/interaction/${uid}/login">` +
        '<input id="login" name="login" autocomplete="off"><input id="password" name="password" type="password">' +
        '<button id="submit" type="submit">Sign in</button></form>',
    );

  async function interaction(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const details = await provider.interactionDetails(req, res);
    const { uid, prompt, params, session } = details;
    if (req.method === "POST" && req.url?.endsWith("/login")) {
      const form = await formOf(req);
      const account = accounts.get(form.get("login") ?? "");
      if (!account || account.password !== form.get("password")) {
        res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
        res.end(loginForm(uid, "Wrong login or password."));
        return;
      }
      await provider.interactionFinished(
        req,
        res,
        { login: { accountId: account.login } },
        { mergeWithLastSubmission: false },
      );
      return;
    }
    if (prompt.name === "login") {
      res.writeHead(200, { "Content-Type": "text/html; charset=utf-8" });
      res.end(loginForm(uid));
      return;
    }
    // consent: grant what the client asked for
    const grant = details.grantId
      ? await provider.Grant.find(details.grantId)
      : new provider.Grant({ accountId: session?.accountId ?? "", clientId: String(params.client_id) });
    if (!grant) throw new Error("grant not found");
    const missing = prompt.details as { missingOIDCScope?: string[]; missingOIDCClaims?: string[] };
    if (missing.missingOIDCScope) grant.addOIDCScope(missing.missingOIDCScope.join(" "));
    if (missing.missingOIDCClaims) grant.addOIDCClaims(missing.missingOIDCClaims);
    const grantId = await grant.save();
    await provider.interactionFinished(req, res, { consent: { grantId } }, { mergeWithLastSubmission: true });
  }

  const server: Server = createServer((req, res) => {
    if (req.url?.startsWith("/interaction/")) {
      interaction(req, res).catch((err: unknown) => {
        res.writeHead(500, { "Content-Type": "text/plain" });
        res.end(`interaction failed: ${String(err)}`);
      });
      return;
    }
    callback(req, res);
  });
  await new Promise<void>((ok, fail) => {
    server.once("error", fail);
    server.listen(opts.port, host, () => ok());
  });
  return {
    issuer,
    clientId,
    clientSecret,
    accounts,
    close: () =>
      new Promise<void>((ok) => {
        server.closeAllConnections();
        server.close(() => ok());
      }),
  };
}
