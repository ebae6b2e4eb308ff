/**
 * Renders a chat request to the prompt text a vLLM server would build from it, with the model's own
 * Jinja chat template (`@huggingface/jinja`, Hugging Face's JavaScript implementation). vLLM's request
 * defaults apply: `add_generation_prompt` true, `continue_final_message` false, `chat_template_kwargs`
 * spread into the template's variables; text parts of array contents joined with "\n" for templates
 * that read `content` as a string; tool-call arguments given as JSON text handed to the template parsed.
 */
import { Template } from '@huggingface/jinja';

export interface ChatRenderInput {
  readonly messages: readonly unknown[];
  readonly tools?: unknown;
  readonly documents?: unknown;
  readonly addGenerationPrompt?: boolean;
  readonly continueFinalMessage?: boolean;
  readonly kwargs?: Readonly<Record<string, unknown>>;
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/**
 * Whether the template walks `message.content` as a list of parts ("openai" content format) rather than
 * using it as a string, judged from its source as vLLM judges it from the template's syntax tree.
 */
export function readsContentParts(template: string): boolean {
  return /for\s+\w+\s+in\s+\w+\s*(\[\s*['"]content['"]\s*\]|\.content)/.test(template) || /content\s+is\s+(not\s+)?(string|iterable|sequence)/.test(template);
}

function textOf(parts: readonly unknown[]): string {
  const texts: string[] = [];
  for (const p of parts) {
    if (typeof p === 'string') texts.push(p);
    else if (isObject(p) && (p.type === 'text' || p.type === 'input_text' || p.type === 'output_text') && typeof p.text === 'string') texts.push(p.text);
  }
  return texts.join('\n');
}

function normalizeMessage(m: unknown, partsFormat: boolean): unknown {
  if (!isObject(m)) return m;
  const out: Record<string, unknown> = { ...m };
  if (Array.isArray(m.content) && !partsFormat) out.content = textOf(m.content);
  if (m.content === undefined || m.content === null) {
    // vLLM hands templates an empty string for a message without content (tool-call-only assistant turns).
    out.content = '';
  }
  if (Array.isArray(m.tool_calls)) {
    out.tool_calls = m.tool_calls.map((call) => {
      if (!isObject(call) || !isObject(call.function)) return call;
      const args = call.function.arguments;
      if (typeof args !== 'string') return { ...call, function: { ...call.function, arguments: args ?? {} } };
      if (args === '') return { ...call, function: { ...call.function, arguments: {} } };
      try {
        return { ...call, function: { ...call.function, arguments: JSON.parse(args) as unknown } };
      } catch {
        return call;
      }
    });
  }
  return out;
}

export class ChatTemplate {
  readonly #template: Template;
  readonly #partsFormat: boolean;
  readonly #tokens: Readonly<Record<string, string>>;

  /** `tokens`: `bos_token`, `eos_token`… as the tokenizer config names them. Throws on a template that does not parse. */
  constructor(source: string, tokens: Readonly<Record<string, string>>) {
    this.#template = new Template(source);
    this.#partsFormat = readsContentParts(source);
    this.#tokens = tokens;
  }

  render(input: ChatRenderInput): string {
    const messages = input.messages.map((m) => normalizeMessage(m, this.#partsFormat));
    const vars: Record<string, unknown> = {
      ...this.#tokens,
      ...(input.kwargs ?? {}),
      messages,
      add_generation_prompt: input.addGenerationPrompt ?? true,
      continue_final_message: input.continueFinalMessage ?? false,
    };
    if (input.tools !== undefined && input.tools !== null) vars.tools = input.tools;
    if (input.documents !== undefined && input.documents !== null) vars.documents = input.documents;
    let text = this.#template.render(vars);
    if (input.continueFinalMessage) {
      // As transformers: the prompt ends where the final message's text ends (its closing tokens cut).
      const last = messages[messages.length - 1];
      const content = isObject(last) && typeof last.content === 'string' ? last.content.trim() : '';
      const at = content ? text.lastIndexOf(content) : -1;
      if (at >= 0) text = text.slice(0, at + content.length);
    }
    return text;
  }
}

/** The chat fields of an OpenAI chat-completions body, as the template wants them. */
export function chatRenderInput(json: Readonly<Record<string, unknown>>): ChatRenderInput {
  const kwargs = isObject(json.chat_template_kwargs) ? json.chat_template_kwargs : undefined;
  return {
    messages: Array.isArray(json.messages) ? json.messages : [],
    tools: json.tools,
    documents: json.documents,
    ...(typeof json.add_generation_prompt === 'boolean' ? { addGenerationPrompt: json.add_generation_prompt } : {}),
    ...(typeof json.continue_final_message === 'boolean' ? { continueFinalMessage: json.continue_final_message } : {}),
    ...(kwargs ? { kwargs } : {}),
  };
}
