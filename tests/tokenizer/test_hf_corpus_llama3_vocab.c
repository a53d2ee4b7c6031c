/*
 * test_hf_corpus_llama3_vocab.c: the HF exactness check (hf_corpus_check.h) for
 * llama3's tokenizer.json over the "vocab" docsets, as its own ctest.
 */
#include "hf_corpus_check.h"

int main(void) { return hf_corpus_main("llama3", "vocab"); }
