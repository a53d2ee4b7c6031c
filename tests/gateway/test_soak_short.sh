#!/usr/bin/env bash
# test_soak_short.sh: the CI run of bench/soak.sh (issue 16, item 9): 30 s of
# mixed streaming and non-streaming chats, client cuts, continuations and bad
# requests through tokgate (this build: the sanitizer build in CI) to the
# real llama-server, failing on any unexpected answer, RSS or fd growth after
# warm-up, or a sanitizer report. SOAK_SECONDS overrides the length.
here=$(cd "$(dirname "$0")" && pwd)
SOAK_SECONDS=${SOAK_SECONDS:-30} exec bash "$here/../../bench/soak.sh"
