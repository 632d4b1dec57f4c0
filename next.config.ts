// Next.js configuration for Pacer's web app: the defaults, on purpose.
import type { NextConfig } from "next";

const nextConfig: NextConfig = {};

export default nextConfig;
