/*
 * test_hf_corpus_gemma3_text.c: the HF exactness check (hf_corpus_check.h) for
 * gemma3's tokenizer.json over the "corpus generic" docsets, as its own ctest.
 */
#include "hf_corpus_check.h"

int main(void) { return hf_corpus_main("gemma3", "corpus generic"); }
