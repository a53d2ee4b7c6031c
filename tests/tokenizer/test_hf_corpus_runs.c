/*
 * test_hf_corpus_runs.c: the HF exactness check (hf_corpus_check.h) over the
 * "runs" docset (scripts/make-runs.js: runs of one repeated char or pair,
 * every length 1..2000 and some longer) for qwen3, llama3 and gemma3: the
 * inputs bpe.c's compressed run merging and rank buckets take.
 */
#include "hf_corpus_check.h"

int main(void) { return hf_corpus_main("all", "runs"); }
