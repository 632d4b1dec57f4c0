// swagger-ui-react ships no types (they live in @types/swagger-ui-react); the props this app uses.
declare module "swagger-ui-react" {
  import type { ComponentType } from "react";
  const SwaggerUI: ComponentType<{
    url?: string;
    spec?: object;
    docExpansion?: "list" | "full" | "none";
    defaultModelsExpandDepth?: number;
    deepLinking?: boolean;
    tryItOutEnabled?: boolean;
    displayOperationId?: boolean;
    filter?: boolean | string;
  }>;
  export default SwaggerUI;
}
