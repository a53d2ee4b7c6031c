#!/usr/bin/env python3
"""make_gateway_seeds.py: writes the seed inputs of fuzz/fuzz_gateway.c to
fuzz/corpus/fuzz_gateway/ (the input format is described at the top of that
file: a settings byte, then <op> <len> <bytes> steps)."""
import json, os, sys

out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "corpus", "fuzz_gateway")
os.makedirs(out, exist_ok=True)

GET, POST, HEAD = 0, 1, 2
PATHS = {"/props": 0, "/v1/chat/completions": 1, "/healthz": 2, "/v1/models": 3,
         "/slots": 4, "/v1/completions": 5, "/metrics": 6, "/": 7}

def step(op, data):
    data = bytes(data)
    assert len(data) < 256
    return bytes([op, len(data)]) + data

def req(method, path, content=b"", chunked=False, close=False, stream=False):
    sel = method | (PATHS[path] << 2) | (0x20 if chunked else 0) | (0x40 if close else 0) | (0x80 if stream else 0)
    return step(0, bytes([sel]) + content)

def ans(status_idx, body, framing=0, sse=False, cont=False, split=False):
    sel = status_idx | (framing << 3) | (0x20 if sse else 0) | (0x80 if cont else 0)
    return step(7 if split else 2, bytes([sel]) + body)

raw_c = lambda b: step(1, b)
raw_u = lambda b: step(3, b)
up_close = step(4, b"")
cli_close = step(5, b"")
turn = step(6, b"")

chat = json.dumps({"choices": [{"index": 0, "message": {"role": "assistant", "content": "hi"},
                               "finish_reason": "stop"}], "model": "tiny.gguf",
                  "usage": {"prompt_tokens": 5, "completion_tokens": 1, "total_tokens": 6}},
                 separators=(",", ":")).encode()
sse = (b'data: {"choices":[{"index":0,"delta":{"content":"hi"}}]}\n\n'
       b'data: {"choices":[{"index":0,"delta":{},"finish_reason":"length"}]}\n\ndata: [DONE]\n\n')

seeds = {
    "get_length": b"\0" + req(GET, "/props") + ans(0, b'{"ok":1}'),
    "post_chunked_then_close_delimited": b"\3" + req(POST, "/props", b"abc", chunked=True) +
        ans(1, b"chunked answer body", framing=1) + req(GET, "/slots") + ans(5, b"to the close", framing=2),
    "chat_plain": b"\0" + req(POST, "/v1/chat/completions", b"hello") + ans(0, chat),
    "chat_stream": b"\7" + req(POST, "/v1/chat/completions", b"hello", stream=True) + ans(0, sse, framing=1, sse=True, split=True),
    "client_cut_mid_stream": b"\0" + req(GET, "/props") +
        raw_u(b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n5\r\ndata:\r\n") + cli_close,
    "upstream_cut_mid_body": b"\0" + req(GET, "/props") +
        raw_u(b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\npartial") + up_close + req(GET, "/props") + ans(0, b"again"),
    "pipelined": b"\0" + req(GET, "/props") + req(POST, "/slots", b"x") + ans(0, b"one") + ans(6, b"two", framing=1),
    "head_and_continue": b"\0" + req(HEAD, "/props") + ans(0, b"body not sent", cont=True) + req(GET, "/healthz"),
    "garbage_request": b"\0" + raw_c(b"GARBAGE\r\n\r\n") + req(GET, "/props"),
    "connection_close": b"\0" + req(GET, "/props", close=True) + ans(0, b"last"),
    "local_routes": b"\1" + req(GET, "/healthz") + req(GET, "/v1/models") + req(GET, "/metrics") + req(POST, "/healthz"),
    "upstream_garbage": b"\0" + req(GET, "/props") + raw_u(b"NOT HTTP AT ALL\r\n\r\n") + req(GET, "/props") + ans(2, b"nf"),
    "upstream_204_and_503": b"\0" + req(GET, "/") + ans(7, b"") + req(GET, "/") + ans(4, b"busy", framing=3),
    "completions_stream_escalate": b"\0" + req(POST, "/v1/completions", b"count", stream=True) + ans(0, sse, framing=1, sse=True) + turn + ans(0, sse, framing=1, sse=True),
}
for name, data in seeds.items():
    with open(os.path.join(out, name), "wb") as f:
        f.write(data)
print(f"{len(seeds)} seeds in {out}", file=sys.stderr)
