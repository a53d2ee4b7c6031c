/*
 * tests/policy/chat_msgs.h: OpenAI chat messages as JSON string literals, for
 * the truncation and summary tests (test_truncate.c, test_summarize.c), which
 * write their conversations out by hand: U/A/S a user, assistant or system
 * message with text t; TC an assistant tool call with id; TR its result.
 */
#ifndef TG_TEST_CHAT_MSGS_H
#define TG_TEST_CHAT_MSGS_H

#define U(t) "{\"role\":\"user\",\"content\":\"" t "\"}"
#define A(t) "{\"role\":\"assistant\",\"content\":\"" t "\"}"
#define S(t) "{\"role\":\"system\",\"content\":\"" t "\"}"
#define TC(id) "{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"" id \
               "\",\"type\":\"function\",\"function\":{\"name\":\"f\",\"arguments\":\"{}\"}}]}"
#define TR(id) "{\"role\":\"tool\",\"tool_call_id\":\"" id "\",\"content\":\"r\"}"

#endif
