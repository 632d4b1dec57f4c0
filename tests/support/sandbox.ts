// The sandbox platform as tests and benchmarks use it: accounts created on it with their tokens
// (as Pacer's connect flow does), sealed for the database, and connectors allowed to reach it.
import { createSandboxConnector, type SandboxConnectorOptions } from "../../lib/connectors/sandbox.ts";
import { encryptCredentials } from "../../lib/accounts/credentials.ts";

/** A sandbox connector allowed to reach this loopback sandbox, as PACER_ALLOWED_HOSTS allows the local stack's. */
export function sandboxConnector(sandboxUrl: string, extra: Omit<SandboxConnectorOptions, "baseUrl"> = {}) {
  return createSandboxConnector({ baseUrl: sandboxUrl, allowedHosts: [new URL(sandboxUrl).host], ...extra });
}

export interface SandboxAccount {
  handle: string;
  token: string;
  /** What Pacer stores for it: `credentials_encrypted` (needs PACER_CREDENTIALS_KEY). */
  sealed: string;
}

/** Creates the handle on the sandbox (it must be new there) and returns its token, sealed as Pacer stores it. */
export async function sandboxAccount(sandboxUrl: string, handle: string): Promise<SandboxAccount> {
  const res = await fetch(`${sandboxUrl}/v1/accounts`, {
    method: "POST",
    headers: { "content-type": "application/json" },
    body: JSON.stringify({ handle }),
  });
  const body = (await res.json()) as { token?: string; message?: string };
  if (res.status !== 201 || !body.token) throw new Error(`could not create @${handle} on the sandbox: HTTP ${res.status} ${body.message ?? ""}`);
  return { handle, token: body.token, sealed: await encryptCredentials({ accessToken: body.token }) };
}

/** Many at once (a few in flight), in the order given. */
export async function sandboxAccounts(sandboxUrl: string, handles: string[], inFlight = 16): Promise<SandboxAccount[]> {
  const made: SandboxAccount[] = new Array(handles.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(inFlight, handles.length) }, async () => {
      while (next < handles.length) {
        const i = next++;
        made[i] = await sandboxAccount(sandboxUrl, handles[i]);
      }
    }),
  );
  return made;
}
