/**
 * One whole ext_proc exchange as Envoy sends it in FULL_DUPLEX_STREAMED, as gRPC frames (1 byte 0 =
 * uncompressed, 4-byte big-endian length, the ProcessingRequest's protobuf bytes): request_headers (with
 * protocol_config), the chat-completion request body in 64 KB chunks (end_of_stream on the last),
 * response_headers, and a JSON completion with usage as the response body. A load generator posts the
 * file as the body of one gRPC call, so every HTTP/2 stream is one request through the proxy.
 */
import { writeFileSync } from 'node:fs';
import { BodySendMode, encodeRequest, type ProcessingRequest } from '../src/extproc/codec.js';

/** Envoy hands the body over in buffer slices; 64 KB is what it sends for a large upload. */
export const ENVOY_BODY_CHUNK_BYTES = 64 * 1024;
export const BENCH_MODEL = 'meta-llama/Llama-3.1-8B-Instruct';

const header = (key: string, value: string) => ({ key, rawValue: Buffer.from(value, 'utf8') });

/** Overwritten per request by the varied-prompt client (bench/replay-client.ts) with a request number. */
export const PROMPT_MARKER = '~~~~~~~~~~~~';

/**
 * A chat completion request whose user message has exactly `promptBytes` bytes of content; with
 * `markerAt`, PROMPT_MARKER sits at that offset of the content (the bytes before it are what varied
 * requests share).
 */
export function chatBody(promptBytes: number, markerAt?: number): Buffer {
  let content = '';
  for (let i = 0; content.length < promptBytes; i++) content += `Sentence ${i}: tell me more about the topic, precisely and with sources. `;
  content = content.slice(0, promptBytes);
  if (markerAt !== undefined) content = content.slice(0, markerAt) + PROMPT_MARKER + content.slice(markerAt + PROMPT_MARKER.length);
  return Buffer.from(JSON.stringify({ model: BENCH_MODEL, messages: [{ role: 'system', content: 'You are a helpful assistant.' }, { role: 'user', content }], max_tokens: 128 }));
}

export function completionBody(): Buffer {
  return Buffer.from(
    JSON.stringify({
      id: 'chatcmpl-bench',
      object: 'chat.completion',
      created: 1_700_000_000,
      model: BENCH_MODEL,
      choices: [{ index: 0, message: { role: 'assistant', content: 'Here is a short answer to the question, with a source or two. '.repeat(8) }, finish_reason: 'stop' }],
      usage: { prompt_tokens: 1000, completion_tokens: 128, total_tokens: 1128 },
    }),
  );
}

/** The exchange's messages in order, as Envoy sends them. */
export function exchangeMessages(promptBytes: number, markerAt?: number): ProcessingRequest[] {
  const body = chatBody(promptBytes, markerAt);
  const out: ProcessingRequest[] = [
    {
      request: 'requestHeaders',
      requestHeaders: {
        headers: { headers: [header(':method', 'POST'), header(':path', '/v1/chat/completions'), header(':authority', 'inference.example.com'), header('content-type', 'application/json')] },
        endOfStream: false,
      },
      protocolConfig: { requestBodyMode: BodySendMode.FULL_DUPLEX_STREAMED, responseBodyMode: BodySendMode.FULL_DUPLEX_STREAMED },
    },
  ];
  for (let i = 0; i < body.length; i += ENVOY_BODY_CHUNK_BYTES) {
    const end = Math.min(body.length, i + ENVOY_BODY_CHUNK_BYTES);
    out.push({ request: 'requestBody', requestBody: { body: body.subarray(i, end), endOfStream: end === body.length } });
  }
  out.push({ request: 'responseHeaders', responseHeaders: { headers: { headers: [header(':status', '200'), header('content-type', 'application/json')] }, endOfStream: false } });
  out.push({ request: 'responseBody', responseBody: { body: completionBody(), endOfStream: true } });
  return out;
}

/** gRPC length-prefixed framing of one message. */
export function grpcFrame(message: Buffer): Buffer {
  const prefix = Buffer.alloc(5);
  prefix.writeUInt8(0, 0);
  prefix.writeUInt32BE(message.length, 1);
  return Buffer.concat([prefix, message]);
}

export function exchangeFrames(promptBytes: number): Buffer {
  return Buffer.concat(exchangeMessages(promptBytes).map((m) => grpcFrame(encodeRequest(m))));
}

/** The frames with PROMPT_MARKER at `sharedBytes` into the prompt, and where the marker lies in them. */
export function exchangeFramesWithMarker(promptBytes: number, sharedBytes: number): { frames: Buffer; markerAt: number } {
  const frames = Buffer.concat(exchangeMessages(promptBytes, Math.min(sharedBytes, promptBytes - PROMPT_MARKER.length)).map((m) => grpcFrame(encodeRequest(m))));
  return { frames, markerAt: frames.indexOf(PROMPT_MARKER, 0, 'latin1') };
}

export function writeFramesFile(path: string, promptBytes: number): void {
  writeFileSync(path, exchangeFrames(promptBytes));
}
