import type { ParseInput, ParsedRequest, RequestParser } from '../../framework/parser.js';
import type { PluginRegistration } from '../../framework/plugin.js';
import { UNREAD_BODY } from '../../framework/request.js';

export const PASSTHROUGH_PARSER = 'passthrough-parser';

const PARSED: ParsedRequest = Object.freeze({ model: '', body: UNREAD_BODY });

/** Does not read the body: every request is scheduled without model, prefix text or cache salt. */
export class PassthroughParser implements RequestParser {
  readonly type = PASSTHROUGH_PARSER;
  constructor(readonly name: string) {}

  parse(_input: ParseInput): ParsedRequest {
    return PARSED;
  }

  rewriteModel(input: ParseInput, _parsed: ParsedRequest, _targetModel: string): Uint8Array {
    return input.body;
  }
}

export const registration: PluginRegistration = {
  type: PASSTHROUGH_PARSER,
  takesNoParameters: true,
  factory: (name) => new PassthroughParser(name),
};
