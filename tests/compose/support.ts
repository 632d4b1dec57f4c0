// Calling the composer's routes in-process as a signed-in user (bearer token), as tests/api does.
import type { TestUser } from "../support/users";

type Handler = (req: Request, ctx: any) => Promise<Response>;

export function call(handler: Handler, user: TestUser | null, path: string, init: { method?: string; body?: unknown; params?: Record<string, string> } = {}) {
  const headers = new Headers();
  if (user) headers.set("authorization", `Bearer ${user.accessToken}`);
  if (init.body !== undefined) headers.set("content-type", "application/json");
  return handler(
    new Request(`http://127.0.0.1:3000${path}`, {
      method: init.method ?? "GET",
      headers,
      body: init.body === undefined ? undefined : JSON.stringify(init.body),
    }),
    { params: Promise.resolve(init.params ?? {}) },
  );
}
