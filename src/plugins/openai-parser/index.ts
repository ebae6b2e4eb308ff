import type { ParseInput, ParsedRequest, RequestParser } from '../../framework/parser.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import { spliceModel } from '../../request/model-splice.js';
import { parsedFromSummary, parseJsonBody, summarizeOpenAiBody } from '../../request/openai-summary.js';

export const OPENAI_PARSER = 'openai-parser';

/**
 * Parses OpenAI-style bodies (completions, chat completions, responses, conversations, embeddings): the
 * API from the path, `model`, `stream`, `cache_salt` and the prefix text from the JSON body.
 */
export class OpenAiParser implements RequestParser {
  readonly type = OPENAI_PARSER;
  constructor(readonly name: string) {}

  parse(input: ParseInput): ParsedRequest {
    const { summary, json } = summarizeOpenAiBody(input.path, input.body);
    return parsedFromSummary(input.body, summary, json);
  }

  rewriteModel(input: ParseInput, parsed: ParsedRequest, targetModel: string): Uint8Array {
    if (targetModel === parsed.model) return input.body;
    const spliced = spliceModel(input.body, targetModel);
    if (spliced) return spliced;
    const json = parsed.body.json ?? (parseJsonBody(input.body) as Record<string, unknown>);
    return Buffer.from(JSON.stringify({ ...json, model: targetModel }));
  }
}

export const registration: PluginRegistration = {
  type: OPENAI_PARSER,
  takesNoParameters: true,
  factory: (name) => new OpenAiParser(name),
};
