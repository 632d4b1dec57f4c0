// Access tokens are honoured only when Supabase Auth minted them for signed-in users of this project:
// signed by its key, with `aud` "authenticated" and `iss` its own URL. A token signed by the right key
// for another audience or by another issuer is refused, through lib/auth and through a route.
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { SignJWT, importJWK, type JWK, type JWTPayload } from "jose";
import { generateKeys, type LocalKeys } from "../../local/keys.ts";
import { startGateway, type Gateway } from "../../local/gateway/server.ts";
import { freePort } from "../setup/free-port.ts";
import { authenticate } from "@/lib/auth";
import * as accountsRoute from "@/app/api/accounts/route";

// A private gateway whose signing key this file holds; lib/auth verifies against it.
let keys: LocalKeys;
let gateway: Gateway;
const saved = { url: process.env.NEXT_PUBLIC_SUPABASE_URL, key: process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY };

beforeAll(async () => {
  keys = await generateKeys();
  gateway = await startGateway({
    port: await freePort(),
    dbUrl: process.env.SUPABASE_DB_URL!,
    keys,
    functionsDir: "/nonexistent",
    functionEnv: {},
    scheduler: false,
    log: () => {},
  });
  process.env.NEXT_PUBLIC_SUPABASE_URL = gateway.url;
  process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY = keys.publishableKey;
});
afterAll(async () => {
  process.env.NEXT_PUBLIC_SUPABASE_URL = saved.url;
  process.env.NEXT_PUBLIC_SUPABASE_PUBLISHABLE_KEY = saved.key;
  await gateway?.stop();
});

/** A token signed by the gateway's own key, with Supabase's claims unless `claims` overrides them. */
async function token(claims: JWTPayload = {}) {
  const key = await importJWK(keys.jwtPrivateJwk as JWK, "ES256");
  return new SignJWT({
    sub: crypto.randomUUID(),
    role: "authenticated",
    aud: "authenticated",
    iss: `${gateway.url}/auth/v1`,
    session_id: crypto.randomUUID(),
    ...claims,
  })
    .setProtectedHeader({ alg: "ES256", kid: keys.jwtPrivateJwk.kid, typ: "JWT" })
    .setIssuedAt()
    .setExpirationTime("1h")
    .sign(key);
}

const withBearer = (jwt: string) =>
  new Request("http://127.0.0.1:3000/api/accounts", { headers: { authorization: `Bearer ${jwt}` } });

describe("an access token", () => {
  it("is accepted with the project's audience and issuer (the control)", async () => {
    const claims = await authenticate(withBearer(await token()));
    expect(claims).toMatchObject({ role: "authenticated", aud: "authenticated" });
  });

  it("is accepted when its aud is a list that includes authenticated", async () => {
    expect(await authenticate(withBearer(await token({ aud: ["authenticated", "other"] })))).not.toBeNull();
  });

  it.each([
    ["another audience", { aud: "anon" }],
    ["a service audience", { aud: "service_role" }],
    ["no audience", { aud: undefined }],
    ["another project's issuer", { iss: "https://otherproject.supabase.co/auth/v1" }],
    ["the right host without /auth/v1", { iss: "__gateway__" }],
    ["no issuer", { iss: undefined }],
  ])("is refused when signed by the right key but with %s", async (_what, claims) => {
    const overrides = { ...claims } as JWTPayload;
    if (overrides.iss === "__gateway__") overrides.iss = gateway.url;
    const jwt = await token(overrides);
    expect(await authenticate(withBearer(jwt))).toBeNull();
    const res = await accountsRoute.GET(withBearer(jwt), { params: Promise.resolve({}) });
    expect(res.status).toBe(401);
  });

  it("is issued by the gateway with aud authenticated and iss its configured Auth URL", async () => {
    const res = await fetch(`${gateway.url}/auth/v1/signup`, {
      method: "POST",
      headers: { apikey: keys.publishableKey, "content-type": "application/json" },
      body: JSON.stringify({ email: `tokens-${crypto.randomUUID().slice(0, 8)}@pacer.test`, password: "correct-horse-9" }),
    });
    const { access_token } = await res.json();
    const claims = await authenticate(withBearer(access_token));
    expect(claims).toMatchObject({ aud: "authenticated", iss: `${gateway.url}/auth/v1` });
  });
});
