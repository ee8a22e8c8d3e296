// The composition behind liballoy_malloc.so: a general-purpose heap for whole programs.
//
// - segregated_fit over geometric_classes<16, 128 KiB, 4>: O(1) allocate and free, at most
//   25% rounding waste (jemalloc's spacing), 48 classes. A larger top class (1 MiB was
//   measured) keeps more freed memory resident: python3 peaked 8% above glibc with it, 2% with
//   128 KiB.
// - Anything larger lives in a tlsf heap over large chunks (segregated_fit::with<0, P::tlsf>):
//   freed large blocks coalesce and are reused with no system call, realloc grows a large
//   block in place into a free neighbour (and copies outside the lock when it cannot). Under
//   reclaim a chunk that empties is kept, its pages decommitted after the delay and the chunk
//   unmapped on malloc_trim: unmapping at once made every realloc-grown buffer fault its pages
//   again. bench/process, same run, CPU ms: vector-growth 442 -> 217 (jemalloc 203),
//   large-realloc 794 -> 293 (tcmalloc 301). Before the large heap every large block was an
//   mmap of its own: large-realloc took 6.9x mimalloc's CPU time, now 0.57x.
// - Class chunks of 1 MiB (four of the largest blocks), carved about a page at a time: a class
//   a program touches once keeps a page resident, not 32 blocks (bench/programs peak RSS:
//   sqlite3 24.4 -> 22.7 MiB, perl 30.1 -> 28.5 MiB; glibc 17.7 and 25.4).
// - system_pages: mmap, never malloc (this heap *is* malloc: system_malloc would recurse).
// - align<16>: what glibc guarantees on x86-64 (max_align_t), so no program is surprised.
// - thread_local_cache: per-thread bins in front of the locked heap; malloc takes no lock, and
//   neither does free of a small block: the class store's page map answers owns() with two
//   loads. malloc(64) + free: 75.4 instructions with the call overhead (bench/malloc/count.sh;
//   jemalloc 73.0, tcmalloc 72.4, mimalloc 111.9, glibc 134.7). Blocks freed by another thread
//   join the freeing thread's bin (docs/policies/threading.md: 8.0 ns per object handed over,
//   mimalloc 16.7). per_cpu_cache was not chosen: 25 instructions per pair against 21, and
//   slower on every remote-free pattern measured.
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
