// The composition behind liballoy_malloc_hardened.so: the default malloc's design
// (default_heap.hpp) with every mitigation P::hardened offers, for programs that parse what an
// attacker sends them.
//
// - P::hardened: free-list links encoded with a per-process secret and checked when followed
//   (the heap's lists, and the chains the thread caches give back and take; the caches' bins
//   are arrays and hold no links), a double free of the block just freed stops the program,
//   blocks carved from a fresh chunk are handed out in a shuffled order, and every chunk ends
//   with a guard page.
// - segregated_fit *without* the tlsf large heap: randomized placement needs a heap that carves
//   batches (a tlsf heap places by size; the composition refuses the pair), and without it each
//   block above 128 KiB is a chunk of its own, so the guard page sits right after the block —
//   a linear overflow off any large block faults. The price is a mapping per large block, which
//   the default library avoids: under reclaim the last four freed are kept for reuse, and
//   realloc moves a block's pages with mremap, its guard following; a block grown onto fresh
//   pages still faults them (bench/process large-realloc: ~8x tcmalloc's CPU time, from ~11x).
//   bench/programs and bench/process measure what it costs (docs/policies/hardening.md).
// - geometric_classes<16, 128 KiB, 4>, not the default's 4 KiB top class: that one hands what
//   is above it to the tlsf heap, and here every such block would be a mapping of its own.
// - Everything else as default_heap.hpp argues: system_pages (this heap is malloc), align<16>
//   (glibc's guarantee), thread_local_cache (no lock on the fast paths), reclaim::with<100>
//   (free memory goes back to the system, malloc_trim(0) works). Without it, issue 16's pattern
//   (docs/policies/reclaim.md) kept 10.97x its live bytes after malloc_trim(0); with it
//   1.97-1.99x after the activity and 1.88-1.91x after the trim, as the default library (two
//   interleaved runs, 2026-11-30): the sweeps relink free blocks through the encoded-link codec,
//   and the guard page at each chunk's end is never part of a run they decommit.
#pragma once
#include <alloc/allocator.hpp>
#include <policy/all.hpp>

namespace alloy {

namespace P = alloy::policy;
using hardened_malloc_heap = allocator<P::segregated_fit, P::geometric_classes<16, (1 << 17), 4>, P::system_pages,
                                       P::align<16>, P::thread_local_cache, P::hardened, P::reclaim::with<100>>;

}  // namespace alloy
