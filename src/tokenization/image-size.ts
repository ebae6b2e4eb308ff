/**
 * Width and height of a base64 `data:image/…` URL's PNG, GIF or JPEG, read from its header only (what
 * Go's image.DecodeConfig gives llm-d's estimate). Undefined for anything else (remote URLs included).
 */
export interface ImageSize {
  readonly width: number;
  readonly height: number;
}

/** The decoded head of a base64 payload: enough for any of the three headers. */
function head(b64: string, bytes = 64 * 1024): Buffer {
  const chars = Math.ceil(bytes / 3) * 4;
  return Buffer.from(b64.slice(0, chars), 'base64');
}

function png(b: Buffer): ImageSize | undefined {
  if (b.length < 24 || b.readUInt32BE(0) !== 0x89504e47 || b.toString('latin1', 12, 16) !== 'IHDR') return undefined;
  return { width: b.readUInt32BE(16), height: b.readUInt32BE(20) };
}

function gif(b: Buffer): ImageSize | undefined {
  if (b.length < 10 || b.toString('latin1', 0, 3) !== 'GIF') return undefined;
  return { width: b.readUInt16LE(6), height: b.readUInt16LE(8) };
}

function jpeg(b: Buffer): ImageSize | undefined {
  if (b.length < 4 || b[0] !== 0xff || b[1] !== 0xd8) return undefined;
  let i = 2;
  while (i + 9 < b.length) {
    if (b[i] !== 0xff) return undefined;
    const marker = b[i + 1]!;
    if (marker === 0xd8 || marker === 0x01 || (marker >= 0xd0 && marker <= 0xd7)) {
      i += 2;
      continue;
    }
    const len = b.readUInt16BE(i + 2);
    // Start-of-frame markers (baseline, progressive, …) carry the size; DHT/JPG/DAC do not.
    if (marker >= 0xc0 && marker <= 0xcf && marker !== 0xc4 && marker !== 0xc8 && marker !== 0xcc) {
      return { width: b.readUInt16BE(i + 7), height: b.readUInt16BE(i + 5) };
    }
    i += 2 + len;
  }
  return undefined;
}

export function imageDimensions(url: string): ImageSize | undefined {
  if (!url.startsWith('data:image/')) return undefined;
  const at = url.indexOf('base64,');
  if (at < 0) return undefined;
  return imageDimensionsOfBase64(url.slice(at + 'base64,'.length));
}

export function imageDimensionsOfBase64(b64: string): ImageSize | undefined {
  const b = head(b64);
  const size = png(b) ?? gif(b) ?? jpeg(b);
  return size && size.width > 0 && size.height > 0 ? size : undefined;
}
