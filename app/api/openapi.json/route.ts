// GET, public: the OpenAPI 3.1 document of every /api route (lib/api/openapi.ts), for the API reference
// page and for tools. It describes routes, never data, so no sign-in is needed to read it.
import { openApiDocument } from "@/lib/api/openapi";

export function GET() {
  return Response.json(openApiDocument(), { headers: { "cache-control": "public, max-age=300" } });
}
