/**
 * The routing lab's workloads: seeded request streams that exercise what routing can win or lose. A
 * request is a chat prompt (system + user text), its output length and when it is sent. Same seed, same
 * stream, byte for byte.
 */
import { seededRandom } from '../scheduling/random.js';

export type WorkloadKind = 'shared-prefix' | 'multi-turn' | 'unique' | 'bursts';
export const WORKLOAD_KINDS: readonly WorkloadKind[] = ['shared-prefix', 'multi-turn', 'unique', 'bursts'];

export interface WorkloadOptions {
  readonly kind: WorkloadKind;
  /** Requests per second (mean). */
  readonly rate: number;
  readonly seconds: number;
  readonly seed: number;
  /** Shared-prefix: how many distinct system prompts, and their length in tokens (~4 characters each). */
  readonly groups?: number;
  readonly prefixTokens?: number;
}

export interface LabRequest {
  /** ms after the start. */
  readonly at: number;
  readonly system: string;
  readonly user: string;
  readonly maxTokens: number;
  /** Which shared prefix or conversation it belongs to ('' for none). */
  readonly group: string;
}

const WORDS = 'the of and to in is that for it as with was on be by this are from or at an which but not have one all were they we when more their there been if has can will would who into some what out about time only other new could these may two then do first any my now such like our over man me even most made after also did many before must through back years where much your way well down should because each just those people how too little state good very make world still own see men work long get here between both life being under never day same another know while last might us great old year off come since against go came right used take three'.split(' ');

function text(rnd: () => number, tokens: number): string {
  const out: string[] = [];
  let chars = 0;
  while (chars < tokens * 4) {
    const w = WORDS[Math.floor(rnd() * WORDS.length)]!;
    out.push(w);
    chars += w.length + 1;
  }
  return out.join(' ');
}

/** Exponential gaps (Poisson arrivals); `bursts` sends its requests in clumps of 10 at the same mean rate. */
function arrivals(rnd: () => number, o: WorkloadOptions): number[] {
  const times: number[] = [];
  const end = o.seconds * 1000;
  if (o.kind === 'bursts') {
    for (let t = 0; ; ) {
      t += (-Math.log(1 - rnd()) / (o.rate / 10)) * 1000;
      if (t >= end) return times;
      for (let i = 0; i < 10; i++) times.push(t + i);
    }
  }
  for (let t = 0; ; ) {
    t += (-Math.log(1 - rnd()) / o.rate) * 1000;
    if (t >= end) return times;
    times.push(t);
  }
}

export function workload(o: WorkloadOptions): LabRequest[] {
  if (!(o.rate > 0) || !(o.seconds > 0)) throw new Error('rate and seconds must be positive');
  const rnd = seededRandom(o.seed).next;
  const times = arrivals(rnd, o);
  const groups = o.groups ?? 16;
  const prefixTokens = o.prefixTokens ?? 3000;
  const systems = Array.from({ length: groups }, (_, g) => `System prompt ${g}. ${text(rnd, prefixTokens)}`);
  const conversations: { system: string; turns: string[] }[] = [];
  return times.map((at, i) => {
    const maxTokens = 16 + Math.floor(rnd() * 48);
    switch (o.kind) {
      case 'shared-prefix':
      case 'bursts': {
        const g = Math.floor(rnd() * groups);
        return { at, system: systems[g]!, user: `Question ${i}: ${text(rnd, 40)}`, maxTokens, group: `g${g}` };
      }
      case 'unique':
        return { at, system: `Request ${i}. ${text(rnd, 200)}`, user: text(rnd, prefixTokens / 2), maxTokens, group: '' };
      case 'multi-turn': {
        // A new conversation one time in four; otherwise the next turn of a random open one.
        if (conversations.length === 0 || rnd() < 0.25) conversations.push({ system: `Conversation ${conversations.length}. ${text(rnd, prefixTokens / 3)}`, turns: [] });
        const c = Math.floor(rnd() * conversations.length);
        const conv = conversations[c]!;
        conv.turns.push(`Turn ${conv.turns.length}: ${text(rnd, 150)}`);
        return { at, system: conv.system, user: conv.turns.join('\n'), maxTokens, group: `c${c}` };
      }
    }
  });
}
