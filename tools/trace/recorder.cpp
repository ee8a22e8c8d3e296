// liballoy_trace.so: records every malloc/free/calloc/realloc/aligned call of a program into a
// trace file (tools/trace/trace_format.hpp), then forwards the call to glibc.
//
//   ALLOY_TRACE_FILE=out.trace LD_PRELOAD=.../liballoy_trace.so program args...
//
// ALLOY_TRACE_FILE defaults to alloy.trace; a "%p" in it becomes the process id (for programs
// that start others). ALLOY_TRACE_LIMIT=N stops recording after N records (small test data).
// operator new/delete need no hook of their own: libstdc++'s call malloc and free.
//
// Every call is recorded under one lock, held across glibc's call too, so the file's order is
// the order the calls took effect (a block freed by one thread and reused by another is seen
// freed first). The recorder allocates only with mmap, and calls glibc through its
// __libc_* entry points, so nothing here recurses into malloc.
#include "trace_format.hpp"

#include <dlfcn.h>
#include <errno.h>
#include <pthread.h>
#include <sys/mman.h>
#include <unistd.h>

#include <atomic>
#include <cstdint>
#include <cstdlib>
#include <cstring>

extern "C" {
void* __libc_malloc(std::size_t);
void __libc_free(void*);
void* __libc_calloc(std::size_t, std::size_t);
void* __libc_realloc(void*, std::size_t);
void* __libc_memalign(std::size_t, std::size_t);
}

namespace {

namespace T = alloy::trace;

/// Memory straight from the kernel, so the recorder never calls the allocator it watches.
void* map_pages(std::size_t bytes) noexcept {
  void* p = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  return p == MAP_FAILED ? nullptr : p;
}

/// Live address -> object number, open addressing with backward-shift deletion.
class object_map {
 public:
  bool insert(std::uintptr_t key, std::uint32_t value) noexcept {
    if ((size_ + 1) * 2 > capacity_ && !grow()) return false;
    place(key, value);
    return true;
  }
  /// The number of `key`, removed from the map; 0 when it was never recorded.
  std::uint32_t take(std::uintptr_t key) noexcept {
    if (capacity_ == 0) return 0;
    std::size_t i = slot(key);
    while (slots_[i].key != key) {
      if (slots_[i].key == 0) return 0;
      i = (i + 1) & (capacity_ - 1);
    }
    const std::uint32_t value = slots_[i].value;
    for (std::size_t j = (i + 1) & (capacity_ - 1); slots_[j].key != 0; j = (j + 1) & (capacity_ - 1)) {
      const std::size_t home = slot(slots_[j].key);
      if (((j - home) & (capacity_ - 1)) >= ((j - i) & (capacity_ - 1))) {
        slots_[i] = slots_[j];
        i = j;
      }
    }
    slots_[i] = {};
    --size_;
    return value;
  }

 private:
  struct entry {
    std::uintptr_t key;
    std::uint32_t value;
  };
  std::size_t slot(std::uintptr_t key) const noexcept {
    return static_cast<std::size_t>((key * 0x9E3779B97F4A7C15ull) >> 32) & (capacity_ - 1);
  }
  void place(std::uintptr_t key, std::uint32_t value) noexcept {
    std::size_t i = slot(key);
    while (slots_[i].key != 0) i = (i + 1) & (capacity_ - 1);
    slots_[i] = {key, value};
    ++size_;
  }
  bool grow() noexcept {
    const std::size_t fresh = capacity_ == 0 ? 4096 : capacity_ * 2;
    auto* table = static_cast<entry*>(map_pages(fresh * sizeof(entry)));
    if (table == nullptr) return false;
    entry* old = slots_;
    const std::size_t old_capacity = capacity_;
    slots_ = table;
    capacity_ = fresh;
    size_ = 0;
    for (std::size_t i = 0; i < old_capacity; ++i)
      if (old[i].key != 0) place(old[i].key, old[i].value);
    if (old != nullptr) ::munmap(old, old_capacity * sizeof(entry));
    return true;
  }

  entry* slots_ = nullptr;
  std::size_t capacity_ = 0;
  std::size_t size_ = 0;
};

class recorder {
 public:
  class guard {
   public:
    explicit guard(recorder& r) noexcept : r_(r) {
      while (r_.lock_.exchange(true, std::memory_order_acquire))
        while (r_.lock_.load(std::memory_order_relaxed)) __builtin_ia32_pause();
    }
    ~guard() { r_.lock_.store(false, std::memory_order_release); }
    guard(const guard&) = delete;
    guard& operator=(const guard&) = delete;

   private:
    recorder& r_;
  };

  /// Records a block handed out (p not null).
  void allocated(void* p, std::size_t size, T::op kind, std::uint8_t align_log2 = 0) noexcept {
    if (!active_) return;
    const std::uint32_t object = next_object_;
    if (!objects_.insert(reinterpret_cast<std::uintptr_t>(p), object)) return;
    if (append({size, object, thread(), kind, align_log2})) ++next_object_;
  }
  /// Records a block about to be given back or resized; false when it was never recorded.
  bool released(void* p, T::op kind) noexcept {
    if (!active_ || p == nullptr) return false;
    const std::uint32_t object = objects_.take(reinterpret_cast<std::uintptr_t>(p));
    return object != 0 && append({0, object, thread(), kind, 0});
  }

  void start() noexcept {
    const char* limit = std::getenv("ALLOY_TRACE_LIMIT");
    if (limit != nullptr) limit_ = std::strtoull(limit, nullptr, 10);
    pthread_atfork(nullptr, nullptr, [] { instance().active_ = false; });  // only the parent's calls
    active_ = true;
  }

  void finish() noexcept {
    guard g(*this);
    if (!active_) return;
    active_ = false;
    char path[4096];
    name_file(path, sizeof path);
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) return;
    const T::header h{{'A', 'L', 'L', 'O', 'Y', 'T', 'R', '1'}, T::version, threads_, count_, next_object_ - 1u};
    T::write(fd, h, records_);
    ::close(fd);
  }

  static recorder& instance() noexcept;

 private:
  std::uint16_t thread() noexcept {
    static thread_local __attribute__((tls_model("initial-exec"))) int number = -1;
    if (number < 0) number = threads_ < 0xffff ? threads_++ : 0xfffe;
    return static_cast<std::uint16_t>(number);
  }

  bool append(const T::record& r) noexcept {
    if (count_ >= limit_) return false;
    if (count_ == capacity_) {
      const std::size_t fresh = capacity_ == 0 ? 65536 : capacity_ * 2;
      void* grown = records_ == nullptr ? map_pages(fresh * sizeof(T::record))
                                        : ::mremap(records_, capacity_ * sizeof(T::record), fresh * sizeof(T::record),
                                                   MREMAP_MAYMOVE);
      if (grown == nullptr || grown == MAP_FAILED) return false;
      records_ = static_cast<T::record*>(grown);
      capacity_ = fresh;
    }
    records_[count_++] = r;
    return true;
  }

  void name_file(char* out, std::size_t room) const noexcept {
    const char* pattern = std::getenv("ALLOY_TRACE_FILE");
    if (pattern == nullptr || *pattern == '\0') pattern = "alloy.trace";
    std::size_t n = 0;
    for (const char* c = pattern; *c != '\0' && n + 24 < room; ++c) {
      if (c[0] == '%' && c[1] == 'p') {
        char digits[24];
        int k = 0;
        for (auto pid = static_cast<unsigned long>(::getpid()); pid > 0 || k == 0; pid /= 10) digits[k++] = char('0' + pid % 10);
        while (k > 0) out[n++] = digits[--k];
        ++c;
      } else {
        out[n++] = *c;
      }
    }
    out[n] = '\0';
  }

  std::atomic<bool> lock_{false};
  bool active_ = false;
  std::uint16_t threads_ = 0;
  std::uint32_t next_object_ = 1;
  std::uint64_t count_ = 0;
  std::uint64_t capacity_ = 0;
  std::uint64_t limit_ = ~std::uint64_t{0};
  T::record* records_ = nullptr;
  object_map objects_;
};

constinit recorder the_recorder;  // constant-initialised: ready before any constructor runs
recorder& recorder::instance() noexcept { return the_recorder; }

std::uint8_t log2_of(std::size_t align) noexcept {
  return align == 0 ? 0 : static_cast<std::uint8_t>(63 - __builtin_clzll(align));
}

void* record_aligned(std::size_t align, std::size_t size) noexcept {
  recorder::guard g(the_recorder);
  void* p = __libc_memalign(align, size);
  if (p != nullptr) the_recorder.allocated(p, size, T::op::allocate_aligned, log2_of(align));
  return p;
}

__attribute__((constructor)) void start_recording() { the_recorder.start(); }
__attribute__((destructor)) void finish_recording() { the_recorder.finish(); }

}  // namespace

#define ALLOY_TRACE_API extern "C" __attribute__((visibility("default")))

ALLOY_TRACE_API void* malloc(std::size_t size) noexcept {
  recorder::guard g(the_recorder);
  void* p = __libc_malloc(size);
  if (p != nullptr) the_recorder.allocated(p, size, T::op::allocate);
  return p;
}

ALLOY_TRACE_API void free(void* p) noexcept {
  if (p == nullptr) return;
  recorder::guard g(the_recorder);
  the_recorder.released(p, T::op::deallocate);
  __libc_free(p);
}

ALLOY_TRACE_API void* calloc(std::size_t count, std::size_t size) noexcept {
  recorder::guard g(the_recorder);
  void* p = __libc_calloc(count, size);
  if (p != nullptr) the_recorder.allocated(p, count * size, T::op::allocate_zeroed);
  return p;
}

ALLOY_TRACE_API void* realloc(void* old, std::size_t size) noexcept {
  recorder::guard g(the_recorder);
  void* p = __libc_realloc(old, size);
  if (old == nullptr) {
    if (p != nullptr) the_recorder.allocated(p, size, T::op::allocate);
  } else if (p != nullptr) {
    if (the_recorder.released(old, T::op::reallocate_from)) the_recorder.allocated(p, size, T::op::reallocate);
  } else if (size == 0) {
    the_recorder.released(old, T::op::deallocate);  // glibc's realloc(p, 0) frees p
  }
  return p;
}

ALLOY_TRACE_API void* reallocarray(void* old, std::size_t count, std::size_t size) noexcept {
  std::size_t bytes;
  if (__builtin_mul_overflow(count, size, &bytes)) {
    errno = ENOMEM;
    return nullptr;
  }
  return realloc(old, bytes);
}

ALLOY_TRACE_API void* memalign(std::size_t align, std::size_t size) noexcept { return record_aligned(align, size); }
ALLOY_TRACE_API void* aligned_alloc(std::size_t align, std::size_t size) noexcept { return record_aligned(align, size); }
ALLOY_TRACE_API void* valloc(std::size_t size) noexcept { return record_aligned(::getpagesize(), size); }
ALLOY_TRACE_API void* pvalloc(std::size_t size) noexcept {
  const auto page = static_cast<std::size_t>(::getpagesize());
  return record_aligned(page, (size + page - 1) & ~(page - 1));
}
// Every block the program holds came from glibc (the calls above forward there), so glibc must
// answer for its size: a program linked with another malloc (redis-server with jemalloc) would
// otherwise ask that malloc about glibc's blocks. glibc exports no __libc_ name for this one;
// its own definition is found through its handle (dlsym may allocate, outside the lock).
ALLOY_TRACE_API std::size_t malloc_usable_size(void* p) noexcept {
  using usable_size_fn = std::size_t (*)(void*);
  static std::atomic<usable_size_fn> glibc{nullptr};
  usable_size_fn f = glibc.load(std::memory_order_acquire);
  if (f == nullptr) {
    void* libc = ::dlopen("libc.so.6", RTLD_NOW | RTLD_NOLOAD);
    f = libc == nullptr ? nullptr : reinterpret_cast<usable_size_fn>(::dlsym(libc, "malloc_usable_size"));
    if (f == nullptr) return 0;
    glibc.store(f, std::memory_order_release);
  }
  return p == nullptr ? 0 : f(p);
}

ALLOY_TRACE_API int posix_memalign(void** out, std::size_t align, std::size_t size) noexcept {
  if (align < sizeof(void*) || (align & (align - 1)) != 0) return EINVAL;
  void* p = record_aligned(align, size);
  if (p == nullptr) return ENOMEM;
  *out = p;
  return 0;
}
