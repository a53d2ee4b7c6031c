# shellcheck shell=bash
# bench/lib.sh: shell shared by the bench scripts (sourced, not run): a
# scratch directory with a cleanup trap that stops every process started,
# free-port and wait-for-port helpers, RESULT lines (bench/summary.js reads
# them), and nginx as a static OpenAI-compatible upstream (`return 200`)
# plus a plain keep-alive reverse proxy in front of a backend.
#   . "$here/bench/lib.sh"; bench_init tg-NAME
# bench_init sets $work (a fresh /tmp/tg-NAME.XXXXXX) and pids=(); append
# each background process's pid to pids; on exit all are killed and $work
# removed.

bench_init() { # bench_init PREFIX
  work=$(mktemp -d "/tmp/$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}
bench_cleanup() {
  local p
  for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
  for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
  rm -rf "$work"
}
# port: a free TCP port on 127.0.0.1
port() { node -e 'const s=require("net").createServer();s.listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close();});'; }
# wait_port PORT [TRIES]: until something listens there (TRIES x 50 ms, default 100)
wait_port() {
  local _
  for _ in $(seq 1 "${2:-100}"); do (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null && return 0; sleep 0.05; done
  return 1
}
# result PART KEY VALUE [UNIT]: one machine-readable figure for bench/summary.js
result() { echo "RESULT $*"; }
# wrk_post_lua LUAFILE BODYFILE: a wrk script POSTing that file as JSON
wrk_post_lua() {
  cat >"$1" <<LUA
local f = io.open("$2", "rb"); local body = f:read("*a"); f:close()
wrk.method = "POST"; wrk.body = body; wrk.headers["Content-Type"] = "application/json"
LUA
}

BENCH_ANSWER='{"id":"c1","object":"chat.completion","model":"bench","choices":[{"index":0,"message":{"role":"assistant","content":"ok"},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":1,"total_tokens":10}}'
# nginx_conf DIR BACKEND_PORT SERVERS: DIR/nginx.conf for one worker, no
# access log, upstream "backend" (keep-alive) at BACKEND_PORT, and the server
# blocks SERVERS. nginx_proxy_server PORT: the reverse proxy's server block.
# gateway_cost.sh measures the same proxy alone.
nginx_conf() {
  mkdir -p "$1/logs"
  cat >"$1/nginx.conf" <<CONF
worker_processes 1;
pid $1/nginx.pid;
error_log $1/logs/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_buffer_size 1m;
  client_max_body_size 8m;
  upstream backend { server 127.0.0.1:$2; keepalive 64; }
$3
}
CONF
}
nginx_proxy_server() {
  printf '  server {\n    listen 127.0.0.1:%s;\n    keepalive_requests 1000000;\n' "$1"
  printf '    location / { proxy_pass http://backend; proxy_http_version 1.1; proxy_set_header Connection ""; }\n  }\n'
}
# start_nginx_static STATIC_PORT PROXY_PORT BACKEND_PORT MAX_MODEL_LEN:
# one nginx (worker_processes 1, config under $work/nginx) serving on
# STATIC_PORT a static engine (model "bench", every POST answered with
# $BENCH_ANSWER, no /props, no /tokenize) and, unless PROXY_PORT is empty,
# a second nginx (its own process, worker_processes 1, $work/nginx-proxy) on
# PROXY_PORT: a reverse proxy with upstream keep-alive to BACKEND_PORT (the
# static port or a real engine). The proxy is a process of its own, as
# tokgate is: in one worker with the static engine, nginx would hand each
# request to itself on one event loop, with no process switch to pay, which
# no proxy in front of a real engine gets.
start_nginx_static() {
  nginx_conf "$work/nginx" "$3" "  server {
    listen 127.0.0.1:$1;
    keepalive_requests 1000000;
    location = /v1/models { default_type application/json;
      return 200 '{\"object\":\"list\",\"data\":[{\"id\":\"bench\",\"object\":\"model\",\"max_model_len\":$4}]}'; }
    location = /props { return 404; }
    location = /tokenize { return 404; }
    location / { default_type application/json; return 200 '$BENCH_ANSWER'; }
  }"
  nginx -p "$work/nginx" -c "$work/nginx/nginx.conf" -g 'daemon off;' & pids+=($!)
  wait_port "$1" || { echo "bench: nginx did not start: $(tail -3 "$work/nginx/logs/error.log")"; return 1; }
  [ -n "$2" ] || return 0
  nginx_conf "$work/nginx-proxy" "$3" "$(nginx_proxy_server "$2")"
  nginx -p "$work/nginx-proxy" -c "$work/nginx-proxy/nginx.conf" -g 'daemon off;' & pids+=($!)
  wait_port "$2" || { echo "bench: the proxy nginx did not start: $(tail -3 "$work/nginx-proxy/logs/error.log")"; return 1; }
}
