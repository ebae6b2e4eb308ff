/** A Kubernetes label selector (`matchLabels` + `matchExpressions`), compiled once to a predicate. */
import { ConfigError } from '../../errors.js';

export type LabelPredicate = (labels: Readonly<Record<string, string>>) => boolean;

const OPERATORS = ['In', 'NotIn', 'Exists', 'DoesNotExist'] as const;
type Operator = (typeof OPERATORS)[number];

interface Requirement {
  readonly key: string;
  readonly operator: Operator;
  readonly values: ReadonlySet<string>;
}

function matches(r: Requirement, labels: Readonly<Record<string, string>>): boolean {
  const has = Object.prototype.hasOwnProperty.call(labels, r.key);
  switch (r.operator) {
    case 'In':
      return has && r.values.has(labels[r.key]!);
    case 'NotIn':
      return !has || !r.values.has(labels[r.key]!);
    case 'Exists':
      return has;
    case 'DoesNotExist':
      return !has;
  }
}

/** Parses `{matchLabels, matchExpressions}`; an empty selector matches every pod (as Kubernetes'). */
export function compileSelector(raw: Readonly<Record<string, unknown>>, path = 'parameters'): LabelPredicate {
  const reqs: Requirement[] = [];
  const ml = raw['matchLabels'];
  if (ml !== undefined && ml !== null) {
    if (typeof ml !== 'object' || Array.isArray(ml)) throw new ConfigError(`${path}.matchLabels`, `must be a map of label → value, got ${JSON.stringify(ml)}`);
    for (const [key, value] of Object.entries(ml)) {
      if (typeof value !== 'string') throw new ConfigError(`${path}.matchLabels.${key}`, `must be a string, got ${JSON.stringify(value)}`);
      reqs.push({ key, operator: 'In', values: new Set([value]) });
    }
  }
  const me = raw['matchExpressions'];
  if (me !== undefined && me !== null) {
    if (!Array.isArray(me)) throw new ConfigError(`${path}.matchExpressions`, `must be a list, got ${JSON.stringify(me)}`);
    me.forEach((e: unknown, i) => {
      const at = `${path}.matchExpressions[${i}]`;
      const x = (e ?? {}) as Record<string, unknown>;
      if (typeof x['key'] !== 'string' || x['key'] === '') throw new ConfigError(`${at}.key`, 'must be a label name');
      const op = x['operator'];
      if (!OPERATORS.includes(op as Operator)) throw new ConfigError(`${at}.operator`, `must be one of ${OPERATORS.join(', ')}, got ${JSON.stringify(op)}`);
      const values = x['values'] ?? [];
      if (!Array.isArray(values) || values.some((v) => typeof v !== 'string')) throw new ConfigError(`${at}.values`, 'must be a list of strings');
      const needsValues = op === 'In' || op === 'NotIn';
      if (needsValues && values.length === 0) throw new ConfigError(`${at}.values`, `must be non-empty for operator ${String(op)}`);
      if (!needsValues && values.length > 0) throw new ConfigError(`${at}.values`, `must be empty for operator ${String(op)}`);
      reqs.push({ key: x['key'], operator: op as Operator, values: new Set(values as string[]) });
    });
  }
  return (labels) => reqs.every((r) => matches(r, labels));
}
