// The composition behind liballoy_malloc.so: a general-purpose heap for whole programs.
//
// - segregated_fit over geometric_classes<16, 32768, 4>: O(1) allocate and free, under 25%
//   internal waste per block (jemalloc's spacing), 52 classes; anything larger gets its own
//   chunk straight from mmap and goes back to the kernel when freed (the large path).
// - system_pages: mmap, never malloc (the heap *is* malloc: system_malloc would recurse).
// - align<16>: what glibc guarantees on x86-64 (max_align_t), so no program is surprised.
// - threading: thread_local_cache: per-thread bins in front of the locked heap.
#pragma once
#include <alloc/allocator.hpp>
#include <policy/all.hpp>

namespace alloy {

namespace P = alloy::policy;
using malloc_heap = allocator<P::segregated_fit, P::geometric_classes<16, (1 << 20), 4>, P::system_pages, P::align<16>,
                              P::thread_local_cache>;

}  // namespace alloy
