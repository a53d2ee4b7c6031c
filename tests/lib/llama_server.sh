# tests/lib/llama_server.sh: sourced (not run) by the shell tests that start a
# llama-server on a tiny model and talk to it (tests/gguf/test_tiny_model.sh,
# tests/template/test_llama_server_count.sh; the gateway tests can use it
# too). Not named test_*.sh, so ctest does not run it on its own.
#
# It keeps one server at a time in the globals ls_pid, ls_url and ls_log:
#   ls_port_free PORT          true when nothing accepts on 127.0.0.1:PORT
#   ls_pick_port START         prints the first free port of START..START+49
#                              (START+50 when none is free)
#   ls_start LOG PORT SERVER ARGS...
#                              runs SERVER ARGS... --host 127.0.0.1 --port PORT
#                              in the background, output to LOG
#   ls_wait_healthy TRIES DELAY [WHAT]
#                              polls $ls_url/health up to TRIES times, DELAY
#                              seconds apart; when the server exits or stays
#                              unhealthy prints "FAIL: llama-server ...WHAT"
#                              and the log's tail, and returns 1
#   ls_stop                    kills and reaps the server, if one runs
# Callers must call ls_stop on exit (a trap), so no server outlives a test.

ls_pid=
ls_url=
ls_log=

ls_port_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

ls_pick_port() {
  local p=$1
  for _ in $(seq 1 50); do ls_port_free "$p" && break; p=$((p + 1)); done
  echo "$p"
}

ls_start() {
  ls_log=$1
  local port=$2 server=$3
  shift 3
  "$server" "$@" --host 127.0.0.1 --port "$port" >"$ls_log" 2>&1 &
  ls_pid=$!
  ls_url=http://127.0.0.1:$port
}

ls_wait_healthy() {
  local tries=$1 delay=$2 what=${3:-}
  for _ in $(seq 1 "$tries"); do
    curl -sf "$ls_url/health" >/dev/null 2>&1 && return 0
    if ! kill -0 "$ls_pid" 2>/dev/null; then
      echo "FAIL: llama-server exited$what"; tail -30 "$ls_log"; return 1
    fi
    sleep "$delay"
  done
  curl -sf "$ls_url/health" >/dev/null 2>&1 && return 0
  echo "FAIL: llama-server not healthy$what"; tail -30 "$ls_log"; return 1
}

ls_stop() {
  if [ -n "$ls_pid" ]; then kill "$ls_pid" 2>/dev/null || true; wait "$ls_pid" 2>/dev/null || true; ls_pid=; fi
}
