// The API section's floor: the least an authenticated API read can cost with this stack. A bare
// node:http server that verifies the caller's access token with jose against the gateway's JWKS
// (as supabase-js getClaims does) and runs one RLS transaction reading the caller's membership.
// Run by bench/api-http.ts as its own process (like `next start`), so both are measured alike:
//   node --import tsx bench/api-floor.ts   with PORT, JWKS_URL, ISSUER, DB_URL
import { createServer } from "node:http";
import { createRemoteJWKSet, jwtVerify } from "jose";
import postgres from "postgres";

const env = process.env;
const jwks = createRemoteJWKSet(new URL(env.JWKS_URL!));
// The app's pool: same size, same settings (lib/db).
const sql = postgres(env.DB_URL!, { prepare: false, max: Number(env.PACER_DB_POOL_SIZE ?? 10), onnotice: () => {} });

const server = createServer(async (req, res) => {
  const send = (status: number, body: unknown) => {
    res.writeHead(status, { "content-type": "application/json" });
    res.end(JSON.stringify(body));
  };
  try {
    const token = req.headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1];
    if (!token) return send(401, { error: { code: "unauthorized" } });
    const { payload } = await jwtVerify(token, jwks, { issuer: env.ISSUER, audience: "authenticated" });
    const memberships = await sql.begin(async (tx) => {
      await tx`select set_config('request.jwt.claims', ${JSON.stringify(payload)}, true),
                      set_config('role', 'authenticated', true)`;
      return tx`select workspace_id, role from public.workspace_members where user_id = (select auth.uid())`;
    });
    send(200, { memberships });
  } catch (error) {
    send((error as { code?: string }).code?.startsWith("ERR_J") ? 401 : 500, { error: { message: String(error) } });
  }
});

server.listen(Number(env.PORT), "127.0.0.1", () => console.log("ready"));
process.on("SIGTERM", () => {
  server.close();
  void sql.end({ timeout: 1 }).finally(() => process.exit(0));
});
