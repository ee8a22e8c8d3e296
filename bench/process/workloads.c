/* Multi-threaded process benchmark: an ordinary program calling malloc, calloc, realloc and
 * free, so it measures whatever allocator is preloaded (bench/process/driver.cpp runs it under
 * glibc, jemalloc, tcmalloc, mimalloc and liballoy_malloc.so).
 *
 *   bench_process WORKLOAD|all [--smoke]      bench_process --list
 *
 * Workloads (fixed seeds, bounded work; --smoke does a twentieth of it):
 *   own-1, own-2, own-4, own-8  every thread allocates and frees its own objects (16 B-1 KiB)
 *                               around a live set of its own; the total work is split between
 *                               the threads, so the figures compare across thread counts
 *   producer-consumer           two producer/consumer pairs: objects made on one thread, freed
 *                               on the other
 *   larson                      a larson-style server: four threads replace objects at random
 *                               in a shared table (a quarter of them in another thread's part),
 *                               so lifetimes are random and objects change hands; each
 *                               generation of threads inherits the previous one's objects
 *   large-realloc               blocks of 64 KiB-8 MiB allocated, grown or shrunk with
 *                               realloc and freed, on two threads
 *   vector-growth               vectors grown one element at a time, the capacity doubled with
 *                               realloc; four growing at once per thread, two threads
 *   huge-realloc                a buffer grown by a quarter at a time from 1 MiB to 64 MiB
 *                               (16 MiB with --smoke), as a program reading a stream of unknown
 *                               length does, then freed; two threads, two buffers each
 *
 * Every workload checks what it did, so the program doubles as a correctness test: each block
 * carries a tag (a serial number and its size) at its head and tail and a fill byte in between,
 * written on allocation and verified before every free and after every realloc; the number of
 * blocks allocated and freed and the sums of their serials must match. A mismatch, or a failed
 * allocation, exits with status 1. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <malloc.h> /* malloc_trim, for the reclaim workload */
#include <unistd.h>

/* ---- random numbers and sizes ------------------------------------------------------------ */

static uint64_t next_random(uint64_t* state) { /* xorshift64*: fast, and the same everywhere */
  *state ^= *state >> 12;
  *state ^= *state << 25;
  *state ^= *state >> 27;
  return *state * 2685821657736338717ull;
}

static uint64_t seed_for(unsigned workload, unsigned thread) {
  return 0x9E3779B97F4A7C15ull * (workload * 1000u + thread + 1u) | 1u;
}

/* Mixed small sizes, 16 B-1 KiB, weighted to the small end as in real programs. */
static size_t small_size(uint64_t r) {
  const unsigned pick = (unsigned)(r % 100);
  r >>= 8;
  if (pick < 50) return 16 + r % 113;   /* 16-128 */
  if (pick < 85) return 128 + r % 385;  /* 128-512 */
  return 512 + r % 513;                 /* 512-1024 */
}

/* 64 KiB-8 MiB, log-uniform: each power of two equally likely. */
static size_t large_size(uint64_t r) {
  const size_t base = (size_t)65536 << (r % 7);
  return base + (r >> 8) % base;
}

/* ---- self-checking blocks ---------------------------------------------------------------- */

/* A block of `size` >= 16 bytes: tag at [0, 8) and [size - 8, size), fill byte in between.
 * The tag holds the serial (high 32 bits) and the size (low 32 bits), so a block describes
 * itself and can be checked by whichever thread ends up freeing it. */
enum { min_block = 16 };

static uint64_t make_tag(uint32_t serial, size_t size) { return (uint64_t)serial << 32 | (uint32_t)size; }
static uint32_t tag_serial(uint64_t tag) { return (uint32_t)(tag >> 32); }
static size_t tag_size(uint64_t tag) { return (uint32_t)tag; }
static unsigned char fill_byte(uint32_t serial) { return (unsigned char)(serial * 2654435761u >> 24) | 1u; }

static uint64_t load_tag(const unsigned char* p) {
  uint64_t t;
  memcpy(&t, p, sizeof t);
  return t;
}
static void store_tag(unsigned char* p, uint64_t t) { memcpy(p, &t, sizeof t); }

/* One byte per cache line for small blocks, one per page for large ones: every line or page a
 * wrong copy or an overlapping block would touch is looked at, at a bounded cost. */
static size_t check_stride(size_t size) { return size <= 4096 ? 64 : 4096; }

/* Bytes [from, to) hold `fill` at every stride step and at the end. */
static int fill_intact(const unsigned char* p, size_t from, size_t to, unsigned char fill, size_t stride) {
  for (size_t i = from; i < to; i += stride)
    if (p[i] != fill) return 0;
  return to <= from || p[to - 1] == fill;
}

/* Per-thread accounting, summed at the end of a workload. */
struct tally {
  uint64_t allocations, frees, serials_in, serials_out, errors;
};

static void block_write(unsigned char* p, size_t size, uint32_t serial) {
  const uint64_t tag = make_tag(serial, size);
  store_tag(p, tag);
  memset(p + 8, fill_byte(serial), size - min_block);
  store_tag(p + size - 8, tag);
}

/* New block of `size` bytes from malloc (or calloc, whose zeroes are checked first). */
static unsigned char* block_new(struct tally* t, size_t size, uint32_t serial, int use_calloc) {
  unsigned char* p = use_calloc ? calloc(1, size) : malloc(size);
  if (p == NULL) {
    ++t->errors;
    return NULL;
  }
  if (use_calloc && !(load_tag(p) == 0 && fill_intact(p, 0, size, 0, check_stride(size)))) ++t->errors;
  block_write(p, size, serial);
  ++t->allocations;
  t->serials_in += serial;
  return p;
}

/* Checks the block's tags and fill; returns its size, 0 when it is damaged. */
static size_t block_check(const unsigned char* p) {
  const uint64_t tag = load_tag(p);
  const size_t size = tag_size(tag);
  if (size < min_block || load_tag(p + size - 8) != tag) return 0;
  return fill_intact(p, 8, size - 8, fill_byte(tag_serial(tag)), check_stride(size)) ? size : 0;
}

static void block_free(struct tally* t, unsigned char* p) {
  if (block_check(p) == 0) ++t->errors;
  ++t->frees;
  t->serials_out += tag_serial(load_tag(p));
  free(p);
}

/* realloc to `size`: what the block held must have come along; then it is re-tagged. */
static unsigned char* block_resize(struct tally* t, unsigned char* p, size_t size) {
  const uint64_t tag = load_tag(p);
  const size_t old = tag_size(tag), kept = old < size ? old : size;
  const uint32_t serial = tag_serial(tag);
  unsigned char* q = realloc(p, size);
  if (q == NULL) {
    ++t->errors;
    return p;
  }
  if (load_tag(q) != tag || !fill_intact(q, 8, kept - 8, fill_byte(serial), check_stride(kept)) ||
      (size >= old && load_tag(q + old - 8) != tag))
    ++t->errors;
  store_tag(q, make_tag(serial, size));
  memset(q + kept - 8, fill_byte(serial), size - kept);
  store_tag(q + size - 8, make_tag(serial, size));
  return q;
}

static void tally_add(struct tally* sum, const struct tally* t) {
  sum->allocations += t->allocations;
  sum->frees += t->frees;
  sum->serials_in += t->serials_in;
  sum->serials_out += t->serials_out;
  sum->errors += t->errors;
}

/* ---- threads ----------------------------------------------------------------------------- */

struct worker {
  pthread_t id;
  unsigned index, count, generation;
  uint64_t ops;
  struct tally tally;
  void* shared;
};

/* Runs `body` on `count` threads, each with `ops` operations, and sums their tallies. */
static void run_threads(void* (*body)(void*), unsigned count, unsigned generation, uint64_t ops, void* shared,
                        struct tally* sum) {
  enum { max_threads = 16 };
  struct worker workers[max_threads];
  if (count > max_threads) {
    fprintf(stderr, "at most %d threads\n", max_threads);
    exit(2);
  }
  for (unsigned i = 0; i < count; ++i) {
    workers[i] = (struct worker){.index = i, .count = count, .generation = generation, .ops = ops, .shared = shared};
    if (pthread_create(&workers[i].id, NULL, body, &workers[i]) != 0) {
      fprintf(stderr, "pthread_create failed\n");
      exit(1);
    }
  }
  for (unsigned i = 0; i < count; ++i) {
    pthread_join(workers[i].id, NULL);
    tally_add(sum, &workers[i].tally);
  }
}

static uint32_t serial_of(const struct worker* w, uint64_t n) { /* distinct per thread, never 0 */
  return (uint32_t)(n * 64 + w->generation * w->count + w->index + 1);
}

/* ---- own: every thread its own objects --------------------------------------------------- */

enum { own_live = 4096, own_burst = 32 };

static void* own_thread(void* arg) {
  struct worker* w = arg;
  struct tally* t = &w->tally;
  uint64_t rng = seed_for(1, w->index), n = 0;
  unsigned char** live = calloc(own_live, sizeof *live);
  unsigned char* burst[own_burst];
  if (live == NULL) {
    ++t->errors;
    return NULL;
  }
  while (n < w->ops) {
    const uint64_t r = next_random(&rng);
    if (r % 16 == 0) { /* temporaries: a burst allocated, then freed newest first */
      const unsigned k = 1 + (unsigned)(r >> 8) % own_burst;
      for (unsigned i = 0; i < k; ++i) burst[i] = block_new(t, small_size(next_random(&rng)), serial_of(w, ++n), 0);
      for (unsigned i = k; i-- > 0;)
        if (burst[i] != NULL) block_free(t, burst[i]);
    } else { /* the live set: one object replaced */
      unsigned char** slot = &live[(r >> 8) % own_live];
      if (*slot != NULL) block_free(t, *slot);
      *slot = block_new(t, small_size(r >> 20), serial_of(w, ++n), r % 8 == 1);
    }
  }
  for (unsigned i = 0; i < own_live; ++i)
    if (live[i] != NULL) block_free(t, live[i]);
  free(live);
  return NULL;
}

/* ---- producer-consumer ------------------------------------------------------------------- */

enum { batch_size = 64, channel_batches = 64, pairs = 2 };

/* Single-producer single-consumer ring of batches of blocks. Waiting threads yield: on a
 * machine with fewer cores than threads a spinning waiter would only delay the other side. */
struct channel {
  _Alignas(64) _Atomic uint64_t head; /* batches published by the producer */
  _Alignas(64) _Atomic uint64_t tail; /* batches taken by the consumer */
  _Alignas(64) unsigned char* slots[channel_batches][batch_size];
};

static void* producer_thread(void* arg) {
  struct worker* w = arg;
  struct channel* c = (struct channel*)w->shared + w->index / 2;
  uint64_t rng = seed_for(2, w->index), n = 0;
  for (uint64_t b = 0; b < w->ops / batch_size; ++b) {
    const uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
    while (head - atomic_load_explicit(&c->tail, memory_order_acquire) == channel_batches) sched_yield();
    unsigned char** slot = c->slots[head % channel_batches];
    for (unsigned i = 0; i < batch_size; ++i)
      slot[i] = block_new(&w->tally, small_size(next_random(&rng)), serial_of(w, ++n), 0);
    atomic_store_explicit(&c->head, head + 1, memory_order_release);
  }
  return NULL;
}

static void* consumer_thread(void* arg) {
  struct worker* w = arg;
  struct channel* c = (struct channel*)w->shared + w->index / 2;
  for (uint64_t b = 0; b < w->ops / batch_size; ++b) {
    const uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
    while (atomic_load_explicit(&c->head, memory_order_acquire) == tail) sched_yield();
    unsigned char** slot = c->slots[tail % channel_batches];
    for (unsigned i = 0; i < batch_size; ++i)
      if (slot[i] != NULL) block_free(&w->tally, slot[i]);
    atomic_store_explicit(&c->tail, tail + 1, memory_order_release);
  }
  return NULL;
}

static void* pair_thread(void* arg) { /* even index: producer, odd: its consumer */
  const struct worker* w = arg;
  return w->index % 2 == 0 ? producer_thread(arg) : consumer_thread(arg);
}

/* ---- larson ------------------------------------------------------------------------------ */

enum { larson_threads = 4, larson_slots = 4096, larson_generations = 4 };

static void* larson_thread(void* arg) {
  struct worker* w = arg;
  _Atomic(unsigned char*)* table = w->shared;
  uint64_t rng = seed_for(3, w->generation * w->count + w->index), n = 0;
  while (n < w->ops) {
    const uint64_t r = next_random(&rng);
    /* three in four in the thread's own part of the table, the rest anywhere */
    const size_t part = r % 4 != 0 ? w->index : (r >> 2) % w->count;
    const size_t i = part * larson_slots + (r >> 8) % larson_slots;
    unsigned char* fresh = block_new(&w->tally, small_size(r >> 24), serial_of(w, ++n), 0);
    unsigned char* old = atomic_exchange_explicit(&table[i], fresh, memory_order_acq_rel);
    if (old != NULL) block_free(&w->tally, old);
  }
  return NULL;
}

/* ---- large-realloc ----------------------------------------------------------------------- */

enum { large_threads = 2, large_live = 8 };

static void* large_thread(void* arg) {
  struct worker* w = arg;
  struct tally* t = &w->tally;
  uint64_t rng = seed_for(4, w->index), n = 0;
  unsigned char* live[large_live] = {0};
  for (uint64_t op = 0; op < w->ops; ++op) {
    const uint64_t r = next_random(&rng);
    unsigned char** slot = &live[r % large_live];
    if (*slot == NULL) *slot = block_new(t, large_size(r >> 8), serial_of(w, ++n), 0);
    else if ((r >> 4) % 3 == 0) {
      block_free(t, *slot);
      *slot = NULL;
    } else
      *slot = block_resize(t, *slot, large_size(r >> 8));
  }
  for (unsigned i = 0; i < large_live; ++i)
    if (live[i] != NULL) block_free(t, live[i]);
  return NULL;
}

/* ---- huge-realloc ------------------------------------------------------------------------ */

enum { huge_threads = 2 };

static void* huge_thread(void* arg) {
  struct worker* w = arg;
  struct tally* t = &w->tally;
  const size_t top = (size_t)(w->shared != NULL ? 16 : 64) << 20; /* shared: the --smoke flag */
  uint64_t n = 0;
  for (uint64_t round = 0; round < w->ops; ++round) {
    size_t size = (size_t)1 << 20;
    unsigned char* p = block_new(t, size, serial_of(w, ++n), 0);
    if (p == NULL) return NULL;
    while (size < top) {
      size += size / 4;
      p = block_resize(t, p, size);
    }
    block_free(t, p);
  }
  return NULL;
}

/* ---- vector-growth ----------------------------------------------------------------------- */

enum { vector_threads = 2, vectors_at_once = 4 };

struct vector {
  uint64_t* data;
  size_t size, capacity, target;
  uint64_t base; /* element i holds base + i */
};

/* Elements: 2 to 512 Ki (16 B-4 MiB), log-uniform, so most vectors stay small, as in programs. */
static size_t vector_target(uint64_t r) {
  const size_t base = (size_t)2 << (r % 18);
  return base + (r >> 8) % base;
}

static void* vector_thread(void* arg) {
  struct worker* w = arg;
  struct tally* t = &w->tally;
  uint64_t rng = seed_for(5, w->index), pushes = 0;
  struct vector v[vectors_at_once] = {{0}};
  uint64_t made = 0;
  while (pushes < w->ops) {
    const uint64_t r = next_random(&rng);
    struct vector* x = &v[r % vectors_at_once];
    if (x->target == 0) { /* a new vector, empty */
      *x = (struct vector){.target = vector_target(r >> 4), .base = ++made * 0x100000001ull};
      ++t->allocations;
      t->serials_in += x->base;
    }
    /* a run of pushes, as a loop filling a vector would do */
    for (unsigned k = (unsigned)(r >> 40) % 64 + 1; k > 0 && x->size < x->target; --k, ++pushes) {
      if (x->size == x->capacity) {
        const size_t capacity = x->capacity == 0 ? 2 : x->capacity * 2;
        uint64_t* grown = realloc(x->data, capacity * sizeof *grown);
        if (grown == NULL) {
          ++t->errors;
          return NULL;
        }
        if (x->size > 0 && (grown[0] != x->base || grown[x->size - 1] != x->base + x->size - 1)) ++t->errors;
        x->data = grown;
        x->capacity = capacity;
      }
      x->data[x->size] = x->base + x->size;
      ++x->size;
    }
    if (x->size == x->target) { /* complete: every element checked, then freed */
      for (size_t i = 0; i < x->size; ++i)
        if (x->data[i] != x->base + i) {
          ++t->errors;
          break;
        }
      ++t->frees;
      t->serials_out += x->base;
      free(x->data);
      *x = (struct vector){0};
    }
  }
  for (unsigned i = 0; i < vectors_at_once; ++i)
    if (v[i].target != 0) {
      ++t->frees;
      t->serials_out += v[i].base;
      free(v[i].data);
    }
  return NULL;
}

/* ---- the workloads ----------------------------------------------------------------------- */

/* Work sizes: 0.2-1.2 s of CPU time each under the system allocators on 2 cores, so the
 * driver's default run (5 repetitions, 5 allocators) takes 2-3 minutes. */
static void run_own(unsigned threads, uint64_t scale, struct tally* sum) {
  run_threads(own_thread, threads, 0, 3000000 / scale / threads, NULL, sum);
}

static void run_producer_consumer(uint64_t scale, struct tally* sum) {
  struct channel* channels = aligned_alloc(64, sizeof(struct channel) * pairs);
  if (channels == NULL) {
    ++sum->errors;
    return;
  }
  memset(channels, 0, sizeof(struct channel) * pairs);
  run_threads(pair_thread, 2 * pairs, 0, 1000000 / scale, channels, sum);
  free(channels);
}

static void run_larson(uint64_t scale, struct tally* sum) {
  const size_t slots = (size_t)larson_threads * larson_slots;
  _Atomic(unsigned char*)* table = calloc(slots, sizeof *table);
  if (table == NULL) {
    ++sum->errors;
    return;
  }
  /* each generation's threads inherit the objects the previous one left in the table */
  for (unsigned g = 0; g < larson_generations; ++g)
    run_threads(larson_thread, larson_threads, g, 2500000 / scale / larson_threads / larson_generations, table, sum);
  struct tally rest = {0};
  for (size_t i = 0; i < slots; ++i)
    if (table[i] != NULL) block_free(&rest, table[i]);
  tally_add(sum, &rest);
  free(table);
}

static void run_large(uint64_t scale, struct tally* sum) {
  run_threads(large_thread, large_threads, 0, 400 / scale, NULL, sum);
}

static void run_huge(uint64_t scale, struct tally* sum) {
  static int smoke;
  run_threads(huge_thread, huge_threads, 0, 2, scale > 1 ? &smoke : NULL, sum);
}

static void run_vectors(uint64_t scale, struct tally* sum) {
  run_threads(vector_thread, vector_threads, 0, 12000000 / scale, NULL, sum);
}

/* ---- reclaim: memory back to the system (issue 16) ---------------------------------------
 * Not one of the timed workloads above (its figures are memory, and its 1.5 s of light activity
 * would only blur the time tables): run by name, `bench_process_workloads reclaim [--smoke]
 * [--check AFTER_ACTIVITY,AFTER_TRIM]`. It fills ~512 MiB with 512 B-3 KiB blocks, frees 90% of
 * them at random, stays lightly active for 1.5 s (every millisecond 64 live blocks replaced),
 * calls malloc_trim(0), then grows back to 512 MiB; it prints resident memory (RSS) over live
 * bytes after each phase and the second growth's time per byte over the first's. --check fails
 * the run when RSS / live exceeds the given ratios after the activity or after the trim. */
static double seconds(void);

static double resident_bytes(void) {
  long pages = 0, resident = 0;
  FILE* f = fopen("/proc/self/statm", "r");
  if (f == NULL) return 0;
  if (fscanf(f, "%ld %ld", &pages, &resident) != 2) resident = 0;
  fclose(f);
  return (double)resident * (double)sysconf(_SC_PAGESIZE);
}

struct reclaim_set {
  unsigned char** blocks;
  size_t count, capacity;
  double live;  /* bytes asked for, in blocks still live */
  uint32_t serial;
  uint64_t random;
};

static size_t reclaim_size(uint64_t r) { return 512 + r % 2561; } /* 512 B-3 KiB */

static void reclaim_add(struct reclaim_set* set, struct tally* t) {
  const size_t size = reclaim_size(next_random(&set->random));
  unsigned char* p = block_new(t, size, ++set->serial, 0);
  if (p == NULL) return;
  set->blocks[set->count++] = p;
  set->live += (double)size;
}

static void reclaim_remove(struct reclaim_set* set, struct tally* t, size_t i) {
  set->live -= (double)tag_size(load_tag(set->blocks[i]));
  block_free(t, set->blocks[i]);
  set->blocks[i] = set->blocks[--set->count];
}

static double grow_to(struct reclaim_set* set, struct tally* t, double target) {
  const double start = seconds();
  while (set->live < target && set->count < set->capacity && t->errors == 0) reclaim_add(set, t);
  return seconds() - start;
}

static int run_reclaim(uint64_t scale, const char* check) {
  struct tally t = {0};
  const double target = (double)(512u << 20) / (double)scale;
  struct reclaim_set set = {.capacity = (size_t)(target / 512) + 1, .random = seed_for(100, 0)};
  set.blocks = calloc(set.capacity, sizeof *set.blocks);
  if (set.blocks == NULL) return 1;
  double rss[4], live[4];
  const double first = grow_to(&set, &t, target), first_bytes = set.live;
  rss[0] = resident_bytes(), live[0] = set.live;
  for (size_t n = set.count / 10 * 9; n > 0; --n) reclaim_remove(&set, &t, next_random(&set.random) % set.count);
  rss[1] = resident_bytes(), live[1] = set.live;
  const double quiet_until = seconds() + 1.5 / (double)(scale == 1 ? 1 : 10);
  while (seconds() < quiet_until) {
    for (int i = 0; i < 64; ++i) {
      reclaim_remove(&set, &t, next_random(&set.random) % set.count);
      reclaim_add(&set, &t);
    }
    const struct timespec ms = {0, 1000000};
    nanosleep(&ms, NULL);
  }
  rss[2] = resident_bytes(), live[2] = set.live;
  malloc_trim(0);
  rss[3] = resident_bytes(), live[3] = set.live;
  const double before_regrowth = set.live;
  const double second = grow_to(&set, &t, target);
  const double regrowth = (second / (set.live - before_regrowth)) / (first / first_bytes);
  while (set.count > 0) reclaim_remove(&set, &t, set.count - 1);
  free(set.blocks);
  printf("reclaim: %.0f MiB live of %.0f MiB; RSS / live %.2f after the fill, %.2f after freeing 90%%, "
         "%.2f after %.1f s of light activity, %.2f after malloc_trim(0); regrowth %.2fx the first growth's "
         "time per byte\n",
         live[2] / 1048576, first_bytes / 1048576, rss[0] / live[0], rss[1] / live[1], rss[2] / live[2],
         scale == 1 ? 1.5 : 0.15, rss[3] / live[3], regrowth);
  int ok = t.errors == 0 && t.allocations == t.frees && t.serials_in == t.serials_out;
  double most_active = 0, most_trimmed = 0;
  if (check != NULL && sscanf(check, "%lf,%lf", &most_active, &most_trimmed) == 2) {
    if (rss[2] / live[2] > most_active || rss[3] / live[3] > most_trimmed) {
      printf("reclaim: RSS / live over %.2f after the activity or %.2f after the trim\n", most_active, most_trimmed);
      ok = 0;
    }
  }
  printf("reclaim %s: %llu allocations, %llu frees, %llu errors\n", ok ? "ok" : "FAILED",
         (unsigned long long)t.allocations, (unsigned long long)t.frees, (unsigned long long)t.errors);
  return !ok;
}

static const char* const names[] = {"own-1",  "own-2",         "own-4",         "own-8",
                                    "producer-consumer", "larson", "large-realloc", "vector-growth",
                                    "huge-realloc"};
enum { workload_count = sizeof names / sizeof names[0] };

static void run_workload(unsigned w, uint64_t scale, struct tally* sum) {
  switch (w) {
    case 0: run_own(1, scale, sum); break;
    case 1: run_own(2, scale, sum); break;
    case 2: run_own(4, scale, sum); break;
    case 3: run_own(8, scale, sum); break;
    case 4: run_producer_consumer(scale, sum); break;
    case 5: run_larson(scale, sum); break;
    case 6: run_large(scale, sum); break;
    case 7: run_vectors(scale, sum); break;
    default: run_huge(scale, sum); break;
  }
}

static double seconds(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Runs workload `w`, prints its tally; 1 when anything did not check out. */
static int run_checked(unsigned w, uint64_t scale) {
  struct tally sum = {0};
  const double start = seconds();
  run_workload(w, scale, &sum);
  const double elapsed = seconds() - start;
  const int ok = sum.errors == 0 && sum.allocations == sum.frees && sum.serials_in == sum.serials_out;
  printf("%-18s %s: %llu allocations, %llu frees, %llu errors, serial sums %s (%.3f s)\n", names[w],
         ok ? "ok" : "FAILED", (unsigned long long)sum.allocations, (unsigned long long)sum.frees,
         (unsigned long long)sum.errors, sum.serials_in == sum.serials_out ? "match" : "DIFFER", elapsed);
  return !ok;
}

int main(int argc, char** argv) {
  const char* which = NULL;
  const char* check = NULL;
  uint64_t scale = 1;
  for (int i = 1; i < argc; ++i) {
    if (strcmp(argv[i], "--smoke") == 0) scale = 20;
    else if (strcmp(argv[i], "--check") == 0 && i + 1 < argc) check = argv[++i];
    else if (strcmp(argv[i], "--list") == 0) {
      for (unsigned w = 0; w < workload_count; ++w) puts(names[w]);
      return 0;
    } else if (which == NULL) which = argv[i];
    else which = "";
  }
  if (which != NULL && strcmp(which, "reclaim") == 0) return run_reclaim(scale, check);
  int failed = 0, found = 0;
  for (unsigned w = 0; w < workload_count; ++w)
    if (which != NULL && (strcmp(which, "all") == 0 || strcmp(which, names[w]) == 0)) {
      found = 1;
      failed |= run_checked(w, scale);
    }
  if (!found) {
    fprintf(stderr, "usage: %s WORKLOAD|all [--smoke] | --list\n", argv[0]);
    return 2;
  }
  return failed;
}
