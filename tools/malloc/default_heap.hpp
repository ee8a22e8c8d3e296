// The composition behind liballoy_malloc.so: a general-purpose heap for whole programs.
//
// - segregated_fit over geometric_classes<16, 128 KiB, 4>: O(1) allocate and free, at most
//   25% rounding waste (jemalloc's spacing), 48 classes. A larger top class (1 MiB was
//   measured) keeps more freed memory resident: python3 peaked 8% above glibc with it, 2% with
//   128 KiB.
// - Anything larger lives in a tlsf heap over large chunks (segregated_fit::with<0, P::tlsf>):
//   freed large blocks coalesce and are reused with no system call, realloc grows a large
//   block in place into a free neighbour, and a chunk that empties goes back to the system
//   (one spare is kept, so a program that frees and allocates again does not map and unmap).
//   Before, every large block was an mmap of its own and every free a munmap.
// - system_pages: mmap, never malloc (this heap *is* malloc: system_malloc would recurse).
// - align<16>: what glibc guarantees on x86-64 (max_align_t), so no program is surprised.
// - thread_local_cache: per-thread bins in front of the locked heap; malloc takes no lock, and
//   neither does free of a small block: the class store's registry answers owns() lock-free.
// - reclaim::with<100>: free pages go back to the system (MADV_DONTNEED, so RSS falls) once
//   their size class has gone 100 ms without running out of blocks; malloc_trim(0) gives back
//   everything at once. The delay is measured (docs/policies/reclaim.md, issue 16's pattern: fill
//   512 MiB with 512 B-3 KiB blocks, free 90% at random, 1.5 s of light activity, grow back):
//   10 ms reclaims as much but decommits pages the regrowth touches again at once (regrowth 3.5x
//   the first growth's time per byte); 1000 ms lets most of the 1.5 s pass first (RSS 9.9x the
//   live bytes, against 3.35x); 100 ms reclaims as much as 10 ms and regrows in 0.5-1.2x the time.
#pragma once
#include <alloc/allocator.hpp>
#include <policy/all.hpp>

namespace alloy {

namespace P = alloy::policy;
using malloc_heap = allocator<P::segregated_fit::with<0, P::tlsf>, P::geometric_classes<16, (1 << 17), 4>, P::system_pages, P::align<16>,
                              P::thread_local_cache, P::reclaim::with<100>>;

}  // namespace alloy
