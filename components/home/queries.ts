// The home's one read (GET /api/home), shared by the home page and the app-wide banners.
import { queryOptions } from "@tanstack/react-query";
import type { Home } from "@/lib/home";
import { getJson } from "@/lib/api/client";

export const homeQuery = queryOptions({
  queryKey: ["home"],
  queryFn: () => getJson<Home>("/api/home"),
});
