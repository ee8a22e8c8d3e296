// system_footprint: each system allocator's own figure for the memory it holds from the system.
// The libraries are already loaded (RTLD_LOCAL) by bench/common/baselines.hpp; RTLD_NOLOAD
// gives back that same handle, so the statistics read are those of the allocator measured.
#include <dlfcn.h>
#include <malloc.h>

#include "cells.hpp"

namespace alloy::bench {
namespace {

void* symbol_in(const char* library, const char* symbol) {
  void* handle = dlopen(library, RTLD_NOW | RTLD_LOCAL | RTLD_NOLOAD);
  return handle == nullptr ? nullptr : dlsym(handle, symbol);
}

using mallctl_fn = int (*)(const char*, void*, std::size_t*, void*, std::size_t);
using tc_property_fn = int (*)(const char*, std::size_t*);
using mi_process_info_fn = void (*)(std::size_t*, std::size_t*, std::size_t*, std::size_t*, std::size_t*,
                                    std::size_t*, std::size_t*, std::size_t*);

}  // namespace

system_footprint::system_footprint(std::string_view name) {
  if (name == "glibc malloc") {
    source_ = source::glibc;
  } else if (name == "jemalloc") {
    query_ = symbol_in("libjemalloc.so.2", "mallctl");
    source_ = source::jemalloc;
  } else if (name == "tcmalloc") {
    query_ = symbol_in("libtcmalloc_minimal.so.4", "MallocExtension_GetNumericProperty");
    source_ = source::tcmalloc;
  } else if (name == "mimalloc") {
    query_ = symbol_in("libmimalloc.so.2", "mi_process_info");
    source_ = source::mimalloc;
  }
  if (source_ != source::glibc && query_ == nullptr) source_ = source::none;
}

std::size_t system_footprint::operator()() const noexcept {
  switch (source_) {
    case source::glibc: {
      const struct mallinfo2 m = ::mallinfo2();
      return m.arena + m.hblkhd;  // every arena's heap, and the blocks mmapped on their own
    }
    case source::jemalloc: {
      const auto mallctl = reinterpret_cast<mallctl_fn>(query_);
      std::uint64_t epoch = 1;
      std::size_t len = sizeof epoch;
      mallctl("epoch", &epoch, &len, &epoch, len);  // refresh the statistics
      std::size_t resident = 0;
      len = sizeof resident;
      return mallctl("stats.resident", &resident, &len, nullptr, 0) == 0 ? resident : 0;
    }
    case source::tcmalloc: {
      const auto property = reinterpret_cast<tc_property_fn>(query_);
      std::size_t heap = 0, unmapped = 0;
      property("generic.heap_size", &heap);
      property("tcmalloc.pageheap_unmapped_bytes", &unmapped);
      return heap - unmapped;
    }
    case source::mimalloc: {
      std::size_t elapsed, user, system, rss, peak_rss, commit = 0, peak_commit, faults;
      reinterpret_cast<mi_process_info_fn>(query_)(&elapsed, &user, &system, &rss, &peak_rss, &commit, &peak_commit,
                                                   &faults);
      return commit;
    }
    case source::none: break;
  }
  return 0;
}

}  // namespace alloy::bench
