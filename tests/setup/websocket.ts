// @supabase/supabase-js needs a global WebSocket, which Node 20 has only behind a flag.
import { WebSocket } from "ws";

globalThis.WebSocket ??= WebSocket as unknown as typeof globalThis.WebSocket;
