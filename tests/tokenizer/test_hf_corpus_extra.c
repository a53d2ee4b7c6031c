/*
 * test_hf_corpus_extra.c: the HF exactness check (hf_corpus_check.h) for the
 * "extra" selection of tests/tokenizer/hf_prepare.sh, as its own ctest.
 */
#include "hf_corpus_check.h"

int main(void) { return hf_corpus_main("extra", "corpus generic vocab"); }
