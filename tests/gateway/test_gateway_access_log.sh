#!/usr/bin/env bash
# test_gateway_access_log.sh: where access lines go (access_log,
# access_log_buffer; log.c) and a model with no tokenizer decided through the
# whole-request count cache (its estimate; gateway/req_fast.c), end to end
# against the vLLM stand-in (no tokenizer file, engine count off: the count
# is the estimate). Checked:
#   - --access-log FILE: each request's line is in the file, none on stderr;
#     with --access-log-buffer the lines are held (none in the file at once
#     for a buffer larger than they are) and written within about a second;
#   - SIGHUP opens the file again (a rotated file is let go: new lines go
#     to a new file of that name);
#   - lines held at SIGTERM are written before tokgate exits;
#   - --access-log off: no access line anywhere, requests served;
#   - a file that cannot be opened stops tokgate at start with a message;
#   - the same chat twice: the second says cache=hit, both carry the same
#     decision, the upstream receives the same JSON value both times, and a
#     changed message is a miss whose estimate follows the new text.
source "$(dirname "$0")/lib.sh"

f="$work/v.port"
NODE_PATH=${TG_FIXTURES:-}/node_modules node "$here/standin_vllm.js" "$f" '{"max_model_len":40960}' & pids+=($!)
for i in $(seq 1 50); do [ -s "$f" ] && break; sleep 0.1; done
V="http://127.0.0.1:$(cat "$f")"
ready() { for i in $(seq 1 100); do curl -s "$1/v1/limits" | grep -q '"context"' && return 0; sleep 0.1; done; return 1; }
body='{"model":"vllm-standin","messages":[{"role":"user","content":"Say ok."}],"max_tokens":5}'
post() { curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' -d "$body" "$1/v1/chat/completions"; }
lines() { grep -c 'tokgate access: .*method=POST path=/v1/chat/completions' "$1" 2>/dev/null || true; } # the chats' lines

# a file, buffered
start_tokgate A --upstream "$V" --engine-count-timeout 0 --access-log "$work/a.log" --access-log-buffer 65536
A="http://127.0.0.1:$PORT_A"
ready "$A" || fail "tokgate A never saw the stand-in's limits"
n0=$(lines "$work/a.log")
for i in 1 2 3; do check_eq "buffered: request $i answered" "$(post "$A")" 200; done
check_eq "buffered: the lines are held at first" "$(lines "$work/a.log")" "$n0"
sleep 2.5
check_eq "buffered: written within a second or two" "$(lines "$work/a.log")" "$((n0 + 3))"
check_eq "no access line on stderr" "$(lines "$work/A.log")" 0
check "the file's line is the access line" grep -q 'tokgate access: id=[0-9a-f]* method=POST path=/v1/chat/completions model=vllm-standin .*status=200 .*end=ok' "$work/a.log"
mv "$work/a.log" "$work/a.log.1"
kill -HUP "$PID_A"
sleep 1
check_eq "after SIGHUP: answered" "$(post "$A")" 200
sleep 2.5
check_eq "after SIGHUP: the new line in a new file" "$(lines "$work/a.log")" 1
check_eq "after SIGHUP: the rotated file unchanged" "$(lines "$work/a.log.1")" "$((n0 + 3))"
check_eq "held at exit: answered" "$(post "$A")" 200
stop_tokgate A
check_eq "held at exit: written before exit" "$(lines "$work/a.log")" 2

# off
start_tokgate B --upstream "$V" --engine-count-timeout 0 --access-log off
B="http://127.0.0.1:$PORT_B"
ready "$B" || fail "tokgate B never saw the stand-in's limits"
check_eq "access_log off: answered" "$(post "$B")" 200
check_eq "access_log off: no access line on stderr" "$(lines "$work/B.log")" 0

# the estimate through the whole-request cache
hdr() { curl -s -D "$work/h" -o /dev/null -H 'Content-Type: application/json' --data-binary "$1" "$B/v1/chat/completions"; }
decision() { tr -d '\r' <"$work/h" | grep -iE '^x-tokgate-(prompt-tokens|prompt-exact|max-tokens|max-tokens-source|clamped|truncated):' | sort | tr '\n' ' '; }
count() { tr -d '\r' <"$work/h" | grep -i '^x-tokgate-count:'; }
last_body() { curl -s "$V/_standin/stats" | node -pe 'const j=JSON.parse(require("fs").readFileSync(0));JSON.stringify(j.requests.filter(r=>r.path==="/v1/chat/completions").pop().body)'; }
chat='{ "model":"vllm-standin", "messages":[{"role":"system","content":"Be \"terse\" \u00e9"},{"role":"user","content":"Name three primes."}],
  "max_tokens":999999, "max_tokens":7, "temperature":0.5 }'
hdr "$chat"; d1=$(decision); c1=$(count); b1=$(last_body)
hdr "$chat"; d2=$(decision); c2=$(count); b2=$(last_body)
check_contains "estimate: the first is not a hit" "$c1" "estimated; source=estimate"
case "$c1" in *cache=hit*) fail "estimate: the first sight hit the cache: $c1" ;; *) ok ;; esac
check_contains "estimate: the second is a hit" "$c2" "estimated; source=estimate; cache=hit"
check_eq "estimate: the same decision" "$d2" "$d1"
check_contains "estimate: max_tokens the last duplicate's" "$d1" "x-tokgate-max-tokens: 7"
check_eq "estimate: the upstream got the same JSON" "$(node -pe 'const c=x=>JSON.stringify(x,Object.keys(x).sort());c(JSON.parse(process.argv[1]))===c(JSON.parse(process.argv[2]))' "$b1" "$b2")" true
p1=$(tr -d '\r' <"$work/h" | sed -n 's/^x-tokgate-prompt-tokens: //Ip')
hdr "${chat/three primes/three hundred primes in a long list}"
p2=$(tr -d '\r' <"$work/h" | sed -n 's/^x-tokgate-prompt-tokens: //Ip')
case "$(count)" in *cache=hit*) fail "estimate: a changed message hit the cache" ;; *) ok ;; esac
check "estimate: a longer message is estimated higher ($p1 -> $p2)" test "$p2" -gt "$p1"
stop_tokgate B

# a file that cannot be opened
"$TG_BIN" serve --listen 127.0.0.1:1 --upstream "$V" --access-log "$work/no/such/dir/x.log" 2>"$work/C.log"
check_eq "an unopenable access_log: exit status 2" "$?" 2
check "an unopenable access_log: said why" grep -q 'access_log: cannot open .*no/such/dir/x.log' "$work/C.log"
finish
