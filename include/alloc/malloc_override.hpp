// Any declared allocator as the process malloc. In exactly one source file of a shared library:
//
//   #include <alloc/malloc_override.hpp>
//   #include "my_heap.hpp"                       // using my_heap = alloy::allocator<...>;
//   ALLOY_MALLOC_OVERRIDE(my_heap)
//
// defines malloc, free, calloc, realloc, reallocarray, aligned_alloc, posix_memalign, memalign,
// valloc, pvalloc, malloc_usable_size, glibc's malloc_trim, mallinfo2, mallinfo and malloc_stats
// (from the heap's own figures), and every operator new/delete form in terms of one
// process-wide instance of the type. mallopt is left to glibc: it tunes glibc's own heap, which
// no call reaches any more, and returns as it would. tools/cmake/AlloyMalloc.cmake's
// alloy_add_malloc_library(NAME TYPE <type> HEADER <file>) writes that file and builds the
// library (-fvisibility=hidden: only these symbols are exported).
//
// Where replacement mallocs usually break, and what this does:
// - Calls before static initialisation, from ld.so or dlsym: the instance lives in static
//   storage and is built on first use by whichever call comes first; its constructor must not
//   call malloc (Alloy's take their memory from their source, mmap for system_pages).
// - The instance is never destroyed: atexit handlers and late threads keep allocating and freeing.
// - fork: pthread_atfork handlers take the heap's locks before fork and release them in both
//   processes (when the threading layer offers prepare_fork/after_fork_parent/after_fork_child).
// - Pointers Alloy never handed out (ld.so's early blocks), told apart by the exact owns():
//   free ignores them, malloc_usable_size says 0, realloc refuses them (their size is unknown).
// - Sizes near SIZE_MAX, calloc's count × size overflow, bad alignments: nullptr with errno set
//   (ENOMEM, or EINVAL for aligned_alloc), EINVAL/ENOMEM returned by posix_memalign.
// No C++ exception leaves a C function; operator new throws std::bad_alloc as the standard says
// (through the program's libstdc++: the library itself needs none, see "C++" below).
//
// Cost: malloc is the threading layer's allocate (thread_local_cache: a thread-local pop, no
// lock). free must check ownership: through a thread cache over segregated fit, the class
// store's page map answers without a lock and the block joins the thread's bin; anything else
// (a large block, a foreign pointer) is decided under the threading layer's lock, owns and free
// in one critical section. Sized operator delete skips the check.
#pragma once
#include <dlfcn.h>
#include <errno.h>
#include <malloc.h>
#include <pthread.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <climits>
#include <cstddef>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <new>
#include <type_traits>

#include <boost/mp11/algorithm.hpp>

#include "../policy/detail/config.hpp"
#include "detail/compose.hpp"

namespace alloy {

/// The one process-wide instance of `Allocator`, built on first use in static storage and
/// never destroyed. Safe to call before any constructor of the program has run.
template <class Allocator>
class process_heap {
 public:
  ALLOY_FAST_PATH static Allocator& get() noexcept {
    if (state_.load(std::memory_order_acquire) == ready) [[likely]] return *instance();
    return construct();
  }
  /// The instance if it is built, else nullptr: free() needs no heap that has handed out nothing.
  ALLOY_FAST_PATH static Allocator* built() noexcept {
    return __builtin_expect(state_.load(std::memory_order_acquire) == ready, 1) ? instance() : nullptr;
  }
  /// The instance's storage, built or not: only for fast paths that are safe on the zero-filled
  /// storage of an instance not built yet (a thread cache's allocate_cached and
  /// deallocate_cached), which then spare malloc and free the test of `state_`.
  ALLOY_FAST_PATH static Allocator* unchecked() noexcept { return instance(); }

 private:
  static constexpr unsigned char empty = 0, building = 1, ready = 2;
  static Allocator* instance() noexcept { return std::launder(reinterpret_cast<Allocator*>(storage_)); }

  ALLOY_SLOW_PATH static Allocator& construct() noexcept {
    unsigned char expected = empty;
    if (state_.compare_exchange_strong(expected, building, std::memory_order_acquire)) {
      ::new (static_cast<void*>(storage_)) Allocator();
      state_.store(ready, std::memory_order_release);
    } else {
      while (state_.load(std::memory_order_acquire) != ready) sched_yield();  // another thread is building it
    }
    return *instance();
  }

  alignas(Allocator) static inline unsigned char storage_[sizeof(Allocator)];
  static constinit inline std::atomic<unsigned char> state_{empty};
};

namespace detail {
/// A policy's form for the one live instance of its type, where it has one of its own.
template <class Policy>
struct one_instance_form {
  using type = Policy;
};
template <class Policy>
  requires requires { typename Policy::one_instance_form; }
struct one_instance_form<Policy> {
  using type = typename Policy::one_instance_form;
};
template <class Declared>
struct process_type_of {
  using type = Declared;
};
template <template <class> class Allocator, class... Policies>
struct process_type_of<Allocator<composition<Policies...>>> {
  using type = Allocator<composition<typename one_instance_form<Policies>::type...>>;
};
}  // namespace detail

/// The type of the process heap declared as `Declared`: the same design, told that it is the
/// one instance of its type — process_heap never builds another — so its policies take their
/// one-instance forms (thread_local_cache::one_instance: malloc's and free's fast paths test no
/// instance id). A type with no policy list of its own is used as it is.
template <class Declared>
using process_type = typename detail::process_type_of<Declared>::type;

/// The C and C++ allocation functions, in terms of the raw interface of the process heap
/// declared as `Declared` (process_type): allocate(size[, align]) -> nullptr on failure,
/// deallocate(p[, size[, align]]), owns(p), usable_size(p).
template <class Declared>
struct malloc_functions {
  using Allocator = process_type<Declared>;
  static_assert(Allocator::properties.thread_safe,
                "ALLOY_MALLOC_OVERRIDE(type): the process malloc is called from every thread; declare the type with "
                "a thread-safe threading policy (P::thread_local_cache or P::locked<...>)");
  static constexpr std::size_t min_align = Allocator::alignment;

  static Allocator& heap() noexcept { return process_heap<Allocator>::get(); }

  static std::size_t page_size() noexcept { return static_cast<std::size_t>(::sysconf(_SC_PAGESIZE)); }

  // The fast paths below tail-call out of line for everything else (building the heap, an
  // empty bin, failure), so they are leaves: no stack frame, no saved register. malloc(64) +
  // free through a thread cache over segregated fit is a TLS pop and push, a page-map lookup
  // and no lock (bench/malloc counts them).
  ALLOY_FAST_PATH static void* malloc(std::size_t size) noexcept {
    if constexpr (caches_blocks) {
      if (void* p = process_heap<Allocator>::unchecked()->layers().allocate_cached(size)) [[likely]] return p;
    } else if (Allocator* h = process_heap<Allocator>::built()) [[likely]] {
      if (void* p = h->allocate(size)) [[likely]] return p;
      return out_of_memory();
    }
    return malloc_slow(size);
  }

  ALLOY_FAST_PATH static void free(void* p) noexcept {
    // Through a thread cache over segregated fit a small block's free takes no lock: the class
    // store's page map is read lock-free. A null `p` finds no chunk there and is answered off
    // the fast path.
    if constexpr (caches_blocks) {
      if (process_heap<Allocator>::unchecked()->layers().deallocate_cached(p)) [[likely]] return;
    }
    free_slow(p);
  }

  /// The top layer has fast halves with no slow path of their own, safe on an instance not
  /// built yet (thread_local_cache's allocate_cached and deallocate_cached): malloc and free
  /// then test nothing else on their fast paths, and their slow paths are tail calls.
  static constexpr bool caches_blocks = requires(Allocator& a, std::size_t n, void* p) {
    { a.layers().allocate_cached(n) } noexcept -> std::same_as<void*>;
    { a.layers().deallocate_cached(p) } noexcept -> std::same_as<bool>;
  };

  /// ... and a sized fast half (deallocate_cached(p, size)), for sized operator delete.
  static constexpr bool caches_sized_frees = caches_blocks && requires(Allocator& a, std::size_t n, void* p) {
    { a.layers().deallocate_cached(p, n) } noexcept -> std::same_as<bool>;
  };

  ALLOY_SLOW_PATH static void free_slow(void* p) noexcept {
    // A block Alloy never handed out (ld.so's, from before the preload took effect) is left
    // where it is: nobody here can give it back.
    if (Allocator* h = process_heap<Allocator>::built()) [[likely]] h->try_deallocate(p);
  }

  ALLOY_SLOW_PATH static void* malloc_slow(std::size_t size) noexcept {
    if (void* p = heap().allocate(size)) [[likely]] return p;
    return out_of_memory();
  }
  ALLOY_SLOW_PATH static void* out_of_memory() noexcept {
    errno = ENOMEM;
    return nullptr;
  }

  static void* calloc(std::size_t count, std::size_t size) noexcept {
    std::size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) {
      errno = ENOMEM;
      return nullptr;
    }
    // Not malloc + memset: a large block fresh from the system is zero already, and clearing
    // it would make every page of a big, sparsely used table resident (allocate_zeroed).
    if (void* p = heap().allocate_zeroed(bytes)) [[likely]] return p;
    return out_of_memory();
  }

  /// glibc's rules: realloc(NULL, n) is malloc(n); realloc(p, 0) frees p and returns NULL;
  /// on failure NULL with errno ENOMEM and p untouched.
  static void* realloc(void* p, std::size_t size) noexcept {
    if (p == nullptr) return malloc(size);
    if (size == 0) {
      free(p);
      return nullptr;
    }
    Allocator& h = heap();
    if (!h.owns(p)) [[unlikely]] return foreign_realloc(p, size);
    const std::size_t usable = h.usable_size(p);
    // Stay in place while the block is big enough and not mostly wasted; otherwise move.
    if (size <= usable && size >= usable / 2) return p;
    if (usable > Allocator::properties.max_class_size && size > Allocator::properties.max_class_size) {
      // Large to large: the heap resizes in place where it can (a large-block heap grows into a
      // free neighbour) and copies only when it must.
      void* moved = h.reallocate(p, usable, size, min_align);
      if (moved == nullptr) errno = ENOMEM;
      return moved;
    }
    void* fresh = h.allocate(size);
    if (fresh == nullptr) {
      errno = ENOMEM;
      return nullptr;
    }
    std::memcpy(fresh, p, size < usable ? size : usable);
    h.deallocate(p);
    return fresh;
  }

  static void* reallocarray(void* p, std::size_t count, std::size_t size) noexcept {
    std::size_t bytes;
    if (__builtin_mul_overflow(count, size, &bytes)) {
      errno = ENOMEM;
      return nullptr;
    }
    return realloc(p, bytes);
  }

  /// memalign: any alignment; one that is not a power of two is rounded up to one (as glibc does).
  static void* memalign(std::size_t align, std::size_t size) noexcept {
    if (align <= min_align) return malloc(size);
    if ((align & (align - 1)) != 0) {
      if (align > (std::size_t{1} << 62)) {
        errno = EINVAL;
        return nullptr;
      }
      align = std::size_t{1} << (64 - __builtin_clzll(align));
    }
    void* p = heap().allocate(size, align);
    if (p == nullptr) errno = ENOMEM;
    return p;
  }

  /// aligned_alloc (C11): the alignment must be a power of two, else EINVAL.
  static void* aligned_alloc(std::size_t align, std::size_t size) noexcept {
    if (align == 0 || (align & (align - 1)) != 0) {
      errno = EINVAL;
      return nullptr;
    }
    return memalign(align, size);
  }

  /// POSIX: EINVAL unless the alignment is a power of two multiple of sizeof(void*); ENOMEM;
  /// *out untouched and errno unchanged on failure.
  static int posix_memalign(void** out, std::size_t align, std::size_t size) noexcept {
    if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
    const int saved = errno;
    void* p = memalign(align, size);
    errno = saved;
    if (p == nullptr) return ENOMEM;
    *out = p;
    return 0;
  }

  static void* valloc(std::size_t size) noexcept { return memalign(page_size(), size); }

  /// pvalloc: page aligned, the size rounded up to whole pages (0 gives one page).
  static void* pvalloc(std::size_t size) noexcept {
    const std::size_t page = page_size();
    if (size > ~std::size_t{0} - page) {
      errno = ENOMEM;
      return nullptr;
    }
    return memalign(page, size == 0 ? page : (size + page - 1) & ~(page - 1));
  }

  static std::size_t malloc_usable_size(void* p) noexcept {
    Allocator& h = heap();
    return h.owns(p) ? h.usable_size(p) : 0;
  }

  // ---- memory back to the system: malloc_trim; the figures: mallinfo2, mallinfo, malloc_stats
  /// glibc's malloc_trim: everything the heap can give back, now — the calling thread's cache,
  /// every free page, every wholly free chunk (policy/reclaim.hpp; `pad` is ignored: no top
  /// chunk here). 1 when something went back, else 0 (always 0 under no_reclaim).
  static int malloc_trim(std::size_t) noexcept { return heap().trim() > 0 ? 1 : 0; }

  /// glibc's mallinfo2, from the heap's own figures (a walk of its free lists: seldom called):
  ///   arena     bytes taken from the system and still committed (resident, or about to be)
  ///   hblkhd    bytes taken from the system whose pages were given back (decommitted)
  ///   usmblks   the most bytes ever taken from the system
  ///   uordblks  taken and not free: live blocks, their rounding and the heap's bookkeeping
  ///   fordblks  bytes in free blocks (those of other threads' caches excepted)
  ///   keepcost  free bytes still committed that malloc_trim would give back
  /// The counts of blocks (ordblks, smblks, hblks, fsmblks) are not kept: 0.
  static struct mallinfo2 mallinfo2() noexcept {
    const heap_metrics m = heap().layers().metrics();
    struct mallinfo2 info{};
    info.arena = m.reserved_bytes - m.decommitted_bytes;
    info.hblkhd = m.decommitted_bytes;
    info.usmblks = m.peak_reserved_bytes;
    info.fordblks = m.free_bytes;
    info.uordblks = m.reserved_bytes > m.free_bytes ? m.reserved_bytes - m.free_bytes : 0;
    info.keepcost = m.pending_reclaim_bytes;
    return info;
  }

  /// glibc's deprecated mallinfo: mallinfo2's figures in its `int` fields, each capped at
  /// INT_MAX (glibc's own wraps past 2 GiB, which makes a large heap look small).
  static struct mallinfo mallinfo() noexcept {
    const struct mallinfo2 wide = mallinfo2();
    const auto narrow = [](std::size_t v) noexcept { return static_cast<int>(std::min<std::size_t>(v, INT_MAX)); };
    struct mallinfo info{};
    info.arena = narrow(wide.arena);
    info.hblkhd = narrow(wide.hblkhd);
    info.usmblks = narrow(wide.usmblks);
    info.uordblks = narrow(wide.uordblks);
    info.fordblks = narrow(wide.fordblks);
    info.keepcost = narrow(wide.keepcost);
    return info;
  }

  /// glibc's malloc_stats: the heap's figures on standard error, in glibc's layout ("system
  /// bytes", "in use bytes") for whoever reads them, with the decommitted and free bytes beside.
  /// Formatted on the stack and written with one write(2): no stdio buffer, no malloc.
  static void malloc_stats() noexcept {
    const struct mallinfo2 m = mallinfo2();
    char text[512];
    const int n = std::snprintf(text, sizeof text,
                                "Alloy heap:\n"
                                "system bytes     = %10zu\n"
                                "in use bytes     = %10zu\n"
                                "free bytes       = %10zu\n"
                                "decommitted bytes= %10zu\n"
                                "max system bytes = %10zu\n",
                                m.arena + m.hblkhd, m.uordblks, m.fordblks, m.hblkhd, m.usmblks);
    if (n <= 0) return;
    const ssize_t written = ::write(STDERR_FILENO, text, std::min(static_cast<std::size_t>(n), sizeof text - 1));
    static_cast<void>(written);  // a closed standard error is not the heap's problem
  }

  /// The background reclaimer, for a process that goes quiet (its slow paths, which drive the
  /// reclaiming otherwise, stop): opt-in, with ALLOY_RECLAIM_THREAD_MS=N in the environment, a
  /// detached thread wakes every N ms and does up to 16 bounded steps of the heap's work, each
  /// under the heap's lock (as long as one slow path's step). Its cost: one thread and a
  /// wake-up per N ms (~20 µs of CPU when there is nothing to do). Fork-safe: pthread_atfork
  /// holds the heap's locks across fork, so no step is half done in the child; the child runs
  /// without the thread (a thread does not survive fork) and reclaims on its own slow paths.
  static void start_background_reclaimer() noexcept {
    if constexpr (requires(Allocator& a) { a.layers().reclaim_tick(); }) {
      const char* env = ::getenv("ALLOY_RECLAIM_THREAD_MS");
      const long ms = env == nullptr ? 0 : std::strtol(env, nullptr, 10);
      if (ms <= 0) return;
      static long interval_ms;
      interval_ms = ms;
      pthread_attr_t attr;
      if (::pthread_attr_init(&attr) != 0) return;
      ::pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
      pthread_t thread;
      ::pthread_create(
          &thread, &attr,
          [](void*) -> void* {
            const timespec nap{interval_ms / 1000, (interval_ms % 1000) * 1000000};
            for (;;) {
              ::nanosleep(&nap, nullptr);
              for (int i = 0; i < 16; ++i) heap().layers().reclaim_tick();
            }
            return nullptr;
          },
          nullptr);
      ::pthread_attr_destroy(&attr);
    }
  }

  // ---- C++ -------------------------------------------------------------------------------
  // The library does not link libstdc++ (1.3 MB of resident memory in every C program): the
  // program's own std::get_new_handler and std::__throw_bad_alloc are found at run time. A
  // process that calls operator new has libstdc++ loaded; without it, failure aborts.
  static std::new_handler current_new_handler() noexcept {
    using getter = std::new_handler (*)();
    static std::atomic<getter> get{nullptr};
    getter g = get.load(std::memory_order_relaxed);
    if (g == nullptr) {
      g = reinterpret_cast<getter>(::dlsym(RTLD_DEFAULT, "_ZSt15get_new_handlerv"));
      if (g == nullptr) return nullptr;
      get.store(g, std::memory_order_relaxed);
    }
    return g();
  }
  [[noreturn]] static void throw_bad_alloc() {
    using thrower = void (*)();
    if (auto t = reinterpret_cast<thrower>(::dlsym(RTLD_DEFAULT, "_ZSt17__throw_bad_allocv")); t != nullptr) t();
    std::abort();
  }
  static void* allocate_for_new(std::size_t size, std::size_t align) noexcept {
    return align <= min_align ? heap().allocate(size) : heap().allocate(size, align);
  }
  /// operator new's loop: the new_handler may free memory, then allocation is retried.
  ALLOY_SLOW_PATH static void* new_or_throw(std::size_t size, std::size_t align) {
    for (;;) {
      if (void* p = allocate_for_new(size, align); p != nullptr) return p;
      std::new_handler handler = current_new_handler();
      if (handler == nullptr) throw_bad_alloc();
      handler();
    }
  }
  /// nothrow new: nullptr once no new_handler is left (a handler that throws is not caught
  /// here, as in mimalloc: catching would need libstdc++'s personality routine).
  ALLOY_SLOW_PATH static void* new_or_null(std::size_t size, std::size_t align) noexcept {
    for (;;) {
      if (void* p = allocate_for_new(size, align); p != nullptr) return p;
      std::new_handler handler = current_new_handler();
      if (handler == nullptr) return nullptr;
      handler();
    }
  }
  // With a thread cache, operator new is malloc's fast half and a tail call, as malloc is: a
  // leaf with no test of whether the heap is built (27 -> 21 instructions, no saved register);
  // new_or_throw / new_or_null allocate again and run the new_handler loop.
  ALLOY_FAST_PATH static void* new_fast_half(std::size_t size) noexcept {
    if constexpr (caches_blocks) return process_heap<Allocator>::unchecked()->layers().allocate_cached(size);
    else return heap().allocate(size);
  }
  ALLOY_FAST_PATH static void* operator_new(std::size_t size) {
    if (void* p = new_fast_half(size)) [[likely]] return p;
    return new_or_throw(size, min_align);
  }
  ALLOY_FAST_PATH static void* operator_new_nothrow(std::size_t size) noexcept {
    if (void* p = new_fast_half(size)) [[likely]] return p;
    return new_or_null(size, min_align);
  }

  /// Sized delete: the size the program gave to new, so the heap's sized fast path (a thread
  /// cache push, no page-map read) applies. Every block operator new returns is Alloy's (the
  /// library replaces it from the first call), so no ownership check is needed. A leaf, as
  /// free is: the rest is a tail call.
  ALLOY_FAST_PATH static void sized_delete(void* p, std::size_t size, std::size_t align) noexcept {
    if constexpr (caches_sized_frees) {
      if (align <= min_align && process_heap<Allocator>::unchecked()->layers().deallocate_cached(p, size)) [[likely]] return;
    }
    sized_delete_slow(p, size, align);
  }
  ALLOY_SLOW_PATH static void sized_delete_slow(void* p, std::size_t size, std::size_t align) noexcept {
    if (p == nullptr) return;
    if (align <= min_align) heap().deallocate(p, size);
    else heap().deallocate(p, size, align);
  }

  static void register_fork_handlers() noexcept {
    heap();  // built before any fork, so the child never builds it half-way
    if constexpr (requires(Allocator& a) {
                    a.layers().prepare_fork();
                    a.layers().after_fork_parent();
                    a.layers().after_fork_child();
                  }) {
      ::pthread_atfork([] { heap().layers().prepare_fork(); }, [] { heap().layers().after_fork_parent(); },
                       [] { heap().layers().after_fork_child(); });
    }
  }

 private:
  /// realloc of a block Alloy never handed out: its size is unknown, so only what the new size
  /// says can be read, which may run past its end. Refused instead (NULL, ENOMEM, block untouched).
  ALLOY_SLOW_PATH static void* foreign_realloc(void*, std::size_t) noexcept {
    errno = ENOMEM;
    return nullptr;
  }
};

}  // namespace alloy

extern "C" int __cxa_thread_atexit_impl(void (*)(void*), void*, void*) noexcept;

#define ALLOY_MALLOC_API_ extern "C" __attribute__((visibility("default")))
#define ALLOY_NEW_API_ __attribute__((visibility("default")))

/// Defines the C and C++ allocation functions of this shared library in terms of `Type`.
#define ALLOY_MALLOC_OVERRIDE(Type)                                                                                   \
  namespace {                                                                                                        \
  using alloy_malloc_ = ::alloy::malloc_functions<Type>;                                                             \
  __attribute__((constructor)) void alloy_register_fork_handlers_() { alloy_malloc_::register_fork_handlers(); }     \
  __attribute__((constructor)) void alloy_start_background_reclaimer_() { alloy_malloc_::start_background_reclaimer(); } \
  }                                                                                                                  \
  /* thread_local destructors, registered with glibc directly: this is libstdc++'s own    */                         \
  /* definition, hidden here so that the library needs no libstdc++.                      */                         \
  extern "C" __attribute__((visibility("hidden"))) int __cxa_thread_atexit(void (*f)(void*), void* o, void* d) noexcept { \
    return __cxa_thread_atexit_impl(f, o, d);                                                                        \
  }                                                                                                                  \
  ALLOY_MALLOC_API_ void* malloc(std::size_t n) noexcept { return alloy_malloc_::malloc(n); }                        \
  ALLOY_MALLOC_API_ void free(void* p) noexcept { alloy_malloc_::free(p); }                                          \
  ALLOY_MALLOC_API_ void* calloc(std::size_t c, std::size_t n) noexcept { return alloy_malloc_::calloc(c, n); }      \
  ALLOY_MALLOC_API_ void* realloc(void* p, std::size_t n) noexcept { return alloy_malloc_::realloc(p, n); }          \
  ALLOY_MALLOC_API_ void* reallocarray(void* p, std::size_t c, std::size_t n) noexcept {                             \
    return alloy_malloc_::reallocarray(p, c, n);                                                                     \
  }                                                                                                                  \
  ALLOY_MALLOC_API_ void* aligned_alloc(std::size_t a, std::size_t n) noexcept {                                     \
    return alloy_malloc_::aligned_alloc(a, n);                                                                       \
  }                                                                                                                  \
  ALLOY_MALLOC_API_ int posix_memalign(void** out, std::size_t a, std::size_t n) noexcept {                          \
    return alloy_malloc_::posix_memalign(out, a, n);                                                                 \
  }                                                                                                                  \
  ALLOY_MALLOC_API_ void* memalign(std::size_t a, std::size_t n) noexcept { return alloy_malloc_::memalign(a, n); }  \
  ALLOY_MALLOC_API_ void* valloc(std::size_t n) noexcept { return alloy_malloc_::valloc(n); }                        \
  ALLOY_MALLOC_API_ void* pvalloc(std::size_t n) noexcept { return alloy_malloc_::pvalloc(n); }                      \
  ALLOY_MALLOC_API_ std::size_t malloc_usable_size(void* p) noexcept { return alloy_malloc_::malloc_usable_size(p); } \
  ALLOY_MALLOC_API_ int malloc_trim(std::size_t pad) noexcept { return alloy_malloc_::malloc_trim(pad); }            \
  ALLOY_MALLOC_API_ struct mallinfo2 mallinfo2() noexcept { return alloy_malloc_::mallinfo2(); }                     \
  ALLOY_MALLOC_API_ struct mallinfo mallinfo() noexcept { return alloy_malloc_::mallinfo(); }                        \
  ALLOY_MALLOC_API_ void malloc_stats() noexcept { alloy_malloc_::malloc_stats(); }                                  \
  ALLOY_NEW_API_ void* operator new(std::size_t n) { return alloy_malloc_::operator_new(n); }                        \
  ALLOY_NEW_API_ void* operator new[](std::size_t n) { return alloy_malloc_::operator_new(n); }                      \
  ALLOY_NEW_API_ void* operator new(std::size_t n, const std::nothrow_t&) noexcept {                                 \
    return alloy_malloc_::operator_new_nothrow(n);                                                                   \
  }                                                                                                                  \
  ALLOY_NEW_API_ void* operator new[](std::size_t n, const std::nothrow_t&) noexcept {                               \
    return alloy_malloc_::operator_new_nothrow(n);                                                                   \
  }                                                                                                                  \
  ALLOY_NEW_API_ void* operator new(std::size_t n, std::align_val_t a) {                                             \
    return alloy_malloc_::new_or_throw(n, static_cast<std::size_t>(a));                                              \
  }                                                                                                                  \
  ALLOY_NEW_API_ void* operator new[](std::size_t n, std::align_val_t a) {                                           \
    return alloy_malloc_::new_or_throw(n, static_cast<std::size_t>(a));                                              \
  }                                                                                                                  \
  ALLOY_NEW_API_ void* operator new(std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {             \
    return alloy_malloc_::new_or_null(n, static_cast<std::size_t>(a));                                               \
  }                                                                                                                  \
  ALLOY_NEW_API_ void* operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t&) noexcept {           \
    return alloy_malloc_::new_or_null(n, static_cast<std::size_t>(a));                                               \
  }                                                                                                                  \
  ALLOY_NEW_API_ void operator delete(void* p) noexcept { alloy_malloc_::free(p); }                                  \
  ALLOY_NEW_API_ void operator delete[](void* p) noexcept { alloy_malloc_::free(p); }                                \
  ALLOY_NEW_API_ void operator delete(void* p, const std::nothrow_t&) noexcept { alloy_malloc_::free(p); }           \
  ALLOY_NEW_API_ void operator delete[](void* p, const std::nothrow_t&) noexcept { alloy_malloc_::free(p); }         \
  ALLOY_NEW_API_ void operator delete(void* p, std::size_t n) noexcept {                                             \
    alloy_malloc_::sized_delete(p, n, alloy_malloc_::min_align);                                                     \
  }                                                                                                                  \
  ALLOY_NEW_API_ void operator delete[](void* p, std::size_t n) noexcept {                                           \
    alloy_malloc_::sized_delete(p, n, alloy_malloc_::min_align);                                                     \
  }                                                                                                                  \
  ALLOY_NEW_API_ void operator delete(void* p, std::align_val_t) noexcept { alloy_malloc_::free(p); }                \
  ALLOY_NEW_API_ void operator delete[](void* p, std::align_val_t) noexcept { alloy_malloc_::free(p); }              \
  ALLOY_NEW_API_ void operator delete(void* p, std::align_val_t, const std::nothrow_t&) noexcept {                   \
    alloy_malloc_::free(p);                                                                                          \
  }                                                                                                                  \
  ALLOY_NEW_API_ void operator delete[](void* p, std::align_val_t, const std::nothrow_t&) noexcept {                 \
    alloy_malloc_::free(p);                                                                                          \
  }                                                                                                                  \
  ALLOY_NEW_API_ void operator delete(void* p, std::size_t n, std::align_val_t a) noexcept {                         \
    alloy_malloc_::sized_delete(p, n, static_cast<std::size_t>(a));                                                  \
  }                                                                                                                  \
  ALLOY_NEW_API_ void operator delete[](void* p, std::size_t n, std::align_val_t a) noexcept {                       \
    alloy_malloc_::sized_delete(p, n, static_cast<std::size_t>(a));                                                  \
  }
