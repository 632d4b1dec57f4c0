// A webhook receiver on a loopback port for tests: records every request (raw body and headers) and
// answers as the test says (a status, or no answer at all).
import { createServer, type IncomingMessage, type ServerResponse } from "node:http";
import type { AddressInfo } from "node:net";

export interface Received {
  headers: Record<string, string>;
  body: string;
  eventId: string;
  eventType: string;
  status: number;
}

export interface Receiver {
  url: string;
  received: Received[];
  /** How to answer a request: a status, or "hang" (never answer). Default 204. */
  answer: (body: string, headers: Record<string, string>) => number | "hang";
  stop(): Promise<void>;
}

export async function startReceiver(path = "/hooks/pacer"): Promise<Receiver> {
  const hanging = new Set<ServerResponse>();
  const receiver: Receiver = {
    url: "",
    received: [],
    answer: () => 204,
    stop: async () => {
      for (const res of hanging) res.destroy();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const body = Buffer.concat(chunks).toString("utf8");
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, String(v)]));
      const answer = receiver.answer(body, headers);
      receiver.received.push({
        headers,
        body,
        eventId: headers["pacer-event-id"],
        eventType: headers["pacer-event-type"],
        status: answer === "hang" ? 0 : answer,
      });
      if (answer === "hang") {
        hanging.add(res);
        return;
      }
      res.writeHead(answer).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  receiver.url = `http://127.0.0.1:${(server.address() as AddressInfo).port}${path}`;
  return receiver;
}
