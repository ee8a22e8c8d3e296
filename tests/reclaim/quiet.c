/* A process that goes quiet under the preloaded library: it fills 64 MiB with 512 B-3 KiB
 * blocks, frees 90% of them at random, then makes no allocator call at all for 1.5 s. With
 * ALLOY_RECLAIM_THREAD_MS set, the background reclaimer must have brought resident memory
 * under the bound given as argv[1] (RSS / live bytes); then a forked child allocates and frees
 * (the reclaimer's thread must not leave a lock taken in it) and exits cleanly. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static uint64_t state = 88172645463325252ull;
static uint64_t next_random(void) {
  state ^= state >> 12;
  state ^= state << 25;
  state ^= state >> 27;
  return state * 2685821657736338717ull;
}

static double resident_bytes(void) {
  long pages = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == NULL || fscanf(f, "%ld %ld", &pages, &resident) != 2) return 0;
  fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

int main(int argc, char** argv) {
  const double bound = argc > 1 ? atof(argv[1]) : 0;
  enum { capacity = 200000 };
  static void* blocks[capacity];
  static size_t sizes[capacity];
  size_t n = 0;
  double live = 0;
  while (live < 64.0 * 1048576 && n < capacity) {
    sizes[n] = 512 + next_random() % 2561;
    blocks[n] = malloc(sizes[n]);
    if (blocks[n] == NULL) return 1;
    memset(blocks[n], 1, sizes[n]);
    live += (double)sizes[n++];
  }
  for (size_t k = n / 10 * 9; k > 0; --k) {
    const size_t i = next_random() % n;
    free(blocks[i]);
    live -= (double)sizes[i];
    blocks[i] = blocks[--n];
    sizes[i] = sizes[n];
  }
  const double before = resident_bytes() / live;
  const struct timespec quiet = {1, 500000000};
  nanosleep(&quiet, NULL);
  const double after = resident_bytes() / live;
  printf("RSS / live: %.2f after freeing 90%%, %.2f after 1.5 s quiet (bound %.2f)\n", before, after, bound);
  const pid_t child = fork();
  if (child == 0) { /* the heap must work in the child: no lock left taken by the reclaimer */
    for (int i = 0; i < 10000; ++i) free(malloc(64 + (size_t)i % 4000));
    _exit(0);
  }
  int status = 0;
  if (child < 0 || waitpid(child, &status, 0) != child || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
    printf("the forked child failed\n");
    return 1;
  }
  for (size_t i = 0; i < n; ++i) free(blocks[i]);
  return bound > 0 && after > bound ? 1 : 0;
}
