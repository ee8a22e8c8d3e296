/* Every replaced C function's edge cases, run with the library under test in LD_PRELOAD.
 * Usage: LD_PRELOAD=liballoy_malloc.so test_malloc_edge_cases liballoy_malloc [--fresh-calloc]
 * (the argument: a part of the library's file name, to prove malloc really resolves to it;
 * --fresh-calloc: the library's calloc must leave a large block fresh from the system
 * untouched, as glibc's does, which a composition over system_pages without guard pages can). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static int failures = 0;
#define CHECK(cond)                                                  \
  do {                                                               \
    if (!(cond)) {                                                   \
      fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, __LINE__, #cond); \
      ++failures;                                                    \
    }                                                                \
  } while (0)

static int aligned_to(const void* p, size_t a) { return ((uintptr_t)p & (a - 1)) == 0; }

/* Sizes and pointers the compiler cannot see through, so it neither warns about the absurd
 * requests this test makes on purpose nor folds the calls away. */
static size_t opaque_size(size_t n) {
  volatile size_t v = n;
  return v;
}
static void* opaque_ptr(void* p) {
  void* volatile v = p;
  return v;
}

/* Each replaced symbol is found, through the dynamic linker, in the library under test. */
static void interposed(const char* library) {
  static const char* names[] = {"malloc",  "free",   "calloc",  "realloc",     "reallocarray",
                                "aligned_alloc", "posix_memalign", "memalign", "valloc",
                                "pvalloc", "malloc_usable_size", "malloc_trim", "mallinfo2",
                                "mallinfo", "malloc_stats"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; ++i) {
    Dl_info info;
    void* f = dlsym(RTLD_DEFAULT, names[i]);
    CHECK(f != NULL && dladdr(f, &info) != 0 && strstr(info.dli_fname, library) != NULL);
  }
  /* dlsym of a missing symbol makes the dynamic linker allocate its error message. */
  CHECK(dlsym(RTLD_DEFAULT, "alloy_no_such_symbol") == NULL);
  CHECK(dlerror() != NULL);
}

static void malloc_and_free(void) {
  void* a = malloc(0);
  void* b = malloc(0);
  CHECK(a != NULL && b != NULL && a != b); /* glibc: malloc(0) is a unique pointer */
  free(a);
  free(b);
  free(NULL);
  for (size_t n = 1; n <= (1u << 22); n = n * 3 + 1) {
    unsigned char* p = malloc(n);
    CHECK(p != NULL && aligned_to(p, 16) && malloc_usable_size(p) >= n);
    memset(p, 0xab, n);
    free(p);
  }
  errno = 0;
  CHECK(malloc(opaque_size(SIZE_MAX)) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(malloc(opaque_size(SIZE_MAX / 2 + 1)) == NULL && errno == ENOMEM);
  errno = 0;
  CHECK(malloc(opaque_size(SIZE_MAX - 4095)) == NULL && errno == ENOMEM);
  CHECK(malloc_usable_size(NULL) == 0);
}

static void calloc_cases(void) {
  for (size_t n = 8; n <= 2000000; n *= 5) { /* reused memory comes back zeroed, small and large */
    unsigned char* dirty = malloc(n);
    memset(dirty, 0xff, n);
    free(dirty);
    unsigned char* p = calloc(n, 1);
    int zero = p != NULL;
    for (size_t i = 0; zero && i < n; ++i) zero = p[i] == 0;
    CHECK(zero);
    free(p);
  }
  errno = 0;
  CHECK(calloc(opaque_size(SIZE_MAX / 2), 3) == NULL && errno == ENOMEM); /* count × size overflows */
  errno = 0;
  CHECK(calloc(opaque_size((size_t)1 << 33), (size_t)1 << 33) == NULL && errno == ENOMEM);
  void* z = calloc(0, 16);
  CHECK(z != NULL);
  free(z);
}

/* Resident kilobytes of this process (VmRSS). */
static long resident_kib(void) {
  FILE* f = fopen("/proc/self/status", "r");
  char line[256];
  long kib = -1;
  while (f != NULL && fgets(line, sizeof line, f) != NULL)
    if (strncmp(line, "VmRSS:", 6) == 0) kib = strtol(line + 6, NULL, 10);
  if (f != NULL) fclose(f);
  return kib;
}

/* A large calloc fresh from the system is not written: its pages stay the kernel's zero pages
 * until the program writes them (a big, sparsely used table costs what it uses). 24 MiB goes
 * to the large-block heap, which takes a fresh chunk for it (nothing free is that large yet),
 * 64 MiB to a chunk of its own. Once written and freed, the same size comes back zeroed. */
static void fresh_calloc_cases(void) {
  static const size_t sizes[] = {(size_t)24 << 20, (size_t)64 << 20};
  for (int k = 0; k < 2; ++k) {
    const size_t n = sizes[k];
    const long before = resident_kib();
    unsigned char* p = calloc(n, 1);
    const long grew = resident_kib() - before;
    CHECK(p != NULL && grew < 4096);
    if (p == NULL) continue;
    int zero = 1;
    for (size_t i = 0; zero && i < n; i += 4096) zero = p[i] == 0 && p[i + 4095] == 0;
    CHECK(zero);
    memset(p, 0x5a, n);
    free(p);
    p = calloc(n, 1);
    zero = p != NULL;
    for (size_t i = 0; zero && i < n; ++i) zero = p[i] == 0;
    CHECK(zero);
    free(p);
  }
}

static void realloc_cases(void) {
  char* p = realloc(NULL, 10); /* realloc(NULL, n) is malloc(n) */
  CHECK(p != NULL);
  memcpy(p, "012345678", 10);
  for (size_t n = 20; n <= (1u << 21); n *= 4) { /* grow across classes and into the large path */
    p = realloc(p, n);
    CHECK(p != NULL && memcmp(p, "012345678", 10) == 0 && malloc_usable_size(p) >= n);
  }
  p = realloc(p, 5); /* shrink from a large block to a small one */
  CHECK(p != NULL && memcmp(p, "01234", 5) == 0);
  errno = 0;
  char* same = p;
  CHECK(realloc(opaque_ptr(p), opaque_size(SIZE_MAX - 100)) == NULL && errno == ENOMEM); /* failure leaves p untouched */
  CHECK(memcmp(opaque_ptr(same), "01234", 5) == 0);
  CHECK(realloc(opaque_ptr(same), 0) == NULL); /* glibc: realloc(p, 0) frees p and returns NULL */

  int* a = reallocarray(NULL, 100, sizeof(int));
  CHECK(a != NULL);
  for (int i = 0; i < 100; ++i) a[i] = i;
  a = reallocarray(a, 1000, sizeof(int));
  CHECK(a != NULL && a[99] == 99);
  errno = 0;
  CHECK(reallocarray(opaque_ptr(a), opaque_size(SIZE_MAX / 2), 4) == NULL && errno == ENOMEM && a[42] == 42);
  free(opaque_ptr(a));
}

static void aligned_cases(void) {
  for (size_t al = 1; al <= (1u << 21); al *= 2) {
    void* p = aligned_alloc(al, 3 * al + 1);
    CHECK(p != NULL && aligned_to(p, al) && malloc_usable_size(p) >= 3 * al + 1);
    free(p);
    void* q = memalign(al, 100);
    CHECK(q != NULL && aligned_to(q, al));
    free(q);
  }
  errno = 0;
  CHECK(aligned_alloc(48, 96) == NULL && errno == EINVAL); /* not a power of two */
  void* m = memalign(48, 100); /* memalign rounds a bad alignment up, as glibc does */
  CHECK(m != NULL && aligned_to(m, 64));
  free(m);
  errno = 0;
  CHECK(memalign(64, opaque_size(SIZE_MAX - 10)) == NULL && errno == ENOMEM);

  void* out = (void*)&out;
  CHECK(posix_memalign(&out, 3, 10) == EINVAL && out == (void*)&out);
  CHECK(posix_memalign(&out, sizeof(void*) / 2, 10) == EINVAL && out == (void*)&out);
  CHECK(posix_memalign(&out, 24, 10) == EINVAL && out == (void*)&out);
  CHECK(posix_memalign(&out, 64, opaque_size(SIZE_MAX / 2)) == ENOMEM && out == (void*)&out);
  CHECK(posix_memalign(&out, 256, 1000) == 0 && aligned_to(out, 256));
  free(out);
  CHECK(posix_memalign(&out, 8, 0) == 0 && out != NULL);
  free(out);

  const size_t page = (size_t)sysconf(_SC_PAGESIZE);
  void* v = valloc(10);
  CHECK(v != NULL && aligned_to(v, page));
  free(v);
  void* pv = pvalloc(page + 1); /* rounded up to whole pages */
  CHECK(pv != NULL && aligned_to(pv, page) && malloc_usable_size(pv) >= 2 * page);
  free(pv);
  pv = pvalloc(0);
  CHECK(pv != NULL && aligned_to(pv, page) && malloc_usable_size(pv) >= page);
  free(pv);
  errno = 0;
  CHECK(pvalloc(opaque_size(SIZE_MAX - 10)) == NULL && errno == ENOMEM);
}

/* Memory the library never handed out: free ignores it, usable size 0, realloc refuses it. */
static void foreign_pointers(void) {
  static char not_from_malloc[256];
  free(opaque_ptr(not_from_malloc + 16));
  CHECK(malloc_usable_size(not_from_malloc + 16) == 0);
  errno = 0;
  CHECK(realloc(opaque_ptr(not_from_malloc + 16), 64) == NULL && errno == ENOMEM);
  char on_stack[64];
  free(opaque_ptr(on_stack));
  CHECK(malloc_usable_size(on_stack) == 0);
}

/* A call that succeeds leaves errno as it was: the pages a refill populates ahead are a hint,
 * whatever the kernel answers, and free never sets it (nor does glibc's, since 2.33). Blocks of
 * every class, 512 of each, so that chunks are taken, carved and populated. */
static void errno_kept(void) {
  errno = EDOM;
  for (size_t n = 16; n <= 4096; n += n / 4) {
    void* blocks[512];
    for (size_t i = 0; i < 512; ++i) blocks[i] = malloc(opaque_size(n));
    for (size_t i = 0; i < 512; ++i) free(blocks[i]);
  }
  CHECK(errno == EDOM);
}

/* mallinfo2, mallinfo and malloc_stats answer from the heap's own figures: a megabyte allocated
 * is counted in use, and no longer once freed (the calling thread's cache goes back first). */
static void statistics(void) {
  enum { count = 16384, size = 64 };
  void** blocks = malloc(count * sizeof(void*));
  CHECK(blocks != NULL);
  /* In use counts the heap's bookkeeping too (chunk headers, a reclaiming heap's page tables),
   * which goes back with a wholly free chunk: give back now what the earlier cases freed, so no
   * sweep hands a chunk back while the blocks below are allocated (one did, one run in ten,
   * with more freed before: in use then grew by 3 KiB less than the blocks). */
  malloc_trim(0);
  const struct mallinfo2 before = mallinfo2();
  for (int i = 0; blocks != NULL && i < count; ++i) blocks[i] = malloc(opaque_size(size));
  const struct mallinfo2 held = mallinfo2();
  CHECK(held.uordblks >= before.uordblks + (size_t)count * size);
  CHECK(held.arena + held.hblkhd == held.uordblks + held.fordblks); /* taken from the system: in use or free */
  CHECK(held.usmblks >= held.arena + held.hblkhd);                  /* the peak is at least what is held now */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
  const struct mallinfo narrow = mallinfo();
#pragma GCC diagnostic pop
  CHECK(narrow.uordblks > 0 && (size_t)narrow.uordblks >= (size_t)count * size);
  for (int i = 0; blocks != NULL && i < count; ++i) free(blocks[i]);
  const struct mallinfo2 freed = mallinfo2();
  /* Freeing can take memory too: a thread cache parks its full bins' batches in parcels, blocks
   * of the heap's own, whose class may need a chunk of its own — and that chunk's bookkeeping
   * (its header, a reclaiming heap's page table: 3.4 KiB per MiB in the default library) is in
   * use. So the megabyte leaves "in use", less at most 1/64 of what the heap took meanwhile. */
  const size_t taken = freed.arena + freed.hblkhd - (held.arena + held.hblkhd);
  CHECK(freed.uordblks + (size_t)count * size <= held.uordblks + taken / 64);
  CHECK(freed.fordblks >= (size_t)count * size);
  free(blocks);

  /* malloc_stats writes to standard error: caught in a pipe, read back. */
  int fds[2];
  CHECK(pipe(fds) == 0);
  const int saved = dup(STDERR_FILENO);
  dup2(fds[1], STDERR_FILENO);
  malloc_stats();
  dup2(saved, STDERR_FILENO);
  close(saved);
  close(fds[1]);
  char text[1024] = {0};
  const ssize_t got = read(fds[0], text, sizeof text - 1);
  close(fds[0]);
  CHECK(got > 0 && strstr(text, "system bytes") != NULL && strstr(text, "in use bytes") != NULL);
}

static void* churn(void* arg) {
  unsigned seed = (unsigned)(uintptr_t)arg;
  void* held[64] = {0};
  for (int i = 0; i < 20000; ++i) {
    seed = seed * 1103515245u + 12345u;
    const unsigned slot = (seed >> 8) % 64;
    free(held[slot]);
    held[slot] = malloc((seed >> 16) % 3000);
  }
  for (int i = 0; i < 64; ++i) free(held[i]);
  return NULL;
}

/* fork while other threads allocate: the child must be able to allocate (no lock left taken). */
static void fork_while_allocating(void) {
  pthread_t threads[3];
  for (uintptr_t i = 0; i < 3; ++i) pthread_create(&threads[i], NULL, churn, (void*)(i + 1));
  for (int round = 0; round < 20; ++round) {
    const pid_t child = fork();
    if (child == 0) {
      void* blocks[100];
      for (int i = 0; i < 100; ++i) blocks[i] = malloc(16 + 100 * (size_t)i);
      for (int i = 0; i < 100; ++i) free(blocks[i]);
      _exit(blocks[99] != NULL ? 0 : 1);
    }
    int status = -1;
    CHECK(child > 0 && waitpid(child, &status, 0) == child && WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  for (int i = 0; i < 3; ++i) pthread_join(threads[i], NULL);
}

static void* exit_holding(void* arg) {
  (void)arg;
  void** blocks = malloc(100 * sizeof(void*));
  for (int i = 0; i < 100; ++i) blocks[i] = malloc((size_t)i * 40);
  return blocks; /* the thread exits; another thread frees what it allocated */
}

static void threads_that_exit(void) {
  for (int round = 0; round < 50; ++round) {
    pthread_t t;
    void* result = NULL;
    pthread_create(&t, NULL, exit_holding, NULL);
    pthread_join(t, &result);
    void** blocks = result;
    CHECK(blocks != NULL);
    for (int i = 0; blocks != NULL && i < 100; ++i) free(blocks[i]);
    free(blocks);
  }
}

int main(int argc, char** argv) {
  if (argc < 2 || (argc == 3 && strcmp(argv[2], "--fresh-calloc") != 0) || argc > 3) {
    fprintf(stderr, "usage: %s LIBRARY_NAME [--fresh-calloc] (run with that library in LD_PRELOAD)\n", argv[0]);
    return 2;
  }
  interposed(argv[1]);
  if (argc == 3) fresh_calloc_cases(); /* first: before the program's own blocks fill the heap */
  malloc_and_free();
  calloc_cases();
  realloc_cases();
  aligned_cases();
  foreign_pointers();
  statistics();
  threads_that_exit();
  fork_while_allocating();
  errno_kept();
  if (failures == 0) printf("all edge cases passed\n");
  return failures == 0 ? 0 : 1;
}
