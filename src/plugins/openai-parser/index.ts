import type { ParseInput, ParsedRequest, RequestParser } from '../../framework/parser.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import { EppError, ErrorCodes } from '../../errors.js';
import { apiFromPath, validateBody } from '../../request/openai-api.js';
import { prefixBytes } from '../../request/prefix-text.js';
import { spliceModel } from '../../request/model-splice.js';

export const OPENAI_PARSER = 'openai-parser';

const decoder = new TextDecoder();

function parseJson(body: Uint8Array): unknown {
  if (body.length === 0) throw new EppError(ErrorCodes.BAD_REQUEST, 'request body is empty');
  try {
    return JSON.parse(decoder.decode(body));
  } catch (err) {
    const message = err instanceof Error ? err.message : String(err);
    throw new EppError(ErrorCodes.BAD_REQUEST, `invalid JSON body: ${message}`, { cause: err });
  }
}

/**
 * Parses OpenAI-style bodies (completions, chat completions, responses, conversations, embeddings): the
 * API from the path, `model`, `stream`, `cache_salt` and the prefix text from the JSON body.
 */
export class OpenAiParser implements RequestParser {
  readonly type = OPENAI_PARSER;
  constructor(readonly name: string) {}

  parse(input: ParseInput): ParsedRequest {
    const api = apiFromPath(input.path);
    const v = validateBody(api, parseJson(input.body));
    return {
      model: v.model,
      body: { api, json: v.json, prefixText: prefixBytes(api, v.json, input.body), cacheSalt: v.cacheSalt, stream: v.stream },
    };
  }

  rewriteModel(input: ParseInput, parsed: ParsedRequest, targetModel: string): Uint8Array {
    if (targetModel === parsed.model) return input.body;
    const spliced = spliceModel(input.body, targetModel);
    if (spliced) return spliced;
    const json = parsed.body.json ?? (parseJson(input.body) as Record<string, unknown>);
    return Buffer.from(JSON.stringify({ ...json, model: targetModel }));
  }
}

export const registration: PluginRegistration = {
  type: OPENAI_PARSER,
  takesNoParameters: true,
  factory: (name) => new OpenAiParser(name),
};
