// Reading Pacer's HTTP API from the browser: a failed call throws the API's own error message.

export async function getJson<T>(url: string): Promise<T> {
  const response = await fetch(url, { cache: "no-store" });
  const body = await response.json().catch(() => null);
  if (!response.ok) {
    throw new Error(body?.error?.message ?? `Loading ${url} failed with status ${response.status}.`);
  }
  return body as T;
}
