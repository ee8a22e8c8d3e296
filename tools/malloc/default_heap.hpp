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
// - Peak RSS against glibc's (bench/programs, 3 reps, geomean 1.061-1.065; mimalloc 1.044), by
//   pages at peak RSS (/proc/PID/pagemap, each resident 1 MiB granule named by its chunk header)
//   and the programs' traces (tools/trace): sqlite3 (1.27x) allocates its 2409 pages as 4368 B
//   (4 KiB + header), class 5120: 1.7 MiB of rounding; and its realloc-grown buffers (472 KiB ->
//   3.6 MiB) leave each freed step resident in the large heap, where glibc maps each one and
//   unmaps it on free (~1.8 MiB). perl (1.08-1.11x): 38 arrays grown by realloc in lockstep
//   through 10-20 KiB leave 38 free blocks in each class they pass, 2.2 MiB no other class can
//   use. python3 (1.07x): freed steps of grown dict and list tables above 128 KiB, ~1.3 MiB.
//   Measured and not taken: 8 steps per doubling (sqlite3 -0.8 MiB, perl +0.5 MiB: twice the
//   classes for a ladder to leave blocks in; malloc(64)+free 75.5); a top class of 8, 16 or
//   32 KiB (sqlite3 22.6 / 24.7 / 24.5 MiB, perl 28.2 / 27.9 / 29.1: the tlsf heap keeps freed
//   blocks resident as well); reclaim after 5 ms, or sweeps without backoff (no change: sweeps
//   run on slow paths after the delay, and perl's ladder ends just before its peak). What
//   closes the gap is the large heap's threshold: blocks above 128 KiB as mappings of their own
//   (glibc's initial mmap threshold) took the geomean to 1.038 and CPU 0.980 -> 0.938 in one
//   run (sqlite3 20.8 MiB, python3 58.8) -- segregated_heap's own_chunk_above (issue 14 item 3),
//   best made adaptive as glibc's is (raised to the size of each own mapping freed) so that the
//   large heap still serves the buffers a program frees and takes again.
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
