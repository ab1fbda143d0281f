#!/usr/bin/env node
// Writes a seeded random-weight llama model as GGUF v3 (F32 tensors), for the demo stack's
// CPU model server (llama-server). No pretrained model is reachable offline, and a demo
// endpoint only needs something llama.cpp loads and answers with: the text is random.
//
//   node stack/models/make-gguf.mjs --size tiny|small [--seed 42] --out FILE
//
// The same size and seed always give the same bytes. The vocabulary is byte-level (SPM
// "llama" tokenizer): printable ASCII are normal tokens, every other byte is "<0xNN>" with
// token type CONTROL, so a random model never emits invalid UTF-8 (which llama-server would
// answer with a 500); control tokens are not rendered into the text.
import { closeSync, fsyncSync, openSync, renameSync, writeSync } from 'node:fs';
import { parseArgs } from 'node:util';

/** Model shapes: tiny ≈157k parameters (0.6 MB), small ≈21.9M parameters (87 MB). */
const SIZES = {
  tiny: { embd: 64, layers: 3, heads: 4, headsKv: 4, ff: 128, context: 2048 },
  small: { embd: 512, layers: 6, heads: 8, headsKv: 8, ff: 1664, context: 2048 }
};

const ALIGNMENT = 32;
const GGUF_VERSION = 3;
// GGUF metadata value types.
const T = { UINT32: 4, INT32: 5, FLOAT32: 6, BOOL: 7, STRING: 8, ARRAY: 9 };
// llama.cpp token types.
const TOKEN = { NORMAL: 1, UNKNOWN: 2, CONTROL: 3 };
const GGML_TYPE_F32 = 0;
const CHATML =
  "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";

/** mulberry32: a small seeded PRNG, uniform in [0, 1). */
function prng(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** The vocabulary: <unk> <s> </s>, 256 byte tokens, <|im_start|> <|im_end|>. */
function vocabulary() {
  const tokens = ['<unk>', '<s>', '</s>'];
  const types = [TOKEN.UNKNOWN, TOKEN.CONTROL, TOKEN.CONTROL];
  for (let b = 0; b < 256; b++) {
    if (b === 0x20) {
      tokens.push('\u2581'); // SPM writes a space as U+2581
      types.push(TOKEN.NORMAL);
    } else if (b > 0x20 && b < 0x7f) {
      tokens.push(String.fromCharCode(b));
      types.push(TOKEN.NORMAL);
    } else {
      tokens.push(`<0x${b.toString(16).toUpperCase().padStart(2, '0')}>`);
      types.push(TOKEN.CONTROL);
    }
  }
  tokens.push('<|im_start|>', '<|im_end|>');
  types.push(TOKEN.CONTROL, TOKEN.CONTROL);
  return { tokens, types, scores: tokens.map((_, i) => -i) };
}

/** Little-endian byte writer for the header and metadata. */
class Writer {
  constructor() {
    this.chunks = [];
    this.length = 0;
  }
  push(buf) {
    this.chunks.push(buf);
    this.length += buf.length;
  }
  u32(v) {
    const b = Buffer.alloc(4);
    b.writeUInt32LE(v);
    this.push(b);
  }
  i32(v) {
    const b = Buffer.alloc(4);
    b.writeInt32LE(v);
    this.push(b);
  }
  u64(v) {
    const b = Buffer.alloc(8);
    b.writeBigUInt64LE(BigInt(v));
    this.push(b);
  }
  f32(v) {
    const b = Buffer.alloc(4);
    b.writeFloatLE(v);
    this.push(b);
  }
  str(s) {
    const b = Buffer.from(s, 'utf8');
    this.u64(b.length);
    this.push(b);
  }
  buffer() {
    return Buffer.concat(this.chunks, this.length);
  }
}

function writeValue(w, type, value) {
  switch (type) {
    case T.UINT32:
      return w.u32(value);
    case T.INT32:
      return w.i32(value);
    case T.FLOAT32:
      return w.f32(value);
    case T.BOOL:
      return w.push(Buffer.from([value ? 1 : 0]));
    case T.STRING:
      return w.str(value);
    default:
      throw new Error(`unsupported metadata type ${type}`);
  }
}

function metadata(size, shape, vocab) {
  const headDim = shape.embd / shape.heads;
  return [
    ['general.architecture', T.STRING, 'llama'],
    ['general.name', T.STRING, `${size}-random`],
    [
      'general.description',
      T.STRING,
      'Random weights (seeded): produces random text.'
    ],
    ['general.file_type', T.UINT32, 0], // all F32
    ['general.alignment', T.UINT32, ALIGNMENT],
    ['llama.context_length', T.UINT32, shape.context],
    ['llama.embedding_length', T.UINT32, shape.embd],
    ['llama.block_count', T.UINT32, shape.layers],
    ['llama.feed_forward_length', T.UINT32, shape.ff],
    ['llama.attention.head_count', T.UINT32, shape.heads],
    ['llama.attention.head_count_kv', T.UINT32, shape.headsKv],
    ['llama.rope.dimension_count', T.UINT32, headDim],
    ['llama.rope.freq_base', T.FLOAT32, 10000],
    ['llama.attention.layer_norm_rms_epsilon', T.FLOAT32, 1e-5],
    ['llama.vocab_size', T.UINT32, vocab.tokens.length],
    ['tokenizer.ggml.model', T.STRING, 'llama'],
    ['tokenizer.ggml.tokens', [T.ARRAY, T.STRING], vocab.tokens],
    ['tokenizer.ggml.scores', [T.ARRAY, T.FLOAT32], vocab.scores],
    ['tokenizer.ggml.token_type', [T.ARRAY, T.INT32], vocab.types],
    ['tokenizer.ggml.unknown_token_id', T.UINT32, 0],
    ['tokenizer.ggml.bos_token_id', T.UINT32, 1],
    ['tokenizer.ggml.eos_token_id', T.UINT32, 2],
    ['tokenizer.ggml.add_bos_token', T.BOOL, true],
    ['tokenizer.ggml.add_eos_token', T.BOOL, false],
    ['tokenizer.chat_template', T.STRING, CHATML]
  ];
}

/** Tensor names and shapes (ne0 first, as GGUF stores them) with their init. */
function tensors(shape, nVocab) {
  const { embd, ff, layers, heads, headsKv } = shape;
  const kv = (embd / heads) * headsKv;
  const list = [
    { name: 'token_embd.weight', dims: [embd, nVocab], scale: 1 },
    { name: 'output_norm.weight', dims: [embd], ones: true },
    { name: 'output.weight', dims: [embd, nVocab], scale: 1 / Math.sqrt(embd) }
  ];
  for (let i = 0; i < layers; i++) {
    const p = `blk.${i}.`;
    list.push(
      { name: `${p}attn_norm.weight`, dims: [embd], ones: true },
      {
        name: `${p}attn_q.weight`,
        dims: [embd, embd],
        scale: 1 / Math.sqrt(embd)
      },
      {
        name: `${p}attn_k.weight`,
        dims: [embd, kv],
        scale: 1 / Math.sqrt(embd)
      },
      {
        name: `${p}attn_v.weight`,
        dims: [embd, kv],
        scale: 1 / Math.sqrt(embd)
      },
      {
        name: `${p}attn_output.weight`,
        dims: [embd, embd],
        scale: 1 / Math.sqrt(embd)
      },
      { name: `${p}ffn_norm.weight`, dims: [embd], ones: true },
      {
        name: `${p}ffn_gate.weight`,
        dims: [embd, ff],
        scale: 1 / Math.sqrt(embd)
      },
      {
        name: `${p}ffn_up.weight`,
        dims: [embd, ff],
        scale: 1 / Math.sqrt(embd)
      },
      {
        name: `${p}ffn_down.weight`,
        dims: [ff, embd],
        scale: 1 / Math.sqrt(ff)
      }
    );
  }
  return list;
}

const pad = n => (ALIGNMENT - (n % ALIGNMENT)) % ALIGNMENT;

function main() {
  const { values } = parseArgs({
    options: {
      size: { type: 'string', default: 'tiny' },
      seed: { type: 'string', default: '42' },
      out: { type: 'string' }
    }
  });
  const shape = SIZES[values.size];
  const seed = Number(values.seed);
  if (!shape || !values.out || !Number.isInteger(seed)) {
    process.stderr.write(
      'usage: make-gguf.mjs --size tiny|small [--seed N] --out FILE\n'
    );
    process.exit(2);
  }
  const vocab = vocabulary();
  const meta = metadata(values.size, shape, vocab);
  const list = tensors(shape, vocab.tokens.length);

  const w = new Writer();
  w.push(Buffer.from('GGUF', 'ascii'));
  w.u32(GGUF_VERSION);
  w.u64(list.length);
  w.u64(meta.length);
  for (const [key, type, value] of meta) {
    w.str(key);
    if (Array.isArray(type)) {
      w.u32(T.ARRAY);
      w.u32(type[1]);
      w.u64(value.length);
      for (const v of value) writeValue(w, type[1], v);
    } else {
      w.u32(type);
      writeValue(w, type, value);
    }
  }
  let offset = 0;
  let params = 0;
  for (const t of list) {
    const count = t.dims.reduce((a, b) => a * b, 1);
    w.str(t.name);
    w.u32(t.dims.length);
    for (const d of t.dims) w.u64(d);
    w.u32(GGML_TYPE_F32);
    w.u64(offset);
    t.offset = offset;
    t.count = count;
    offset += count * 4 + pad(count * 4);
    params += count;
  }
  w.push(Buffer.alloc(pad(w.length)));

  const tmp = `${values.out}.tmp-${process.pid}`;
  const fd = openSync(tmp, 'w', 0o644);
  try {
    writeSync(fd, w.buffer());
    const random = prng(seed);
    for (const t of list) {
      const data = new Float32Array(t.count);
      if (t.ones) {
        data.fill(1);
      } else {
        for (let i = 0; i < t.count; i++)
          data[i] = (random() * 2 - 1) * t.scale;
      }
      writeSync(fd, Buffer.from(data.buffer));
      writeSync(fd, Buffer.alloc(pad(t.count * 4)));
    }
    fsyncSync(fd);
  } finally {
    closeSync(fd);
  }
  renameSync(tmp, values.out);
  process.stdout.write(
    `${values.out}: ${values.size}, seed ${seed}, ${params} parameters, ${list.length} tensors\n`
  );
}

main();
