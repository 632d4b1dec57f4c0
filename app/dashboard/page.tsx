// Dashboard home: getting started, upcoming posts, what needs attention and plan usage (components/home).
import type { Metadata } from "next";
import { HomePage } from "@/components/home/home-page";

export const metadata: Metadata = { title: "Dashboard" };

export default function DashboardPage() {
  return <HomePage />;
}
