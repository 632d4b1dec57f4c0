"use client";
// The API reference: Swagger UI (swagger-ui-react, bundled with the app, so it works offline and
// under Pacer's CSP: no CDN, no eval, inline styles only) rendering /api/openapi.json. Loaded in the
// browser only: Swagger UI reads window as it starts.
import dynamic from "next/dynamic";
import "swagger-ui-react/swagger-ui.css";

const SwaggerUI = dynamic(() => import("swagger-ui-react"), {
  ssr: false,
  loading: () => (
    <p className="text-sm text-muted-foreground" role="status">
      Loading the API reference…
    </p>
  ),
});

export function ApiReference() {
  return (
    <div className="pacer-api-reference rounded-lg border bg-white p-2 text-black">
      {/* No deep links: Swagger UI puts each operation's link inside its expand button (a link in a
          button is unreachable for assistive technology: axe nested-interactive). */}
      <SwaggerUI url="/api/openapi.json" docExpansion="list" defaultModelsExpandDepth={0} filter />
    </div>
  );
}
