// Instructions per workload with and without reclaiming, for callgrind (the machine's timing
// noise is larger than the 2% to resolve). Built twice: bench_reclaim_instructions_off
// (no_reclaim) and bench_reclaim_instructions_on (reclaim, the preload default's tuning).
//
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null bench_reclaim_instructions_off 4
//   valgrind --tool=callgrind --callgrind-out-file=/dev/null bench_reclaim_instructions_on 4
//
// Workloads (argv[1]): 0-2 one million allocate+free pairs of 64 B; 3-5 churn, 10,000 live
// blocks of 16-1015 B, 300,000 replacements; 6-7 the same with 100,000 live. 0, 3, 6:
// segregated_fit; 1, 4, 7: the preload's composition (segregated_fit::with<0, tlsf> and
// thread_local_cache); 2, 5: tlsf. The sweeps follow a clock, which valgrind slows ~50x, so
// they run ~50x more often per operation than natively: an upper bound on their share.
#include <alloc/alloy.hpp>
#include <cstdlib>
#include <memory>
#include <random>
#include <vector>

namespace P = alloy::policy;

#ifdef ALLOY_RECLAIM_ON
using reclaim_policy = P::reclaim::with<100>;
#else
using reclaim_policy = P::no_reclaim;
#endif
using classes = P::geometric_classes<16, (1 << 17), 4>;
using segregated = alloy::allocator<P::segregated_fit, classes, P::align<16>, reclaim_policy>;
using preload = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, classes, P::align<16>, P::thread_local_cache, reclaim_policy>;
using tagged = alloy::allocator<P::tlsf, P::align<16>, reclaim_policy>;

// Never inlined, in either build: inlined into main, a workload sees its sizes as constants and
// g++ computes their classes once, outside the loop — which it did in the no_reclaim build and
// not in the larger reclaiming one, so pairs through the thread cache counted 38% more
// instructions with reclaiming while the fast path was the same, instruction for instruction.
template <class Heap>
[[gnu::noinline]] void churn(std::size_t live, std::size_t steps) {
  auto heap = std::make_unique<Heap>();
  std::mt19937_64 rng(3);
  std::vector<void*> blocks(live);
  std::vector<std::size_t> sizes(live);
  for (std::size_t i = 0; i < live; ++i) blocks[i] = heap->allocate(sizes[i] = 16 + rng() % 1000);
  for (std::size_t k = 0; k < steps; ++k) {
    const std::size_t i = rng() % live;
    heap->deallocate(blocks[i], sizes[i]);
    blocks[i] = heap->allocate(sizes[i] = 16 + rng() % 1000);
  }
  for (std::size_t i = 0; i < live; ++i) heap->deallocate(blocks[i], sizes[i]);
}

template <class Heap>
[[gnu::noinline]] void pairs(std::size_t n, std::size_t size) {
  auto heap = std::make_unique<Heap>();
  for (std::size_t k = 0; k < n; ++k) {
    void* p = heap->allocate(size);
    asm volatile("" : : "r"(p) : "memory");  // the pair is not folded away
    heap->deallocate(p, size);
  }
}

int main(int argc, char** argv) {
  switch (argc > 1 ? std::atoi(argv[1]) : 0) {
    case 0: pairs<segregated>(1000000, 64); break;
    case 1: pairs<preload>(1000000, 64); break;
    case 2: pairs<tagged>(1000000, 64); break;
    case 3: churn<segregated>(10000, 300000); break;
    case 4: churn<preload>(10000, 300000); break;
    case 5: churn<tagged>(10000, 300000); break;
    case 6: churn<segregated>(100000, 300000); break;
    default: churn<preload>(100000, 300000); break;
  }
  return 0;
}
