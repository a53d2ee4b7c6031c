#!/usr/bin/env python3
"""make_tokenizer_gguf_seeds.py: writes the small GGUF seeds of
fuzz/corpus/fuzz_tokenizer_gguf (standard library only, GGUF v3 layout from
ggml docs/gguf.md): one per tokenizer kind tokenizer_gguf.c builds (gpt2 with
a pre-tokenizer, llama SentencePiece with scores and byte tokens, gemma4), one
refused kind (bert) and one with an embedded tokenizer.huggingface.json.
Run: python3 fuzz/make_tokenizer_gguf_seeds.py fuzz/corpus/fuzz_tokenizer_gguf
"""
import json, os, struct, sys

U32, I32, F32, BOOL, STR, ARR = 4, 5, 6, 7, 8, 9

def s(b):
    b = b.encode() if isinstance(b, str) else b
    return struct.pack('<Q', len(b)) + b

def val(t, v):
    if t == U32: return struct.pack('<I', v)
    if t == I32: return struct.pack('<i', v)
    if t == F32: return struct.pack('<f', v)
    if t == BOOL: return struct.pack('<B', 1 if v else 0)
    if t == STR: return s(v)
    et, items = v
    return struct.pack('<IQ', et, len(items)) + b''.join(val(et, x) for x in items)

def gguf(kvs):
    out = b'GGUF' + struct.pack('<IQQ', 3, 0, len(kvs))
    for k, t, v in kvs:
        out += s(k) + struct.pack('<I', t) + val(t, v)
    return out

def bl(text):  # GPT-2 byte-level form of ASCII text (space -> U+0120)
    return text.replace(' ', '\u0120')

def main(d):
    os.makedirs(d, exist_ok=True)
    # gpt2 / qwen2
    toks = [chr(c) for c in range(33, 127)] + ['\u0120', '\u010a', bl(' t'), bl(' th'), 'he', bl(' the'), 'in', '<|endoftext|>', '<|im_end|>']
    types = [1] * (len(toks) - 2) + [3, 3]
    merges = ['\u0120 t', '\u0120t h', 'h e', '\u0120th e', 'i n']
    open(f'{d}/gpt2_qwen2.gguf', 'wb').write(gguf([
        ('tokenizer.ggml.model', STR, 'gpt2'), ('tokenizer.ggml.pre', STR, 'qwen2'),
        ('tokenizer.ggml.tokens', ARR, (STR, toks)), ('tokenizer.ggml.token_type', ARR, (I32, types)),
        ('tokenizer.ggml.merges', ARR, (STR, merges)), ('tokenizer.ggml.eos_token_id', U32, len(toks) - 2),
        ('tokenizer.chat_template', STR, '{{ messages }}')]))
    # llama SentencePiece
    sp = ['<unk>', '<s>', '</s>'] + ['<0x%02X>' % b for b in range(256)] + \
         ['\u2581', 'h', 'e', 'l', 'o', '\u2581h', 'he', 'll', '\u2581he', 'llo', '\u2581hello', 'w', 'r', 'd']
    sptypes = [2, 3, 3] + [6] * 256 + [1] * (len(sp) - 259)
    scores = [0.0, 0.0, 0.0] + [0.0] * 256 + [-float(i) for i in range(len(sp) - 259)]
    open(f'{d}/llama_spm.gguf', 'wb').write(gguf([
        ('tokenizer.ggml.model', STR, 'llama'), ('tokenizer.ggml.pre', STR, 'default'),
        ('tokenizer.ggml.tokens', ARR, (STR, sp)), ('tokenizer.ggml.token_type', ARR, (I32, sptypes)),
        ('tokenizer.ggml.scores', ARR, (F32, scores)), ('tokenizer.ggml.bos_token_id', U32, 1),
        ('tokenizer.ggml.eos_token_id', U32, 2), ('tokenizer.ggml.add_bos_token', BOOL, True)]))
    # gemma4
    g4 = ['<pad>', '<eos>', '<bos>', '<unk>'] + ['<0x%02X>' % b for b in range(256)] + ['\u2581', 'a', 'b', '\u2581a', 'ab']
    g4types = [3, 3, 3, 2] + [6] * 256 + [1] * 5
    open(f'{d}/gemma4.gguf', 'wb').write(gguf([
        ('tokenizer.ggml.model', STR, 'gemma4'), ('tokenizer.ggml.tokens', ARR, (STR, g4)),
        ('tokenizer.ggml.token_type', ARR, (I32, g4types)), ('tokenizer.ggml.merges', ARR, (STR, ['\u2581 a', 'a b'])),
        ('tokenizer.ggml.bos_token_id', U32, 2), ('tokenizer.ggml.eos_token_id', U32, 1),
        ('tokenizer.ggml.unknown_token_id', U32, 3), ('tokenizer.ggml.add_space_prefix', BOOL, False)]))
    # bert: refused
    open(f'{d}/bert_refused.gguf', 'wb').write(gguf([
        ('tokenizer.ggml.model', STR, 'bert'), ('tokenizer.ggml.tokens', ARR, (STR, ['[PAD]', 'a']))]))
    # embedded tokenizer.json
    tj = {"version": "1.0", "truncation": None, "padding": None, "added_tokens": [], "normalizer": None,
          "pre_tokenizer": {"type": "ByteLevel", "add_prefix_space": False, "trim_offsets": True, "use_regex": True},
          "post_processor": None, "decoder": {"type": "ByteLevel", "add_prefix_space": True, "trim_offsets": True, "use_regex": True},
          "model": {"type": "BPE", "dropout": None, "unk_token": None, "continuing_subword_prefix": None,
                    "end_of_word_suffix": None, "fuse_unk": False, "byte_fallback": False, "ignore_merges": False,
                    "vocab": {c: i for i, c in enumerate(toks[:-2])}, "merges": merges}}
    open(f'{d}/hf_json.gguf', 'wb').write(gguf([
        ('tokenizer.ggml.model', STR, 'gpt2'), ('tokenizer.huggingface.json', STR, json.dumps(tj)),
        ('tokenizer.ggml.tokens', ARR, (STR, toks)), ('tokenizer.ggml.eos_token_id', U32, 3)]))

if __name__ == '__main__':
    main(sys.argv[1] if len(sys.argv) > 1 else 'fuzz/corpus/fuzz_tokenizer_gguf')
