/**
 * ProcessingResponse written by hand. protobufjs's generated encoder builds a linked list of write
 * operations and forks a writer per nested message: ~9 KB of garbage for each routing answer and 3–4 % of
 * the EPP's CPU at 4 KB prompts (bench/heap-profile.ts, bench/cpu-profile.ts). Here one pass measures every
 * nested message (pre-order, lengths kept in a reused array), a second writes them into one buffer.
 *
 * The output is proto3's canonical form, as Envoy writes it: fields in number order, scalars at their
 * default left out, except where presence is the meaning (a set oneof member, an empty sub-message such as
 * the `response: {}` that says "continue"). For the gRPC frame form, bytes fields larger than `COPY_LIMIT`
 * (a body chunk) are not copied: they become their own part of the frame, written after the bytes before them.
 */
import { COPY_LIMIT } from './bare-grpc.js';
import type { CommonResponse, HeaderMutation, HeaderValue, HeaderValueOption, PbStruct, PbValue, ProcessingResponse } from './codec.js';


const LEN = 2;
const VARINT = 0;
const I64 = 1;

const tag = (field: number, wire: number) => (field << 3) | wire;

function varintSize(n: number): number {
  return n < 0x80 ? 1 : n < 0x4000 ? 2 : n < 0x200000 ? 3 : n < 0x10000000 ? 4 : 5;
}
/** An enum or int32 field: negatives take ten bytes on the wire. */
function intSize(n: number): number {
  return n < 0 ? 10 : varintSize(n);
}
/** HttpStatus / GrpcStatus: field 1, left out at 0. */
const varintMessageSize = (value: number) => (value ? 1 + intSize(value) : 0);

/** Tag + length prefix + content of a length-delimited field (all our tags fit in one byte). */
function lenField(content: number): number {
  return 1 + varintSize(content) + content;
}

type BodyMutation = NonNullable<CommonResponse['bodyMutation']>;
type Streamed = NonNullable<BodyMutation['streamedResponse']>;
type Immediate = NonNullable<ProcessingResponse['immediateResponse']>;

class Encoder {
  /** Pre-order: each nested message's length and each string's UTF-8 length, as the sizing pass met them. */
  readonly #lengths: number[] = [];
  #next = 0;
  /** Bytes in big fields that will travel as their own parts (only when framing). */
  #bigTotal = 0;
  /** Bytes fields longer than this become their own part: COPY_LIMIT when framing, never otherwise. */
  #big = Infinity;
  #buf: Buffer = Buffer.alloc(0);
  #pos = 0;
  #parts: Buffer[] = [];
  #segment = 0;

  /** The message alone (what grpc-js frames itself). */
  message(m: ProcessingResponse): Buffer {
    this.#big = Infinity;
    const size = this.#measure(m);
    this.#start(size, 0);
    this.#response(m);
    return this.#buf;
  }

  /** A whole gRPC message frame (5-byte prefix + message) as parts to write in order. */
  frame(m: ProcessingResponse): Buffer[] {
    this.#big = COPY_LIMIT;
    const size = this.#measure(m);
    this.#start(size - this.#bigTotal, 5);
    const buf = this.#buf;
    buf[0] = 0;
    buf.writeUInt32BE(size, 1);
    this.#response(m);
    const parts = this.#parts;
    if (this.#segment < this.#pos) parts.push(buf.subarray(this.#segment, this.#pos));
    this.#parts = [];
    return parts;
  }

  #measure(m: ProcessingResponse): number {
    this.#lengths.length = 0;
    this.#bigTotal = 0;
    return this.#sizeResponse(m);
  }

  #start(size: number, prefix: number): void {
    this.#buf = Buffer.allocUnsafe(prefix + size);
    this.#pos = prefix;
    this.#next = 0;
    this.#segment = 0;
  }

  // ---- sizing: returns a message's content size; reserves its length slot first (pre-order) ----

  #slot(): number {
    const i = this.#lengths.length;
    this.#lengths.push(0);
    return i;
  }

  #sized(slot: number, size: number): number {
    this.#lengths[slot] = size;
    return size;
  }

  #sizeString(s: string): number {
    const n = Buffer.byteLength(s);
    this.#lengths.push(n);
    return lenField(n);
  }

  #sizeBytes(b: Uint8Array): number {
    if (b.length > this.#big) this.#bigTotal += b.length;
    return lenField(b.length);
  }

  #sizeResponse(m: ProcessingResponse): number {
    let n = 0;
    if (m.requestHeaders) n += lenField(this.#sizeWrapped(m.requestHeaders.response));
    if (m.responseHeaders) n += lenField(this.#sizeWrapped(m.responseHeaders.response));
    if (m.requestBody) n += lenField(this.#sizeWrapped(m.requestBody.response));
    if (m.responseBody) n += lenField(this.#sizeWrapped(m.responseBody.response));
    if (m.requestTrailers) n += lenField(this.#sizeTrailers(m.requestTrailers.headerMutation));
    if (m.responseTrailers) n += lenField(this.#sizeTrailers(m.responseTrailers.headerMutation));
    if (m.immediateResponse) n += lenField(this.#sizeImmediate(m.immediateResponse));
    if (m.dynamicMetadata) n += lenField(this.#sizeStruct(m.dynamicMetadata));
    return n;
  }

  /** HeadersResponse / BodyResponse: `response` (1). */
  #sizeWrapped(r: CommonResponse | undefined): number {
    const slot = this.#slot();
    return this.#sized(slot, r ? lenField(this.#sizeCommon(r)) : 0);
  }

  /** TrailersResponse: `header_mutation` (1). */
  #sizeTrailers(h: HeaderMutation | undefined): number {
    const slot = this.#slot();
    return this.#sized(slot, h ? lenField(this.#sizeMutation(h)) : 0);
  }

  #sizeCommon(r: CommonResponse): number {
    const slot = this.#slot();
    let n = 0;
    if (r.status) n += 1 + intSize(r.status);
    if (r.headerMutation) n += lenField(this.#sizeMutation(r.headerMutation));
    if (r.bodyMutation) n += lenField(this.#sizeBodyMutation(r.bodyMutation));
    if (r.clearRouteCache) n += 2;
    return this.#sized(slot, n);
  }

  #sizeMutation(h: HeaderMutation): number {
    const slot = this.#slot();
    let n = 0;
    for (const o of h.setHeaders ?? []) n += lenField(this.#sizeOption(o));
    for (const s of h.removeHeaders ?? []) n += this.#sizeString(s);
    return this.#sized(slot, n);
  }

  #sizeOption(o: HeaderValueOption): number {
    const slot = this.#slot();
    let n = lenField(this.#sizeHeader(o.header));
    if (o.appendAction) n += 1 + intSize(o.appendAction);
    return this.#sized(slot, n);
  }

  #sizeHeader(h: HeaderValue): number {
    const slot = this.#slot();
    let n = 0;
    if (h.key) n += this.#sizeString(h.key);
    if (h.value) n += this.#sizeString(h.value);
    if (h.rawValue && h.rawValue.length > 0) n += this.#sizeBytes(h.rawValue);
    return this.#sized(slot, n);
  }

  #sizeBodyMutation(b: BodyMutation): number {
    const slot = this.#slot();
    let n = 0;
    // A oneof: whichever member is set is written, even empty or false (that is its meaning).
    if (has(b, 'body')) n += this.#sizeBytes(b.body!);
    else if (has(b, 'clearBody')) n += 2;
    else if (b.streamedResponse) n += lenField(this.#sizeStreamed(b.streamedResponse));
    return this.#sized(slot, n);
  }

  #sizeStreamed(s: Streamed): number {
    const slot = this.#slot();
    let n = 0;
    if (s.body && s.body.length > 0) n += this.#sizeBytes(s.body);
    if (s.endOfStream) n += 2;
    return this.#sized(slot, n);
  }

  #sizeImmediate(r: Immediate): number {
    const slot = this.#slot();
    let n = 0;
    if (r.status) n += lenField(varintMessageSize(r.status.code));
    if (r.headers) n += lenField(this.#sizeMutation(r.headers));
    if (r.body && r.body.length > 0) n += this.#sizeBytes(r.body);
    if (r.grpcStatus) n += lenField(varintMessageSize(r.grpcStatus.status));
    if (r.details) n += this.#sizeString(r.details);
    return this.#sized(slot, n);
  }

  #sizeStruct(s: PbStruct): number {
    const slot = this.#slot();
    let n = 0;
    const fields = s.fields;
    if (fields) for (const key in fields) n += lenField(this.#sizeEntry(key, fields[key]!));
    return this.#sized(slot, n);
  }

  /** A map entry: key (1), value (2). */
  #sizeEntry(key: string, value: PbValue): number {
    const slot = this.#slot();
    return this.#sized(slot, this.#sizeString(key) + lenField(this.#sizeValue(value)));
  }

  #sizeValue(v: PbValue): number {
    const slot = this.#slot();
    let n = 0;
    if (has(v, 'nullValue')) n = 2;
    else if (has(v, 'numberValue')) n = 9;
    else if (has(v, 'stringValue')) n = this.#sizeString(v.stringValue!);
    else if (has(v, 'boolValue')) n = 2;
    else if (v.structValue) n = lenField(this.#sizeStruct(v.structValue));
    else if (v.listValue) n = lenField(this.#sizeList(v.listValue.values ?? []));
    return this.#sized(slot, n);
  }

  #sizeList(values: readonly PbValue[]): number {
    const slot = this.#slot();
    let n = 0;
    for (const v of values) n += lenField(this.#sizeValue(v));
    return this.#sized(slot, n);
  }

  // ---- writing: the same walk, taking the lengths in the same order ----

  #varint(n: number): void {
    const buf = this.#buf;
    let pos = this.#pos;
    while (n >= 0x80) {
      buf[pos++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    buf[pos++] = n;
    this.#pos = pos;
  }

  #int(n: number): void {
    if (n >= 0) return this.#varint(n);
    // Negative int32/enum: sign-extended to 64 bits, ten bytes.
    const buf = this.#buf;
    let lo = n >>> 0;
    for (let i = 0; i < 4; i++) {
      buf[this.#pos++] = (lo & 0x7f) | 0x80;
      lo >>>= 7;
    }
    buf[this.#pos++] = (lo & 0x0f) | 0x70 | 0x80;
    for (let i = 0; i < 4; i++) buf[this.#pos++] = 0xff;
    buf[this.#pos++] = 0x01;
  }

  /** Tag and the next length from the sizing pass: the start of a nested message. */
  #open(field: number): void {
    this.#buf[this.#pos++] = tag(field, LEN);
    this.#varint(this.#lengths[this.#next++]!);
  }

  #string(field: number, s: string): void {
    const n = this.#lengths[this.#next++]!;
    this.#buf[this.#pos++] = tag(field, LEN);
    this.#varint(n);
    this.#pos += n < 64 && isAscii(s) ? this.#ascii(s) : this.#buf.write(s, this.#pos, 'utf8');
  }

  #ascii(s: string): number {
    const buf = this.#buf;
    const pos = this.#pos;
    for (let i = 0; i < s.length; i++) buf[pos + i] = s.charCodeAt(i);
    return s.length;
  }

  #bytes(field: number, b: Uint8Array): void {
    this.#buf[this.#pos++] = tag(field, LEN);
    this.#varint(b.length);
    if (b.length > this.#big) {
      // Its own part: the bytes so far, then the field itself; writing resumes in the same buffer.
      this.#parts.push(this.#buf.subarray(this.#segment, this.#pos), toBuffer(b));
      this.#segment = this.#pos;
      return;
    }
    this.#buf.set(b, this.#pos);
    this.#pos += b.length;
  }

  #bool(field: number, value: boolean): void {
    this.#buf[this.#pos++] = tag(field, VARINT);
    this.#buf[this.#pos++] = value ? 1 : 0;
  }

  #response(m: ProcessingResponse): void {
    if (m.requestHeaders) this.#wrapped(1, m.requestHeaders.response);
    if (m.responseHeaders) this.#wrapped(2, m.responseHeaders.response);
    if (m.requestBody) this.#wrapped(3, m.requestBody.response);
    if (m.responseBody) this.#wrapped(4, m.responseBody.response);
    if (m.requestTrailers) this.#trailers(5, m.requestTrailers.headerMutation);
    if (m.responseTrailers) this.#trailers(6, m.responseTrailers.headerMutation);
    if (m.immediateResponse) this.#immediate(7, m.immediateResponse);
    if (m.dynamicMetadata) this.#struct(8, m.dynamicMetadata);
  }

  #wrapped(field: number, r: CommonResponse | undefined): void {
    this.#open(field);
    if (r) this.#common(1, r);
  }

  #trailers(field: number, h: HeaderMutation | undefined): void {
    this.#open(field);
    if (h) this.#mutation(1, h);
  }

  #common(field: number, r: CommonResponse): void {
    this.#open(field);
    if (r.status) {
      this.#buf[this.#pos++] = tag(1, VARINT);
      this.#int(r.status);
    }
    if (r.headerMutation) this.#mutation(2, r.headerMutation);
    if (r.bodyMutation) this.#bodyMutation(3, r.bodyMutation);
    if (r.clearRouteCache) this.#bool(5, true);
  }

  #mutation(field: number, h: HeaderMutation): void {
    this.#open(field);
    for (const o of h.setHeaders ?? []) this.#option(1, o);
    for (const s of h.removeHeaders ?? []) this.#string(2, s);
  }

  #option(field: number, o: HeaderValueOption): void {
    this.#open(field);
    this.#header(1, o.header);
    if (o.appendAction) {
      this.#buf[this.#pos++] = tag(3, VARINT);
      this.#int(o.appendAction);
    }
  }

  #header(field: number, h: HeaderValue): void {
    this.#open(field);
    if (h.key) this.#string(1, h.key);
    if (h.value) this.#string(2, h.value);
    if (h.rawValue && h.rawValue.length > 0) this.#bytes(3, h.rawValue);
  }

  #bodyMutation(field: number, b: BodyMutation): void {
    this.#open(field);
    if (has(b, 'body')) this.#bytes(1, b.body!);
    else if (has(b, 'clearBody')) this.#bool(2, b.clearBody!);
    else if (b.streamedResponse) this.#streamed(3, b.streamedResponse);
  }

  #streamed(field: number, s: Streamed): void {
    this.#open(field);
    if (s.body && s.body.length > 0) this.#bytes(1, s.body);
    if (s.endOfStream) this.#bool(2, true);
  }

  #immediate(field: number, r: Immediate): void {
    this.#open(field);
    if (r.status) this.#varintMessage(1, r.status.code);
    if (r.headers) this.#mutation(2, r.headers);
    if (r.body && r.body.length > 0) this.#bytes(3, r.body);
    if (r.grpcStatus) this.#varintMessage(4, r.grpcStatus.status);
    if (r.details) this.#string(5, r.details);
  }

  /** A message whose one field (1) is a varint, HttpStatus or GrpcStatus: at most 11 bytes, so its length is one byte. */
  #varintMessage(field: number, value: number): void {
    this.#buf[this.#pos++] = tag(field, LEN);
    this.#buf[this.#pos++] = varintMessageSize(value);
    if (value) {
      this.#buf[this.#pos++] = tag(1, VARINT);
      this.#int(value);
    }
  }

  #struct(field: number, s: PbStruct): void {
    this.#open(field);
    const fields = s.fields;
    if (fields) for (const key in fields) this.#entry(1, key, fields[key]!);
  }

  #entry(field: number, key: string, value: PbValue): void {
    this.#open(field);
    this.#string(1, key);
    this.#value(2, value);
  }

  #value(field: number, v: PbValue): void {
    this.#open(field);
    if (has(v, 'nullValue')) {
      this.#buf[this.#pos++] = tag(1, VARINT);
      this.#buf[this.#pos++] = 0;
    } else if (has(v, 'numberValue')) {
      this.#buf[this.#pos++] = tag(2, I64);
      this.#pos = this.#buf.writeDoubleLE(v.numberValue!, this.#pos);
    } else if (has(v, 'stringValue')) this.#string(3, v.stringValue!);
    else if (has(v, 'boolValue')) this.#bool(4, v.boolValue!);
    else if (v.structValue) this.#struct(5, v.structValue);
    else if (v.listValue) {
      this.#open(6);
      for (const item of v.listValue.values ?? []) this.#value(1, item);
    }
  }
}

/**
 * Whether a oneof member is the one set. Own properties only: decoded protobufjs messages carry every
 * member's default on their prototype.
 */
function has<T extends object>(o: T, key: keyof T): boolean {
  return o[key] != null && Object.prototype.hasOwnProperty.call(o, key);
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

function toBuffer(b: Uint8Array): Buffer {
  return Buffer.isBuffer(b) ? b : Buffer.from(b.buffer, b.byteOffset, b.byteLength);
}

const encoder = new Encoder();

/** A ProcessingResponse as protobuf bytes. */
export function encodeProcessingResponse(m: ProcessingResponse): Buffer {
  return encoder.message(m);
}

/** A ProcessingResponse as one gRPC message frame, in parts (large bytes fields are not copied). */
export function frameProcessingResponse(m: ProcessingResponse): Buffer[] {
  return encoder.frame(m);
}
