/**
 * The endpoints file: `endpoints: [{name, namespace?, address, port, labels?, nodeAddress?}]`, YAML or JSON (JSON is
 * YAML). A bad entry is skipped with a reason naming it; a file that is not such a document is an error.
 */
import { parse } from 'yaml';
import type { EndpointMetadata } from '../../framework/endpoint.js';

export interface ParsedEndpoints {
  readonly endpoints: EndpointMetadata[];
  /** One line per skipped entry, naming it and why. */
  readonly skipped: string[];
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function entry(raw: unknown, i: number, defaultNamespace: string): EndpointMetadata | string {
  const at = `endpoints[${i}]`;
  if (!isObject(raw)) return `${at}: not a mapping`;
  const label = typeof raw['name'] === 'string' ? `${at} ("${raw['name']}")` : at;
  if (typeof raw['name'] !== 'string' || raw['name'] === '') return `${at}: name is required`;
  if (typeof raw['address'] !== 'string' || raw['address'] === '') return `${label}: address is required`;
  const port = typeof raw['port'] === 'string' && /^\d+$/.test(raw['port']) ? Number(raw['port']) : raw['port'];
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 1 || port > 65535) {
    return `${label}: port must be 1..65535, got ${JSON.stringify(raw['port'])}`;
  }
  const namespace = raw['namespace'] ?? defaultNamespace;
  if (typeof namespace !== 'string' || namespace === '') return `${label}: namespace must be a string`;
  const labels = raw['labels'] ?? {};
  if (!isObject(labels) || !Object.values(labels).every((v) => typeof v === 'string')) return `${label}: labels must map strings to strings`;
  const nodeAddress = raw['nodeAddress'];
  if (nodeAddress !== undefined && (typeof nodeAddress !== 'string' || nodeAddress === '')) return `${label}: nodeAddress must be a non-empty string`;
  return { name: raw['name'], namespace, address: raw['address'], port, labels: labels as Record<string, string>, ...(nodeAddress ? { nodeAddress } : {}) };
}

/** Throws when the text is not an endpoints document; bad entries are only skipped. */
export function parseEndpointsFile(text: string, defaultNamespace: string): ParsedEndpoints {
  const doc: unknown = parse(text);
  if (!isObject(doc) || !Array.isArray(doc['endpoints'])) throw new Error('expected a document with an "endpoints" list');
  const endpoints: EndpointMetadata[] = [];
  const skipped: string[] = [];
  const seen = new Set<string>();
  doc['endpoints'].forEach((raw, i) => {
    const e = entry(raw, i, defaultNamespace);
    if (typeof e === 'string') return void skipped.push(e);
    const key = `${e.namespace}/${e.name}`;
    if (seen.has(key)) return void skipped.push(`endpoints[${i}] ("${e.name}"): duplicate of an earlier entry ${key}`);
    seen.add(key);
    endpoints.push(e);
  });
  return { endpoints, skipped };
}
