// The composition behind liballoy_malloc.so: a general-purpose heap for whole programs.
//
// - segregated_fit over geometric_classes<16, 4 KiB, 4>: O(1) allocate and free, at most 25%
//   rounding waste (jemalloc's spacing), 28 classes, each cached per thread. The top class is
//   where a block stops being one of many alike and starts being a buffer: classes keep every
//   freed block for their own size, so a program that grows buffers by realloc leaves a freed
//   block in each class it passes, which no other size can use; the tlsf heap above coalesces
//   them into room for the next, larger step. Measured at peak RSS (/proc/PID/pagemap, each
//   resident 1 MiB granule named by its chunk header, and the programs' traces, tools/trace),
//   with a 128 KiB top class: perl grows 38 arrays in lockstep by realloc through 10-20 KiB and
//   kept 38 free blocks in each class passed (2.2 MiB, most of its 2-3 MiB above glibc's);
//   sqlite3's page cache takes 4368 B pages (4 KiB + header) and kept 752 B of rounding in
//   each (class 5120: 1.7 MiB), where tlsf splits them to size. bench/programs, one run, top
//   class 128 KiB -> 4 KiB: peak RSS geomean 1.062 -> 1.035 x glibc's (mimalloc 1.044; sqlite3
//   22.7 -> 21.5 MiB, perl 27.4 -> 25.3, python3 61.7 -> 59.9), CPU geomean 0.919 -> 0.908
//   (docs/benchmarks.md has the table). Also measured: 8 KiB (perl 26.9,
//   sqlite3 22.5 MiB), 16 and 32 KiB (sqlite3 24.7 and 24.5: worse), 1 MiB (python3 +8%);
//   8 steps per doubling (sqlite3 -0.8 MiB, perl +0.5 MiB: more classes for a ladder to leave
//   blocks in); reclaim after 5 ms, or sweeps without backoff (no change: sweeps run on slow
//   paths after the delay, and perl's ladder ends just before its peak). Few blocks fall
//   between 4 and 128 KiB (sqlite3 0.6% of its mallocs, g++ 2.2%, perl 0.1%): taking the heap's
//   lock for them costs real programs no measurable CPU. Threads that grow vectors through
//   those sizes pay a little (bench/process vector-growth, 5 reps: CPU 241 -> 252 ms, jemalloc
//   211; large-realloc 379 -> 418 and 439 -> 411 ms in two runs, noise on a shared machine).
// - Anything larger lives in a tlsf heap over large chunks (segregated_fit::with<1 MiB, P::tlsf>):
//   freed large blocks coalesce and are reused with no system call, realloc grows a large
//   block in place into a free neighbour (and copies outside the lock when it cannot). Its
//   chunks double, so its blocks share a few chunks where they coalesce (tagged_heap's
//   growth_divisor: vector-growth peak RSS 39-44 -> 30-37 MB, mimalloc 35.5). A
//   block alone in its chunk, a quarter of the heap or more, with nothing free that fits,
//   grows with its chunk by mremap: a buffer grown from 1 to 32 MiB faults only its new pages
//   (bench/process huge-realloc, CPU 2028 -> 659 ms, tcmalloc 1504; page faults 96k -> 19k).
//   Under reclaim a chunk that empties is kept, its pages decommitted after the delay and the
//   chunk unmapped on malloc_trim: unmapping at once made every realloc-grown buffer fault its
//   pages again. bench/process, in the run that measured that, CPU ms: vector-growth
//   442 -> 217 (jemalloc 203), large-realloc 794 -> 293 (tcmalloc 301). Before the large heap
//   every large block was an mmap of its own: large-realloc took 6.9x mimalloc's CPU time,
//   now 0.57x. What it still
//   keeps above glibc is the freed steps of buffers grown past 128 KiB (sqlite3 ~1.8 MiB,
//   python3 ~1.3 MiB), which glibc maps each and unmaps on free: blocks above 128 KiB as
//   mappings of their own (top class 128 KiB) measured peak RSS geomean 1.061 -> 1.038, CPU
//   0.980 -> 0.938, in one run. Tried since and not kept, 2026-12-01: segregated_heap's
//   own_chunk_above made adaptive as glibc's mmap threshold is (from 128 KiB, raised to each
//   freed own chunk's size, up to 32 MiB). bench/programs, one interleaved run: peak RSS
//   geomean 1.050 -> 1.030 x glibc's (sqlite3 20.3 -> 18.6 MiB, glibc 17.7), CPU 0.902 ->
//   0.893; but bench/process wall, x the fastest system allocator: large-realloc 0.94 -> 1.58,
//   vector-growth 1.13 -> 1.43, huge-realloc 0.52 -> 1.00 — each own chunk's pages are fresh
//   faults (16 us each on this VM), and a block that crosses the threshold by realloc is
//   copied out of the large heap. Starting at 1 or 4 MiB cost the same (large-realloc 1.62,
//   1.61): the first buffers of each size pay before the threshold has risen past them.
// - Class chunks of 1 MiB, set here (the default, four of the largest blocks, would be 64 KiB:
//   16 times the mmaps, and no less resident: perl 26.1 against 25.7 MiB), carved about a page
//   at a time: a class a program touches once keeps a page resident, not 32 blocks
//   (bench/programs peak RSS: sqlite3 24.4 -> 22.7 MiB, perl 30.1 -> 28.5 MiB; glibc 17.7, 25.4).
// - system_pages: mmap, never malloc (this heap *is* malloc: system_malloc would recurse). It
//   populates pages on request (MADV_POPULATE_WRITE), so carving populates a class chunk's fresh
//   pages a window ahead in one call instead of a trap a page: perl 93.3 -> 86.0 ms of CPU
//   (mimalloc 89.8); bench_programs peak RSS 1.047 -> 1.045x glibc's (docs/policies/memory-sources.md).
// - align<16>: what glibc guarantees on x86-64 (max_align_t), so no program is surprised.
// - thread_local_cache: per-thread bins in front of the locked heap; malloc takes no lock, and
//   neither does free of a small block: the class store's page map answers owns() with two
//   loads, and its byte names the block's class. The library's one instance is built from
//   alloy::process_type<malloc_heap>, whose cache is thread_local_cache::one_instance: each
//   thread's bins in static TLS, no instance test. malloc(64) + free: 35.2 instructions with the
//   call overhead (bench/malloc/count.sh; jemalloc 73.0, tcmalloc 72.4, mimalloc 111.9, glibc
//   134.7; 45.3 with the instance test, 39.3 with bins as lists, 37.2 before the bins were
//   indexed by the page map's byte): malloc 15, free 15 (each with its ret; the bins are arrays,
//   so neither reads or writes the block, and free tests neither the cache nor the heap first:
//   an unattached cache's bins are full, and a page map with no leaf has no entries to read;
//   nor does it test the byte's range: every byte has a bin, those of no class full). Blocks
//   freed by another thread join the freeing thread's bin (docs/policies/threading.md: 8.0 ns
//   per object handed over, mimalloc 16.7); a full bin's batch is parked by the thread's home
//   and taken back by it first, so threads that free their own objects keep their blocks in
//   lines of their own (bench/process own-2, user time
//   0.24 -> 0.17-0.19 s, mimalloc 0.15-0.17). A bin holds 64 blocks, at most 128 KiB
//   (thread_local_cache's bin_byte_limit; a thread caches at most 1.29 MiB of these 28 classes,
//   in a 14.5 KiB slot array). Against 32 KiB, in one interleaved run: bench_programs CPU geomean
//   0.903 -> 0.872 x glibc's (sort --parallel=2 196 -> 156 ms; the rest within 2%), peak RSS
//   1.050 -> 1.049; bench_process wall geomean 0.74 -> 0.64 x mimalloc's (own-2 1.66 -> 1.13).
//   per_cpu_cache was not chosen: 25 instructions per pair against 22, and slower on every
//   remote-free pattern measured.
// - reclaim::with<100>: free pages go back to the system (MADV_DONTNEED, so RSS falls) once
//   their size class has gone 100 ms without running out of blocks; malloc_trim(0) gives back
//   everything at once. The delay is measured (docs/policies/reclaim.md, issue 16's pattern: fill
//   512 MiB with 512 B-3 KiB blocks, free 90% at random, 1.5 s of light activity, grow back):
//   10 ms reclaims as much but decommits pages the regrowth touches again at once (regrowth 3.5x
//   the first growth's time per byte); 1000 ms lets most of the 1.5 s pass first (RSS 9.9x the
//   live bytes, against 3.35x); 100 ms reclaims as much as 10 ms and regrows in 0.5-1.2x the time.
//   A size class left mostly free *concentrates* (its thread-cache bins hold one block, freed
//   blocks wait, new ones fill the fullest pages), which took the pattern from 3.21x to
//   1.95-1.99x after the activity and from 3.11x to 1.86-1.90x after malloc_trim(0) (glibc
//   1.62-1.74x), regrowth 0.70-0.96x; the fast paths are the same instructions.
#pragma once
#include <alloc/allocator.hpp>
#include <policy/all.hpp>

namespace alloy {

namespace P = alloy::policy;
using malloc_heap = allocator<P::segregated_fit::with<(1 << 20), P::tlsf>, P::geometric_classes<16, (1 << 12), 4>, P::system_pages, P::align<16>,
                              P::thread_local_cache, P::reclaim::with<100>>;

}  // namespace alloy
