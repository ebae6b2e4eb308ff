/**
 * Real text for tokenizer tests: this repository's README and the READMEs of installed packages (prose,
 * tables, code, URLs), plus a few lines in other scripts and with emoji, CRLF and tabs, so byte-level
 * pre-tokenisation sees more than ASCII.
 */
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (tests run from dist/test/…). */
export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');

const SOURCES = ['README.md', 'node_modules/piscina/README.md', 'node_modules/zod/README.md', 'node_modules/@grpc/grpc-js/README.md', 'node_modules/protobufjs/README.md'];

const MULTILINGUAL = [
  '东京是日本的首都，人口超过一千三百万。我们今天讨论的是推理网关的路由策略。',
  'Москва — столица России. Сегодня мы обсуждаем маршрутизацию запросов к моделям.',
  'مرحبا بالعالم! هذا نص عربي قصير للاختبار.',
  'Emoji and symbols: 🚀🔥 ✓ ≠ ≤ ∑ — “quotes” and ‘single’ … done.',
  'Windows line endings\r\nand\ttabs\t\there,   multiple   spaces,\n\n\nand blank lines.',
  'def f(x):\n    return {"a": [1, 2.5, -3e10], "b": None}  # a comment\n',
];

/** About `bytes` of real text, in paragraphs (blank-line separated), multilingual lines interleaved. */
export function realParagraphs(bytes = 400_000): string[] {
  const out: string[] = [];
  let total = 0;
  let k = 0;
  for (let round = 0; total < bytes; round++) {
    for (const file of SOURCES) {
      const full = path.join(repoRoot, file);
      if (!fs.existsSync(full)) continue;
      for (const p of fs.readFileSync(full, 'utf8').split(/\n\s*\n/)) {
        if (p.trim() === '') continue;
        const para = round === 0 ? p : `${p} (${round})`;
        out.push(para);
        total += para.length;
        if (out.length % 7 === 0) out.push(MULTILINGUAL[k++ % MULTILINGUAL.length]!);
        if (total >= bytes) return out;
      }
    }
  }
  return out;
}

/** `realParagraphs` joined into chunks of about `size` characters. */
export function realChunks(count: number, size: number): string[] {
  const paras = realParagraphs(2 * count * size + 10_000);
  const chunks: string[] = [];
  let cur = '';
  for (const p of paras) {
    cur = cur ? `${cur}\n\n${p}` : p;
    if (cur.length >= size) {
      chunks.push(cur);
      cur = '';
      if (chunks.length === count) break;
    }
  }
  return chunks;
}
