// One malloc(64) + free pair, `count` times, in a function callgrind can name: run under
// LD_PRELOAD of any malloc to count the instructions that pair costs (count.sh does).
#include <stdio.h>
#include <stdlib.h>

__attribute__((noinline)) void measure_pairs(long count) {
  for (long i = 0; i < count; ++i) {
    void* volatile p = malloc(64);
    free(p);
  }
}

__attribute__((noinline)) void measure_empty_loop(long count) {
  for (long i = 0; i < count; ++i) {
    void* volatile p = (void*)&count;
    (void)p;
  }
}

int main(int argc, char** argv) {
  const long count = argc > 1 ? atol(argv[1]) : 1000000;
  measure_pairs(1000);  // warm: the thread's cache and the first chunk exist before counting
  measure_pairs(count);
  measure_empty_loop(count);
  return 0;
}
