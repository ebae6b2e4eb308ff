/**
 * The `--resources-file`: a multi-document YAML stream of Kubernetes-style manifests (InferenceObjective,
 * InferenceModelRewrite of `inference.networking.x-k8s.io/v1alpha2`), loaded without a Kubernetes API
 * server. Strict like the Go decoder: an unknown key inside `spec` is an error; `metadata` may carry
 * anything (labels, annotations…). Errors are ConfigErrors located at `documents[i].…`, where `i` counts
 * every document of the stream (empty ones included), from 0.
 */
import { parseAllDocuments } from 'yaml';
import { z } from 'zod';
import { ConfigError } from '../errors.js';

export const RESOURCES_API_VERSION = 'inference.networking.x-k8s.io/v1alpha2';
export const INFERENCE_OBJECTIVE = 'InferenceObjective';
export const INFERENCE_MODEL_REWRITE = 'InferenceModelRewrite';

export interface Objective {
  readonly name: string;
  readonly priority: number;
}

export interface RewriteTargetSpec {
  readonly model: string;
  readonly weight: number;
}

/** One rule of one InferenceModelRewrite, in file order. */
export interface RewriteRule {
  /** The InferenceModelRewrite's `metadata.name`. */
  readonly name: string;
  /** Exact model names that select this rule. */
  readonly models: readonly string[];
  /** Weights as given; a missing weight is 1. */
  readonly targets: readonly RewriteTargetSpec[];
}

export interface Resources {
  /** By `metadata.name`. */
  readonly objectives: ReadonlyMap<string, Objective>;
  readonly rewrites: readonly RewriteRule[];
}

export const emptyResources: Resources = { objectives: new Map(), rewrites: [] };

/** `metadata`: a name is required; everything else (namespace, labels, annotations…) is accepted. */
const metadata = z.looseObject({
  name: z.string().min(1),
  namespace: z.string().optional(),
});

/** `spec.poolRef`: accepted and ignored (there is one pool: this EPP's). */
const poolRef = z.looseObject({});

const envelope = {
  apiVersion: z.literal(RESOURCES_API_VERSION),
  metadata,
  /** Written by controllers; accepted and ignored. */
  status: z.unknown().optional(),
};

export const inferenceObjectiveSchema = z.strictObject({
  ...envelope,
  kind: z.literal(INFERENCE_OBJECTIVE),
  spec: z
    .strictObject({
      priority: z.number().int().optional(),
      poolRef: poolRef.optional(),
    })
    .optional(),
});

const modelMatch = z.strictObject({
  model: z.strictObject({
    type: z.literal('Exact').optional(),
    value: z.string().min(1),
  }),
});

const target = z.strictObject({
  modelRewrite: z.string().min(1),
  weight: z.number().int().min(0).optional(),
});

const rule = z.strictObject({
  matches: z.array(modelMatch).min(1),
  targets: z.array(target).min(1),
});

export const inferenceModelRewriteSchema = z.strictObject({
  ...envelope,
  kind: z.literal(INFERENCE_MODEL_REWRITE),
  spec: z.strictObject({
    poolRef: poolRef.optional(),
    rules: z.array(rule).min(1),
  }),
});

const KINDS = [INFERENCE_OBJECTIVE, INFERENCE_MODEL_REWRITE] as const;

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** `a.b[0].c` from a zod path, under `prefix`. */
function pathOf(prefix: string, path: readonly PropertyKey[]): string {
  let out = prefix;
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : `.${String(p)}`;
  return out;
}

function describe(v: unknown): string {
  if (v === null) return 'null';
  if (Array.isArray(v)) return 'a list';
  if (typeof v === 'object') return 'a mapping';
  if (typeof v === 'string') return JSON.stringify(v);
  return String(v);
}

const TYPE_NAMES: Record<string, string> = {
  object: 'a mapping',
  array: 'a list',
  string: 'a string',
  number: 'a number',
  int: 'an integer',
};

function issueToError(issue: z.core.$ZodIssue, prefix: string, source: string): ConfigError {
  const at = pathOf(prefix, issue.path);
  const input: unknown = (issue as { input?: unknown }).input;
  switch (issue.code) {
    case 'unrecognized_keys':
      return new ConfigError(`${at}.${issue.keys[0]!}`, `unknown field${source ? ` (in ${source})` : ''}`);
    case 'invalid_type':
      if (input === undefined) return new ConfigError(at, 'required field is missing');
      return new ConfigError(at, `must be ${TYPE_NAMES[issue.expected] ?? issue.expected}, got ${describe(input)}`);
    case 'invalid_value':
      return new ConfigError(at, `must be ${issue.values.map((v) => JSON.stringify(v)).join(' or ')}, got ${describe(input)}`);
    case 'too_small':
      if (issue.origin === 'string') return new ConfigError(at, 'must not be empty');
      if (issue.origin === 'array') return new ConfigError(at, `must have at least ${String(issue.minimum)} item${issue.minimum === 1 ? '' : 's'}`);
      return new ConfigError(at, `must be >= ${String(issue.minimum)}, got ${describe(input)}`);
    case 'too_big':
      return new ConfigError(at, `must be <= ${String(issue.maximum)}, got ${describe(input)}`);
    default:
      return new ConfigError(at, issue.message);
  }
}

/** Throws a ConfigError for the first problem; `source` (a file name) is only used in messages. */
export function parseResources(text: string, source: string): Resources {
  const docs = parseAllDocuments(text, { prettyErrors: true, uniqueKeys: true });
  const objectives = new Map<string, Objective>();
  const firstSeen = new Map<string, number>();
  const rewrites: RewriteRule[] = [];
  docs.forEach((doc, i) => {
    const at = `documents[${i}]`;
    const yamlError = doc.errors[0];
    if (yamlError) {
      const pos = yamlError.linePos?.[0];
      const where = pos ? ` at line ${pos.line}, column ${pos.col}` : '';
      throw new ConfigError(at, `invalid YAML${source ? ` in ${source}` : ''}${where}: ${yamlError.message.split('\n')[0]!.replace(/ at line \d+, column \d+:?$/, '')}`);
    }
    const value: unknown = doc.toJS();
    if (value === null || value === undefined) return; // an empty document
    if (!isObject(value)) throw new ConfigError(at, `a manifest must be a mapping, got ${describe(value)}`);
    const kind = value['kind'];
    if (typeof kind !== 'string' || kind === '') throw new ConfigError(`${at}.kind`, 'required field is missing');
    if (!(KINDS as readonly string[]).includes(kind)) {
      throw new ConfigError(at, `unsupported kind "${kind}" (expected ${KINDS.join(' or ')})`);
    }
    if (value['apiVersion'] !== RESOURCES_API_VERSION) {
      throw new ConfigError(
        `${at}.apiVersion`,
        `${kind} must have apiVersion "${RESOURCES_API_VERSION}", got ${value['apiVersion'] === undefined ? 'none' : describe(value['apiVersion'])}`,
      );
    }
    if (kind === INFERENCE_OBJECTIVE) {
      const parsed = inferenceObjectiveSchema.safeParse(value, { reportInput: true });
      if (!parsed.success) throw issueToError(parsed.error.issues[0]!, at, source);
      const name = parsed.data.metadata.name;
      const earlier = firstSeen.get(name);
      if (earlier !== undefined) {
        throw new ConfigError(`${at}.metadata.name`, `duplicate ${INFERENCE_OBJECTIVE} "${name}" (first defined in documents[${earlier}])`);
      }
      firstSeen.set(name, i);
      objectives.set(name, { name, priority: parsed.data.spec?.priority ?? 0 });
    } else {
      const parsed = inferenceModelRewriteSchema.safeParse(value, { reportInput: true });
      if (!parsed.success) throw issueToError(parsed.error.issues[0]!, at, source);
      const name = parsed.data.metadata.name;
      for (const r of parsed.data.spec.rules) {
        rewrites.push({
          name,
          models: r.matches.map((m) => m.model.value),
          targets: r.targets.map((t) => ({ model: t.modelRewrite, weight: t.weight ?? 1 })),
        });
      }
    }
  });
  return { objectives, rewrites };
}
