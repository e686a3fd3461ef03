// load.ts: simulated annotators for the load tests: each loops lease -> both images -> label, as the page
// does, until a deadline, the queue runs dry, or the server goes away; every acknowledged label is kept.
export interface Ack {
  annotator: string;
  lease: string;
  taskId: number;
  stored: string;
}

export interface LoadResult {
  requests: number;
  acks: Ack[];
  /** Non-2xx answers, as "status body". */
  errors: string[];
  /** Requests that got no answer (connection refused or reset). */
  dropped: number;
  seconds: number;
}

const CHOICES = ['left', 'right', 'left', 'right', 'tie', 'skip'] as const;

export async function runAnnotators(url: string, tokens: Record<string, string>, options: { seconds: number; onStart?: () => void }): Promise<LoadResult> {
  const result: LoadResult = { requests: 0, acks: [], errors: [], dropped: 0, seconds: 0 };
  const start = performance.now();
  const deadline = start + options.seconds * 1000;
  /** One request, its body read in full; undefined when no whole answer came (connection refused or cut). */
  const request = async (token: string, method: string, path: string, body?: unknown): Promise<{ ok: boolean; text: string } | undefined> => {
    result.requests++;
    try {
      const res = await fetch(new URL(path, url), {
        method,
        headers: { authorization: `Bearer ${token}`, ...(body ? { 'content-type': 'application/json' } : {}) },
        body: body ? JSON.stringify(body) : undefined,
      });
      const text = await res.text();
      if (!res.ok) result.errors.push(`${method} ${path}: ${res.status} ${text}`);
      return { ok: res.ok, text };
    } catch {
      result.dropped++;
      return undefined;
    }
  };
  options.onStart?.();
  await Promise.all(Object.entries(tokens).map(async ([name, token], k) => {
    let n = k;
    while (performance.now() < deadline) {
      const res = await request(token, 'POST', '/api/leases', { kind: 'pair' });
      if (!res?.ok) return;
      const { lease } = JSON.parse(res.text) as { lease: { id: string; taskId: number; left: { image: string }; right: { image: string } } | null };
      if (!lease) return;
      const images = await Promise.all([request(token, 'GET', lease.left.image), request(token, 'GET', lease.right.image)]);
      if (images.some((img) => !img?.ok)) return;
      const choice = CHOICES[n++ % CHOICES.length];
      const label = await request(token, 'POST', '/api/labels', { lease: lease.id, choice, timeSpentMs: 50 });
      if (!label?.ok) return;
      const { stored } = JSON.parse(label.text) as { stored: string };
      result.acks.push({ annotator: name, lease: lease.id, taskId: lease.taskId, stored });
    }
  }));
  result.seconds = (performance.now() - start) / 1000;
  return result;
}
