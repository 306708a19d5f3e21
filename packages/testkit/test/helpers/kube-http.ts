/** A raw HTTPS client for the fake API server, for tests that check what goes over the wire. */
import { request } from 'node:https';
import { request as httpRequest } from 'node:http';
import type { FakeKubernetes } from '../../src/fake-kubernetes/index.js';

/** A JSON body as the tests read it (Status objects, Kubernetes objects). */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type Json = Record<string, any>;

export interface RawReply {
  status: number;
  headers: Record<string, string | string[] | undefined>;
  text: string;
  json: () => Json;
}

export interface RawOptions {
  body?: string | Buffer;
  contentType?: string;
  token?: string | null;
  accept?: string;
}

export function raw(fake: FakeKubernetes, method: string, path: string, options: RawOptions = {}): Promise<RawReply> {
  const url = new URL(path, fake.url);
  const headers: Record<string, string> = {};
  const token = options.token === undefined ? fake.adminToken : options.token;
  if (token) headers.authorization = `Bearer ${token}`;
  if (options.contentType) headers['content-type'] = options.contentType;
  if (options.accept) headers.accept = options.accept;
  const make = url.protocol === 'https:' ? request : httpRequest;
  return new Promise((resolve, reject) => {
    const req = make(url, { method, headers, ca: fake.caCertificate }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        resolve({ status: res.statusCode ?? 0, headers: res.headers, text, json: () => JSON.parse(text) as Json });
      });
    });
    req.on('error', reject);
    if (options.body !== undefined) req.write(options.body);
    req.end();
  });
}

export const json = (fake: FakeKubernetes, method: string, path: string, body?: unknown, token?: string | null) =>
  raw(fake, method, path, { body: body === undefined ? undefined : JSON.stringify(body), contentType: 'application/json', token });

export const applyYaml = (fake: FakeKubernetes, path: string, body: unknown, manager: string, extra = '') =>
  raw(fake, 'PATCH', `${path}?fieldManager=${manager}${extra}`, { body: JSON.stringify(body), contentType: 'application/apply-patch+yaml' });
