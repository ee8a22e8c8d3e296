// The system allocators Alloy is measured against: glibc malloc, jemalloc, tcmalloc and
// mimalloc, all callable side by side in one process and one run.
//
// Why dlopen: Debian's jemalloc (and tcmalloc) export unprefixed malloc/free, so *linking* one
// replaces malloc for the whole process — every other baseline, Google Benchmark and the
// standard library would then run on it. Loading each library with RTLD_LOCAL keeps its symbols
// out of the global scope; its own entry points, taken with dlsym from its handle, reach that
// library's allocator and nothing else does.
//
// Every baseline is called through a function pointer (glibc's too), so each pays the same
// indirect call and the comparison stays fair.
//
// jemalloc keeps its thread state in initial-exec TLS, which a dlopen'ed library may only use
// from glibc's small static-TLS surplus; Debian's build needs more than the default. So a
// benchmark's main() first calls `alloy::bench::init_baselines(argv)`, which re-executes the
// program once with GLIBC_TUNABLES=glibc.rtld.optional_static_tls=<more> when that is not set
// yet (set it yourself when running under valgrind, which would not follow the re-exec).
//
//   int main(int argc, char** argv) { alloy::bench::init_baselines(argv); ... }
//   for (const alloy::bench::baseline& b : alloy::bench::baselines())
//     if (b.available()) { void* p = b.allocate(64); b.deallocate(p); }
#pragma once
#include <dlfcn.h>
#include <unistd.h>

#include <array>
#include <cstddef>
#include <cstdlib>
#include <string>
#include <string_view>

namespace alloy::bench {

struct baseline {
  std::string_view name;                         ///< "glibc malloc", "jemalloc", ...
  void* (*allocate)(std::size_t) = nullptr;      ///< malloc-like
  void (*deallocate)(void*) = nullptr;           ///< free-like
  std::string_view missing;                      ///< why it is not available ("" when it is)

  bool available() const noexcept { return allocate != nullptr && deallocate != nullptr; }
};

namespace detail {

/// Loads `library` privately and takes its allocate/free entry points; never unloaded, since
/// blocks it handed out may outlive any scope.
inline baseline load_baseline(std::string_view name, const char* library, const char* allocate_symbol,
                              const char* free_symbol) noexcept {
  baseline b{name, nullptr, nullptr, ""};
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL);
  if (handle == nullptr) {
    b.missing = "dlopen failed: not installed (tools/install-deps.sh), or no static TLS (init_baselines)";
    return b;
  }
  b.allocate = reinterpret_cast<void* (*)(std::size_t)>(dlsym(handle, allocate_symbol));
  b.deallocate = reinterpret_cast<void (*)(void*)>(dlsym(handle, free_symbol));
  if (!b.available()) b.missing = "entry point not found";
  return b;
}

}  // namespace detail

inline constexpr const char* static_tls_tunable = "glibc.rtld.optional_static_tls";

/// Call first in main(): re-executes the program once with enough static TLS for jemalloc to
/// be dlopen'ed (see above). Returns normally when nothing needs doing or the re-exec fails.
inline void init_baselines(char** argv) noexcept {
  const char* tunables = std::getenv("GLIBC_TUNABLES");
  if (tunables != nullptr && std::string_view(tunables).find(static_tls_tunable) != std::string_view::npos) return;
  std::string value = tunables == nullptr ? "" : std::string(tunables) + ":";
  value += std::string(static_tls_tunable) + "=16384";
  if (setenv("GLIBC_TUNABLES", value.c_str(), 1) != 0) return;
  execv("/proc/self/exe", argv);  // only returns on failure: go on without jemalloc
}

/// glibc malloc (the process's own), jemalloc, tcmalloc, mimalloc — loaded once, in that order.
inline const std::array<baseline, 4>& baselines() noexcept {
  static const std::array<baseline, 4> all{
      baseline{"glibc malloc", &std::malloc, &std::free, ""},
      detail::load_baseline("jemalloc", "libjemalloc.so.2", "malloc", "free"),
      detail::load_baseline("tcmalloc", "libtcmalloc_minimal.so.4", "tc_malloc", "tc_free"),
      detail::load_baseline("mimalloc", "libmimalloc.so.2", "mi_malloc", "mi_free"),
  };
  return all;
}

/// One baseline by name ("jemalloc"); a baseline with null entry points when there is none.
inline const baseline& baseline_named(std::string_view name) noexcept {
  for (const baseline& b : baselines())
    if (b.name == name) return b;
  static const baseline none{"?", nullptr, nullptr, "no such baseline"};
  return none;
}

}  // namespace alloy::bench
