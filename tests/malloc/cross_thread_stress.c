/* Many threads, and blocks freed by another thread than the one that allocated them: each of
 * 16 threads (or --threads N, up to 64) allocates blocks of random sizes (some large, some
 * aligned), fills them with a pattern, and passes each through a shared ring to another thread
 * picked at random, which checks the pattern and frees (or reallocates) them: every thread frees
 * blocks of every other. Run with the library under test in LD_PRELOAD:
 *   test_malloc_cross_thread_stress LIBRARY_NAME [--threads N] */
#define _GNU_SOURCE
#include <malloc.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { max_threads = 64, rounds = 6000, ring_size = 256 };
static unsigned threads = 16;

struct block {
  unsigned char* p;
  size_t size;
  unsigned char fill;
};

/* One ring per thread: a thread pushes into another's ring and pops from its own. */
struct ring {
  pthread_mutex_t mutex;
  struct block slots[ring_size];
  size_t count;
};

static struct ring rings[max_threads];
static atomic_int corrupted = 0;
static atomic_int failed = 0;

static int intact(const struct block* b) {
  for (size_t i = 0; i < b->size; i += 61)
    if (b->p[i] != b->fill) return 0;
  return b->size == 0 || b->p[b->size - 1] == b->fill;
}

static void consume(struct block b, unsigned seed) {
  if (!intact(&b)) atomic_fetch_add(&corrupted, 1);
  if (seed % 5 == 0) { /* grow or shrink it first, in the foreign thread */
    const size_t keep = b.size;
    const size_t fresh = (seed >> 3) % 5000 + 1;
    unsigned char* q = realloc(b.p, fresh);
    if (q == NULL) {
      atomic_fetch_add(&failed, 1);
      free(b.p);
      return;
    }
    b.p = q;
    b.size = keep < fresh ? keep : fresh;
    if (!intact(&b)) atomic_fetch_add(&corrupted, 1);
  }
  free(b.p);
}

static void* run(void* arg) {
  const unsigned self = (unsigned)(uintptr_t)arg;
  unsigned seed = self * 2654435761u + 1;
  struct ring* in = &rings[self];
  for (int i = 0; i < rounds; ++i) {
    seed = seed * 1103515245u + 12345u;
    struct ring* out = &rings[(self + 1 + (seed >> 20) % (threads - 1)) % threads]; /* never its own */
    struct block b;
    b.size = (seed >> 4) % 16 == 0 ? (seed >> 8) % 300000 : (seed >> 8) % 700;
    b.fill = (unsigned char)(seed >> 24);
    b.p = (seed >> 12) % 7 == 0 ? memalign((size_t)64 << ((seed >> 16) % 4), b.size) : malloc(b.size);
    if (b.p == NULL) {
      atomic_fetch_add(&failed, 1);
      continue;
    }
    memset(b.p, b.fill, b.size);
    pthread_mutex_lock(&out->mutex);
    const int full = out->count == ring_size;
    if (!full) out->slots[out->count++] = b;
    pthread_mutex_unlock(&out->mutex);
    if (full) consume(b, seed);
    pthread_mutex_lock(&in->mutex);
    const int have = in->count > 0;
    struct block taken = have ? in->slots[--in->count] : b;
    pthread_mutex_unlock(&in->mutex);
    if (have) consume(taken, seed >> 5);
  }
  return NULL;
}

int main(int argc, char** argv) {
  for (int i = 1; i + 1 < argc; ++i)
    if (strcmp(argv[i], "--threads") == 0) threads = (unsigned)atoi(argv[i + 1]);
  if (threads < 2 || threads > max_threads) {
    fprintf(stderr, "--threads: 2 to %d\n", max_threads);
    return 2;
  }
  for (unsigned t = 0; t < threads; ++t) pthread_mutex_init(&rings[t].mutex, NULL);
  pthread_t ids[max_threads];
  for (uintptr_t t = 0; t < threads; ++t) pthread_create(&ids[t], NULL, run, (void*)t);
  for (unsigned t = 0; t < threads; ++t) pthread_join(ids[t], NULL);
  for (unsigned t = 0; t < threads; ++t)
    while (rings[t].count > 0) consume(rings[t].slots[--rings[t].count], 1);
  printf("%u threads: corrupted blocks: %d, failed allocations: %d\n", threads, corrupted, failed);
  return corrupted == 0 && failed == 0 ? 0 : 1;
}
