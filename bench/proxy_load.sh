# shellcheck shell=bash disable=SC2154 # work, pids, bin, ... are the sourcing script's (bench/lib.sh, bench_init)
# bench/proxy_load.sh: the load that bench/gateway_cost.sh and
# bench/gateway_cache.sh put on each proxy (sourced by both, after
# bench/lib.sh's bench_init): the bench's nginx `return 200` stand-in
# upstream alone, the proxy-only nginx's config beside it, and
#   pl_setup               start the upstream, write the small chat and the proxy nginx's config
#   client PORT N          N POSTs of the small chat over 2 keep-alive connections (N/2 each,
#                          in turn); fails unless every answer is a 200
#   wait_ready PORT        a chat through the proxy answers 200 (tokgate has found the model)
#   measure WHO N WRAP...  run WHO (tokgate|base|nginx) under the command WRAP (valgrind ...,
#                          strace ...), one ready check then N requests, stop it with SIGTERM
#                          (tokgate drains; nginx with master_process off quits)
# The caller sets bin, n1 and n2, then calls pl_init; measure leaves WHO's
# stderr in $work/WHO.log.

# pl_init NAME TOOL...: NAME prefixes the messages; checks the tools, the
# binaries and N1 < N2, reads TG_ARGS/BASE_BIN/BASE_ARGS (tg_argv, base_bin,
# base_argv), makes the scratch directory (bench_init) and runs pl_setup
pl_init() {
  pl_name=$1
  shift
  local t tg_args=${TG_ARGS---access-log off} base_args=${BASE_ARGS---access-log off}
  base_bin=${BASE_BIN:-}
  read -ra tg_argv <<<"$tg_args"
  read -ra base_argv <<<"$base_args"
  for t in "$@"; do command -v "$t" >/dev/null || { echo "$pl_name: $t not found (apt-get install nginx valgrind strace)"; exit 1; }; done
  [ -x "$bin" ] || { echo "$pl_name: no tokgate binary at $bin (make build)"; exit 1; }
  [ -z "$base_bin" ] || [ -x "$base_bin" ] || { echo "$pl_name: BASE_BIN $base_bin is not executable"; exit 1; }
  [ $((n2 - n1)) -gt 0 ] || { echo "$pl_name: N2 ($n2) must exceed N1 ($n1)"; exit 1; }
  bench_init "tg-$pl_name"
  pl_setup
}

pl_setup() {
  up=$(port); px=$(port)
  start_nginx_static "$up" "" "$up" 65536 # the upstream alone (no proxy nginx beside it)
  target=http://127.0.0.1:$up
  printf %s '{"model":"bench","messages":[{"role":"user","content":"Say ok."}],"max_tokens":1}' >"$work/small.json"
  # the proxy-only nginx measured (the same proxy block as start_nginx_static's)
  nginx_conf "$work/px" "$up" "$(nginx_proxy_server "$px")"
}

client() {
  node -e '
const http = require("http");
const [port, n, body, name] = [+process.argv[1], +process.argv[2], require("fs").readFileSync(process.argv[3]), process.argv[4]];
let ok = 0;
function lane(count) {
  const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
  return new Promise((resolve, reject) => {
    const one = (left) => {
      if (left === 0) { agent.destroy(); return resolve(); }
      const rq = http.request({ host: "127.0.0.1", port, path: "/v1/chat/completions", method: "POST", agent,
        headers: { "content-type": "application/json", "content-length": body.length } }, (rs) => {
        rs.resume();
        rs.on("end", () => { if (rs.statusCode === 200) ok++; one(left - 1); });
      });
      rq.on("error", reject);
      rq.end(body);
    };
    one(count);
  });
}
Promise.all([lane(Math.ceil(n / 2)), lane(Math.floor(n / 2))]).then(() => {
  if (ok !== n) { console.error(name + ": " + ok + " of " + n + " answers were 200"); process.exit(1); }
}, (e) => { console.error(name + ": " + e.message); process.exit(1); });' "$1" "$2" "$work/small.json" "$pl_name"
}

wait_ready() {
  local _
  for _ in $(seq 1 600); do
    [ "$(curl -s -o /dev/null -w '%{http_code}' -H 'content-type: application/json' --data-binary @"$work/small.json" \
      "http://127.0.0.1:$1/v1/chat/completions" 2>/dev/null)" = 200 ] && return 0
    sleep 0.1
  done
  echo "$pl_name: the proxy on port $1 never answered 200"; return 1
}

measure() {
  local who=$1 n=$2 p cmd pid
  shift 2
  p=$(port)
  case $who in
    tokgate) cmd=("$bin" serve --listen "127.0.0.1:$p" --upstream "$target" --quiet "${tg_argv[@]}") ;;
    base) cmd=("$base_bin" serve --listen "127.0.0.1:$p" --upstream "$target" --quiet "${base_argv[@]}") ;;
    nginx)
      sed "s/listen 127.0.0.1:$px;/listen 127.0.0.1:$p;/" "$work/px/nginx.conf" >"$work/px/run.conf"
      cmd=(nginx -p "$work/px" -c "$work/px/run.conf" -g 'daemon off; master_process off;') ;;
  esac
  "$@" "${cmd[@]}" 2>"$work/$who.log" & pid=$!
  pids+=("$pid")
  wait_port "$p" 600 || { echo "$pl_name: $who did not listen: $(tail -3 "$work/$who.log")"; exit 1; }
  wait_ready "$p"
  client "$p" "$n"
  # strace -o blocks fatal signals: the traced process itself is told
  if [ "$1" = strace ]; then kill -TERM "$(ps -o pid= --ppid "$pid" | head -1)"; else kill -TERM "$pid"; fi
  wait "$pid" 2>/dev/null || true
}
