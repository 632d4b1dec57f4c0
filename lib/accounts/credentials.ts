// Platform credentials are encrypted by the server with AES-GCM before they reach the database;
// the key comes from the environment (PACER_CREDENTIALS_KEY) and no API ever returns them.
// Web Crypto only, so the engine can decrypt them under Deno as well as Node.

const VERSION = "v1";

async function key(): Promise<CryptoKey> {
  const raw = process.env.PACER_CREDENTIALS_KEY;
  if (!raw) throw new Error("PACER_CREDENTIALS_KEY is not set: generate one with `openssl rand -base64 32`.");
  const bytes = Uint8Array.from(atob(raw), (c) => c.charCodeAt(0));
  if (bytes.length !== 32) throw new Error("PACER_CREDENTIALS_KEY must be 32 bytes, base64-encoded.");
  return crypto.subtle.importKey("raw", bytes, "AES-GCM", false, ["encrypt", "decrypt"]);
}

const toBase64 = (bytes: Uint8Array) => btoa(String.fromCharCode(...bytes));
const fromBase64 = (text: string) => Uint8Array.from(atob(text), (c) => c.charCodeAt(0));

export async function encryptCredentials(credentials: Record<string, string>): Promise<string> {
  const iv = crypto.getRandomValues(new Uint8Array(12));
  const plaintext = new TextEncoder().encode(JSON.stringify(credentials));
  const ciphertext = new Uint8Array(await crypto.subtle.encrypt({ name: "AES-GCM", iv }, await key(), plaintext));
  return `${VERSION}:${toBase64(iv)}:${toBase64(ciphertext)}`;
}

export async function decryptCredentials(sealed: string): Promise<Record<string, string>> {
  const [version, iv, ciphertext] = sealed.split(":");
  if (version !== VERSION || !iv || !ciphertext) throw new Error("Unrecognised credentials format.");
  const plaintext = await crypto.subtle.decrypt(
    { name: "AES-GCM", iv: fromBase64(iv) },
    await key(),
    fromBase64(ciphertext),
  );
  return JSON.parse(new TextDecoder().decode(plaintext)) as Record<string, string>;
}
