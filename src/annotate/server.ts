// server.ts: the annotation app over HTTP (fastify): the page (public/) and a JSON API over the work
// queue. Every /api call needs `Authorization: Bearer <token>`; an unknown or missing token is a 401 and
// nothing is read or written. A label is answered only after its transaction has committed.
import { extname, join } from 'node:path';
import fastifyStatic from '@fastify/static';
import Fastify, { type FastifyInstance, type FastifyReply, type FastifyRequest } from 'fastify';
import { abSummary } from './ab-summary.js';
import { addAbSet, listAbSets } from './ab-sets.js';
import { abSetBody, labelBody, LEASE_ID, leaseBody, parseBody } from './api-bodies.js';
import { ApiError } from './api-error.js';
import { DIMENSION_GUIDES, OVERALL_GUIDE } from './guides.js';
import { ImageBytes } from './image-bytes.js';
import { labelLines } from './label-export.js';
import type { LeaseRequest } from './task-source.js';
import { type Annotator, userByToken } from './users.js';
import type { WorkQueue } from './work-queue.js';

export const PUBLIC_DIR = join(import.meta.dirname, 'public');

declare module 'fastify' {
  interface FastifyRequest {
    annotator?: Annotator;
  }
}

const IMAGE_TYPES: Record<string, string> = { '.png': 'image/png', '.jpg': 'image/jpeg', '.jpeg': 'image/jpeg', '.webp': 'image/webp', '.gif': 'image/gif' };

const SECURITY_HEADERS = {
  'x-content-type-options': 'nosniff',
  'referrer-policy': 'no-referrer',
  'x-frame-options': 'DENY',
  'content-security-policy': "default-src 'self'; img-src 'self' blob:; script-src 'self'; style-src 'self'; connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'",
};

function who(request: FastifyRequest): Annotator {
  return request.annotator!; // set by the auth hook for every /api route
}

function requireAdmin(request: FastifyRequest): void {
  if (!who(request).admin) throw new ApiError(403, `Expected an admin token for ${request.method} ${request.routeOptions.url} but received the token of annotator ${JSON.stringify(who(request).name)}`);
}

function leaseParam(params: unknown): string {
  const id = (params as { id?: string }).id ?? '';
  if (!LEASE_ID.test(id)) throw new ApiError(404, `Expected the id of a lease for lease but received ${JSON.stringify(id)}`);
  return id;
}

function leaseQuery(query: Record<string, string | undefined>): LeaseRequest {
  return query.kind === 'ab' ? parseBody(leaseBody, { kind: 'ab', set: query.set }) : parseBody(leaseBody, { kind: 'pair', ...(query.dimension ? { dimension: query.dimension } : {}) });
}

function fastifyClientError(err: Error & { code?: string }, request: FastifyRequest): string {
  switch (err.code) {
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return 'Expected a JSON body but received invalid JSON';
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
      return 'Expected a JSON body but received an empty body';
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return `Expected content-type application/json for the body but received ${JSON.stringify(request.headers['content-type'] ?? null)}`;
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return `Expected a body of at most ${request.routeOptions.bodyLimit ?? 1024 * 1024} bytes but received more`;
    default:
      return err.message;
  }
}

export interface ServerOptions {
  /** fastify's logger (pino options or true). Defaults to off. */
  logger?: boolean;
}

export async function buildServer(queue: WorkQueue, options: ServerOptions = {}): Promise<FastifyInstance> {
  const store = queue.store;
  const images = new ImageBytes();
  const app = Fastify({ logger: options.logger ?? false, bodyLimit: 1024 * 1024, forceCloseConnections: 'idle', return503OnClosing: true });

  app.addHook('onSend', async (request, reply) => {
    reply.headers(SECURITY_HEADERS);
    if (request.url.startsWith('/api/')) reply.header('cache-control', 'no-store');
  });

  // Auth runs before the body is read: a request without a good token costs nothing and writes nothing.
  app.addHook('onRequest', async (request, reply) => {
    if (!request.url.startsWith('/api/')) return;
    const header = request.headers.authorization ?? '';
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    const user = match ? userByToken(store.db, match[1]) : undefined;
    if (!user) {
      reply.header('www-authenticate', 'Bearer realm="treereward annotate"');
      return reply.code(401).send({ error: match ? 'Expected a valid token in the Authorization header but received an unknown token' : 'Expected "Authorization: Bearer <token>" but received no bearer token' });
    }
    request.annotator = user;
  });

  app.setErrorHandler((err: Error & { statusCode?: number }, request, reply) => {
    if (err instanceof ApiError) return reply.code(err.status).send({ error: err.message });
    if (err.statusCode && err.statusCode >= 400 && err.statusCode < 500) {
      // fastify's own: bad JSON, wrong content type, body too large
      return reply.code(err.statusCode).send({ error: fastifyClientError(err as Error & { code?: string }, request) });
    }
    request.log.error(err);
    console.error(`treereward annotate: ${request.method} ${request.url}: ${err.stack ?? err.message}`);
    return reply.code(500).send({ error: `Internal error: ${err.message}` });
  });

  app.setNotFoundHandler((request, reply) => reply.code(404).send({ error: `Expected a known route but received ${request.method} ${request.url.split('?')[0]}` }));

  await app.register(fastifyStatic, { root: PUBLIC_DIR, prefix: '/', index: 'index.html', wildcard: false });

  app.get('/api/me', async (request) => {
    const user = who(request);
    const queued = store.db.prepare('SELECT dimension, count(*) AS pairs FROM pairs WHERE labelled = 0 GROUP BY dimension ORDER BY dimension').all() as { dimension: string; pairs: number }[];
    return {
      name: user.name, admin: user.admin, labelsPerPair: queue.labelsPerPair, leaseMs: queue.leaseMs,
      guides: { ...DIMENSION_GUIDES, overall: OVERALL_GUIDE },
      queued, abSets: listAbSets(store).map(({ name, items }) => ({ name, items })),
    };
  });

  app.post('/api/leases', async (request) => queue.lease(who(request).name, parseBody(leaseBody, request.body)));

  app.delete('/api/leases/:id', async (request, reply) => {
    queue.release(who(request).name, leaseParam(request.params));
    return reply.code(204).send();
  });

  app.get('/api/leases/:id/:side', async (request, reply) => {
    const side = (request.params as { side: string }).side;
    if (side !== 'left' && side !== 'right') throw new ApiError(404, `Expected left or right for the image side but received ${JSON.stringify(side)}`);
    const { path, stored } = queue.imageOf(who(request).name, leaseParam(request.params), side);
    let bytes: Buffer;
    try {
      bytes = await images.read(path, stored);
    } catch {
      throw new ApiError(404, `Expected an image file at ${path} but received a path that cannot be read`);
    }
    return reply.type(IMAGE_TYPES[extname(path).toLowerCase()] ?? 'application/octet-stream').header('cache-control', 'private, max-age=3600').send(bytes);
  });

  app.post('/api/labels', async (request, reply) => {
    const body = parseBody(labelBody, request.body);
    const result = queue.submit(who(request).name, body.lease, body.choice, body.timeSpentMs);
    return reply.code(result.duplicate ? 200 : 201).send(result);
  });

  // Your own labels of queued pairs (nobody sees anyone else's).
  app.get('/api/labels', async (request) => {
    const limit = Math.min(Math.max(Number((request.query as { limit?: string }).limit ?? 100) || 100, 1), 10_000);
    return {
      labels: store.db.prepare(`SELECT pair_id AS pairId, choice, created_at AS createdAt, time_spent_ms AS timeSpentMs FROM annotations
        WHERE annotator = ? ORDER BY id DESC LIMIT ?`).all(who(request).name, limit),
    };
  });

  app.get('/api/labels/:pairId', async (request) => {
    const raw = (request.params as { pairId: string }).pairId;
    const pairId = /^\d{1,15}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(pairId) || store.db.prepare('SELECT 1 FROM pairs WHERE id = ?').get(pairId) === undefined) {
      throw new ApiError(404, `Expected the id of a stored pair for pairId but received ${JSON.stringify(raw)}`);
    }
    const label = store.db.prepare(`SELECT pair_id AS pairId, choice, created_at AS createdAt, time_spent_ms AS timeSpentMs FROM annotations
      WHERE pair_id = ? AND annotator = ?`).get(pairId, who(request).name);
    if (!label) throw new ApiError(404, `Expected a pair you labelled for pairId but received ${pairId}, which you have not labelled`);
    return label;
  });

  app.get('/api/progress', async (request) => queue.progress(who(request).name, leaseQuery(request.query as Record<string, string | undefined>)));

  app.get('/api/export', async (request, reply) => {
    requireAdmin(request);
    const kind = (request.query as { kind?: string }).kind;
    if (kind !== undefined && kind !== 'pair' && kind !== 'ab') throw new ApiError(400, `Expected pair or ab for kind but received ${JSON.stringify(kind)}`);
    const lines = [...labelLines(store, { kind })]; // one consistent read, then sent
    return reply.type('application/x-ndjson; charset=utf-8').header('content-disposition', 'attachment; filename="labels.jsonl"')
      .send(lines.length ? `${lines.join('\n')}\n` : '');
  });

  app.get('/api/ab', async () => ({ sets: listAbSets(store) }));

  app.post('/api/ab', { bodyLimit: 256 * 1024 * 1024 }, async (request, reply) => {
    requireAdmin(request);
    const body = parseBody(abSetBody, request.body);
    const items = body.items.map((item) => ({ ...item, a: { bytes: Buffer.from(item.a, 'base64') }, b: { bytes: Buffer.from(item.b, 'base64') } }));
    try {
      return reply.code(201).send(await addAbSet(store, { ...body, items }));
    } catch (err) {
      throw err instanceof ApiError ? err : new ApiError(400, (err as Error).message);
    }
  });

  app.get('/api/ab/:set/summary', async (request) => {
    requireAdmin(request);
    return abSummary(store, (request.params as { set: string }).set);
  });

  return app;
}
