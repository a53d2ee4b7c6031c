#!/usr/bin/env bash
# test_library_pure.sh: libtokgate is pure (DESIGN.md, issue 12): no libevent
# among its dynamic dependencies, and none of the calls that start threads or
# open sockets among its imported symbols. The daemon (tokgate_daemon) is
# where those live. The check must be able to fail: the same scan over the
# daemon library finds what it forbids there.
set -euo pipefail
: "${TG_BUILD_DIR:?}"
lib="$TG_BUILD_DIR/libtokgate.so"
daemon="$TG_BUILD_DIR/libtokgate_daemon.a"
[ -f "$lib" ] || { echo "FAIL no $lib"; exit 1; }
forbidden='^(pthread_create|socket|bind|connect|listen|accept|accept4|evconnlistener_new_bind|bufferevent_socket_new|event_base_new)$'
if ldd "$lib" | grep libevent >/dev/null; then
  echo "FAIL libtokgate.so depends on libevent:"; ldd "$lib" | grep libevent; exit 1
fi
echo "ok ldd: no libevent"
bad=$(nm -D --undefined-only "$lib" | awk '{print $2}' | sed 's/@.*//' | grep -E "$forbidden" || true)
[ -z "$bad" ] || { echo "FAIL libtokgate.so imports: $bad"; exit 1; }
echo "ok nm -D: no thread start, no socket calls"
# The same scan sees them in the daemon, so it is not blind.
seen=$(nm --undefined-only "$daemon" 2>/dev/null | awk '{print $2}' | grep -E "$forbidden" | sort -u | tr '\n' ' ')
for want in pthread_create evconnlistener_new_bind bufferevent_socket_new; do
  case " $seen " in *" $want "*) ;; *) echo "FAIL the scan does not see $want in the daemon ($seen)"; exit 1;; esac
done
echo "ok the daemon library holds them: $seen"
