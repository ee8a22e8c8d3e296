// per_cpu_cache with far more threads than cores (16 to 64 on a 2-core machine): contents
// checked on every free, stats exact after join, and the memory the caches hold bounded by
// CPUs x the per-CPU limit, not threads x limit. Which path ran is asserted, not assumed:
//   - where the kernel and glibc register rseq, the regions serve every thread and no thread
//     cache is ever made;
//   - CTest runs this program a second time with GLIBC_TUNABLES=glibc.pthread.rseq=0 and
//     ALLOY_EXPECT_PER_CPU_MODE=thread_caches: every thread falls back to its thread cache;
//   - a ThreadSanitizer build has no rseq code (detail::rseq_built is false) and runs the
//     fallback alone.
// The last test drives the slab operations themselves under signals, preemption and migration:
// it catches a section the kernel would not restart (checked by deleting its registration).
#include "threading_support.hpp"

#include <pthread.h>
#include <sched.h>
#include <signal.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "../../bench/matrix/valid_composition.hpp"

using namespace alloy::testing;

namespace {

// Distinct types per test, so each test's count of thread caches starts from its own zero.
template <int Tag>
using percpu_heap = alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::per_cpu_cache, P::stats,
                                     P::align<16 + 0 * Tag>>;
/// A small region (16 KiB a CPU), so stacks fill and flush all the time.
template <int Tag>
using small_heap = alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>,
                                    P::per_cpu_cache::with<16384 + 16 * Tag, 4>, P::stats>;

template <class Alloc>
std::size_t thread_caches_alive() {
  return layers_of<Alloc>::thread_caches_alive();
}

/// The mode this run must see, when CTest says so; else the one this machine offers.
alloy::per_cpu_mode expected_mode() {
  if (const char* want = std::getenv("ALLOY_EXPECT_PER_CPU_MODE")) {
    if (std::strcmp(want, "thread_caches") == 0) return alloy::per_cpu_mode::thread_caches;
    if (std::strcmp(want, "per_cpu") == 0) return alloy::per_cpu_mode::per_cpu;
  }
  return P::per_cpu_cache::mode();
}

bool per_cpu() { return P::per_cpu_cache::mode() == alloy::per_cpu_mode::per_cpu; }

/// Every search policy under both tunings: the whole interface from many threads.
template <class Search, class Threading>
using percpu_composition = alloy::allocator<Search, Threading, P::geometric_classes<16, 4096, 4>, P::stats>;
using percpu_compositions =
    boost::mp11::mp_product<percpu_composition, threading_search_policies,
                            boost::mp11::mp_list<P::per_cpu_cache, P::per_cpu_cache::with<4096, 4>>>;

}  // namespace

TEST_CASE("per_cpu_cache names itself, is thread safe, and reports the mode this process runs in",
          "[threading][per_cpu_cache]") {
  using heap = alloy::allocator<P::per_cpu_cache, P::pow2_classes<8, 256>>;
  STATIC_REQUIRE(heap::properties.thread_safe);
  STATIC_REQUIRE(alloy::threading_policy<P::per_cpu_cache>);
  STATIC_REQUIRE(alloy::threading_policy<P::per_cpu_cache::with<4096, 4>>);
  REQUIRE(alloy::name_of<heap>() == "segregated_fit + pow2_classes<8, 256> + per_cpu_cache + align<16>");
  REQUIRE(alloy::name_of<small_heap<0>>() ==
          "segregated_fit + geometric_classes<16, 4096, 4> + per_cpu_cache::with<16384, 4> + align<16> + stats");

  heap h;
  REQUIRE(h.layers().mode() == P::per_cpu_cache::mode());
  REQUIRE(P::per_cpu_cache::mode() == expected_mode());
  if constexpr (!alloy::detail::rseq_built) REQUIRE(P::per_cpu_cache::mode() == alloy::per_cpu_mode::thread_caches);
  // Every thread gets the same answer from one process.
  alloy::per_cpu_mode other{};
  std::thread([&] { other = h.layers().mode(); }).join();
  REQUIRE(other == P::per_cpu_cache::mode());
  WARN("per_cpu_cache runs in mode " << (per_cpu() ? "per_cpu (rseq)" : "thread_caches (fallback)"));
}

TEST_CASE("per_cpu_cache keeps freed blocks in stacks of its own: link hardening refuses it, as for a thread cache",
          "[threading][per_cpu_cache]") {
  using alloy::bench::valid_composition;
  using boost::mp11::mp_list;
  STATIC_REQUIRE(alloy::threading_holds_bare_pointers<P::per_cpu_cache>);
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::per_cpu_cache, P::hardened::with<P::encoded_links>>>);
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::per_cpu_cache, P::hardened::with<P::double_free_check>>>);
  STATIC_REQUIRE(valid_composition<mp_list<P::per_cpu_cache, P::hardened::with<P::guard_pages>>>);
  STATIC_REQUIRE(valid_composition<mp_list<P::per_cpu_cache, P::tlsf, P::static_arena<(1 << 20)>>>);
}

TEST_CASE("64 threads on few cores: contents intact, no thread caches under rseq, caches bounded by CPUs x limit",
          "[threading][per_cpu_cache]") {
  using heap_type = small_heap<1>;
  using layer = layers_of<heap_type>;
  heap_type heap;
  const std::size_t bound = alloy::detail::possible_cpu_ids() * layer::per_cpu_limit;
  std::atomic<bool> running{true};
  std::size_t most_cached = 0;
  // Sampled while the threads run: the bound holds at every moment, not only at the end.
  std::thread sampler([&] {
    while (running.load()) {
      most_cached = std::max(most_cached, heap.layers().cached_bytes());
      std::this_thread::yield();
    }
  });
  run_result r;
  workload w;
  w.objects = 1500;
  w.max_size = 1024;
  w.large_every = 0;
  churn(heap, 64, w, r, 48);
  running = false;
  sampler.join();
  most_cached = std::max(most_cached, heap.layers().cached_bytes());
  INFO("most bytes cached " << most_cached << ", bound " << bound << " (" << alloy::detail::possible_cpu_ids()
                            << " CPUs x " << layer::per_cpu_limit << ")");
  REQUIRE(most_cached <= bound);
  if (expected_mode() == alloy::per_cpu_mode::per_cpu) {
    REQUIRE(most_cached > 0);                            // the regions did the caching
    REQUIRE(thread_caches_alive<heap_type>() == 0);      // and no thread cache was made
  } else {
    REQUIRE(heap.layers().cached_bytes() == 0);          // the thread caches did it
  }
  require_clean(heap, r);
  // metrics() stopped every region and took its blocks back.
  (void)heap.layers().metrics();
  if (expected_mode() == alloy::per_cpu_mode::per_cpu) REQUIRE(heap.layers().cached_bytes() == 0);
  REQUIRE(heap.invariant());
}

TEST_CASE("the bound with 64 threads that all hold their frees at once: at most 2 x the per-CPU limit here",
          "[threading][per_cpu_cache]") {
  using heap_type = small_heap<2>;
  using layer = layers_of<heap_type>;
  heap_type heap;
  constexpr int threads_count = 64;
  std::atomic<int> freed{0};
  std::atomic<bool> release{false};
  std::atomic<std::size_t> damaged{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < threads_count; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t));
      std::vector<handed_block> mine;
      for (int i = 0; i < 200; ++i) {
        handed_block b{nullptr, 16 + rng() % 500, 0, static_cast<unsigned char>(t)};
        if (allocate_block(heap, b)) mine.push_back(b);
      }
      for (const handed_block& b : mine) damaged += !free_block(heap, b, rng);
      ++freed;
      // Every thread stays alive with its frees done: a thread cache would still hold them.
      while (!release.load()) std::this_thread::yield();
    });
  while (freed.load() < threads_count) std::this_thread::yield();
  const std::size_t cached = heap.layers().cached_bytes();
  release = true;
  for (auto& t : threads) t.join();
  WARN("bytes cached with " << threads_count << " live threads: " << cached << "; per-CPU limit "
                            << layer::per_cpu_limit << ", CPUs " << alloy::detail::possible_cpu_ids());
  REQUIRE(damaged == 0);
  REQUIRE(cached <= alloy::detail::possible_cpu_ids() * layer::per_cpu_limit);
  if (alloy::detail::possible_cpu_ids() <= 2) REQUIRE(cached <= 2 * layer::per_cpu_limit);
  if (expected_mode() == alloy::per_cpu_mode::per_cpu) {
    REQUIRE(cached > 0);
    REQUIRE(thread_caches_alive<heap_type>() == 0);
  }
  REQUIRE(heap.stats().live_bytes == 0);
  REQUIRE(heap.invariant());
}

TEST_CASE("16 producers hand blocks to 16 consumers; 32 to 32", "[threading][per_cpu_cache]") {
  percpu_heap<3> heap;
  for (auto [producers, consumers] : {std::pair{16, 16}, std::pair{32, 32}}) {
    run_result r;
    workload w;
    w.objects = 600;
    w.seed = static_cast<std::uint32_t>(producers);
    producer_consumer(heap, producers, consumers, w, r);
    require_clean(heap, r);
  }
}

TEST_CASE("a consumer's overflow reaches the producer as parcels: parked on one thread, taken on another",
          "[threading][per_cpu_cache]") {
  percpu_heap<9> heap;  // the default tuning: batches of 32 blocks of 64 bytes, as the thread caches'
  std::vector<void*> blocks(600);
  for (std::size_t i = 0; i < blocks.size(); ++i) {
    blocks[i] = heap.allocate(64);
    REQUIRE(blocks[i] != nullptr);
    fill_block(blocks[i], 64, static_cast<unsigned char>(i));
  }
  REQUIRE(heap.layers().parcels_parked(64) == 0);  // nothing was freed yet
  // The consumer frees them all: its CPU's stack (or, without rseq, its thread cache's bin)
  // overflows batch after batch, and each batch is parked whole.
  std::size_t damaged = 0;
  std::thread([&] {
    for (std::size_t i = 0; i < blocks.size(); ++i) {
      damaged += !block_intact(blocks[i], 64, static_cast<unsigned char>(i));
      heap.deallocate(blocks[i], 64);
    }
  }).join();
  REQUIRE(damaged == 0);
  const std::size_t parked = heap.layers().parcels_parked(64);
  REQUIRE(parked >= 4);  // enough for another home's refill to take them (transfer_slot::share_at)
  // The producer's refills take them back: fewer parcels afterwards, and every block whole.
  for (void*& p : blocks) {
    p = heap.allocate(64);
    REQUIRE(p != nullptr);
    fill_block(p, 64, 0x5a);
  }
  REQUIRE(heap.layers().parcels_parked(64) < parked);
  std::sort(blocks.begin(), blocks.end());
  REQUIRE(std::adjacent_find(blocks.begin(), blocks.end()) == blocks.end());  // none handed out twice
  for (void* p : blocks) heap.deallocate(p, 64);
  REQUIRE(heap.stats().live_bytes == 0);
  REQUIRE(heap.invariant());
}

TEST_CASE("two instances used from 16 threads at once never mix blocks", "[threading][per_cpu_cache]") {
  using heap_type = small_heap<4>;
  heap_type a, b;
  heap_type* heaps[2] = {&a, &b};
  std::atomic<std::size_t> damaged{0}, foreign{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 16; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t + 100));
      workload w;
      w.max_size = 1024;
      w.large_every = 0;
      std::vector<std::pair<int, handed_block>> live;
      for (int i = 0; i < 2000; ++i) {
        const int which = static_cast<int>(rng() % 2);
        handed_block blk = draw(rng, w);
        if (!allocate_block(*heaps[which], blk)) continue;
        if (!heaps[which]->owns(blk.p) || heaps[1 - which]->owns(blk.p)) ++foreign;
        live.emplace_back(which, blk);
        if (live.size() > 32) {
          const std::size_t k = rng() % live.size();
          damaged += !free_block(*heaps[live[k].first], live[k].second, rng);
          live[k] = live.back();
          live.pop_back();
        }
      }
      for (auto& [h, m] : live) damaged += !free_block(*heaps[h], m, rng);
    });
  for (auto& t : threads) t.join();
  REQUIRE(damaged == 0);
  REQUIRE(foreign == 0);
  for (heap_type* h : heaps) {
    REQUIRE(h->stats().live_bytes == 0);
    REQUIRE(h->invariant());
  }
}

TEST_CASE("release() then reuse: the regions are made anew", "[threading][per_cpu_cache]") {
  percpu_heap<5> heap;
  for (int round = 0; round < 3; ++round) {
    run_result r;
    workload w;
    w.objects = 500;
    churn(heap, 16, w, r);
    require_clean(heap, r);
    heap.release();
  }
  void* p = heap.allocate(64);
  REQUIRE(p != nullptr);
  REQUIRE(heap.owns(p));
  heap.deallocate(p, 64);
  REQUIRE(heap.invariant());
}

TEST_CASE("requests the regions do not serve go to the locked back end", "[threading][per_cpu_cache]") {
  percpu_heap<6> heap;
  std::vector<void*> blocks;
  std::thread([&] {
    blocks.push_back(heap.allocate(5000));      // above the largest class
    blocks.push_back(heap.allocate(100, 256));  // over-aligned
    blocks.push_back(heap.allocate(24));        // cached
    blocks.push_back(heap.reallocate(heap.allocate(40), 40, 3000));  // moved to another class
  }).join();
  REQUIRE(std::uintptr_t(blocks[1]) % 256 == 0);
  for (void* p : blocks) REQUIRE(heap.owns(p));
  heap.deallocate(blocks[0], 5000);
  heap.deallocate(blocks[1], 100, 256);
  heap.deallocate(blocks[2]);  // unsized free of a cached-size block
  heap.deallocate(blocks[3], 3000);
  REQUIRE(heap.stats().live_bytes == 0);
  REQUIRE(heap.invariant());
}

TEMPLATE_LIST_TEST_CASE("every search policy behind per_cpu_cache: 16 threads churning, 8 to 8 handing over",
                        "[threading][per_cpu_cache]", percpu_compositions) {
  TestType heap;
  {
    run_result r;
    workload w;
    w.objects = 800;
    churn(heap, 16, w, r);
    require_clean(heap, r);
  }
  {
    run_result r;
    workload w;
    w.objects = 400;
    producer_consumer(heap, 8, 8, w, r);
    require_clean(heap, r);
  }
}

TEST_CASE("over a static arena the regions and their table come from the arena too", "[threading][per_cpu_cache]") {
  static alloy::allocator<P::segregated_fit, P::geometric_classes<16, 4096, 4>, P::per_cpu_cache,
                          P::static_arena<(1 << 24)>, P::stats>
      heap;
  run_result r;
  workload w;
  w.objects = 600;
  w.large_every = 0;
  churn(heap, 16, w, r);
  // Before require_clean: its invariant() and stats() read the heap's figures, which take the
  // regions' blocks back.
  if (expected_mode() == alloy::per_cpu_mode::per_cpu) REQUIRE(heap.layers().cached_bytes() > 0);
  require_clean(heap, r);
}

TEST_CASE("threads that move between CPUs mid-stream, preempted inside their sequences: no block handed out twice",
          "[threading][per_cpu_cache]") {
  percpu_heap<7> heap;
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  std::atomic<std::size_t> damaged{0}, moves{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < 24; ++t)
    threads.emplace_back([&, t] {
      std::mt19937 rng(static_cast<std::uint32_t>(t + 7));
      std::vector<handed_block> live;
      for (int i = 0; i < 20000; ++i) {
        if (i % 64 == 0) {
          // Each thread hops to another CPU (where the system lets it) and yields, so the
          // kernel both migrates threads and preempts them inside the sequences.
          cpu_set_t set;
          CPU_ZERO(&set);
          CPU_SET(static_cast<unsigned>(t + i / 64) % cpus, &set);
          if (pthread_setaffinity_np(pthread_self(), sizeof set, &set) == 0) ++moves;
          std::this_thread::yield();
        }
        // A fill unique to (thread, step): a block handed to two owners at once shows.
        handed_block b{nullptr, 16 + rng() % 112, 0, static_cast<unsigned char>(t * 31 + i)};
        if (allocate_block(heap, b)) live.push_back(b);
        if (live.size() > 8 || (i % 3 == 0 && !live.empty())) {
          const std::size_t k = rng() % live.size();
          damaged += !free_block(heap, live[k], rng);
          live[k] = live.back();
          live.pop_back();
        }
      }
      for (const handed_block& b : live) damaged += !free_block(heap, b, rng);
      cpu_set_t all;
      CPU_ZERO(&all);
      for (unsigned c = 0; c < cpus; ++c) CPU_SET(c, &all);
      (void)pthread_setaffinity_np(pthread_self(), sizeof all, &all);
    });
  for (auto& t : threads) t.join();
  WARN("affinity changes: " << moves.load());
  REQUIRE(damaged == 0);
  REQUIRE(heap.stats().live_bytes == 0);
  REQUIRE(heap.invariant());
}

// ---- the slab operations alone (policy/detail/rseq.hpp) ------------------------------------

namespace {

/// Tokens pushed and popped on one class of every CPU's region by many threads, while a signal
/// handler takes one off and puts it back on the next signal. Without the kernel's restart a
/// signal (or a preemption) between a sequence's read of `current` and its commit loses or
/// doubles a token; at the end each must be on exactly one stack.
namespace slab_stress {
constexpr std::size_t token_count = 1000;
constexpr std::uint16_t slots = 2048;  // > token_count: no push ever finds a stack full
int tokens[token_count];
void* const* table = nullptr;
std::atomic<std::size_t> failed_pushes{0};
thread_local void* pocket = nullptr;  // the handler's token between two signals

void on_signal(int) {
  void* token;
  if (pocket == nullptr) {
    if (alloy::detail::slab_pop(table, 0, token)) pocket = token;
  } else if (alloy::detail::slab_push(table, 0, pocket)) {
    pocket = nullptr;
  }
}
}  // namespace slab_stress

}  // namespace

TEST_CASE("slab push and pop under signals, preemption and migration: every token on exactly one stack",
          "[threading][per_cpu_cache][rseq]") {
  namespace s = slab_stress;
  if (P::per_cpu_cache::mode() != alloy::per_cpu_mode::per_cpu) {
    WARN("no rseq for this process: the slab operations are not exercised here");
    return;
  }
  const std::size_t ids = alloy::detail::possible_cpu_ids();
  REQUIRE(ids > 0);
  std::vector<std::vector<std::uint64_t>> regions(ids, std::vector<std::uint64_t>(1 + s::slots));
  std::vector<void*> table(2 + ids, alloy::detail::idle_region);
  for (std::size_t cpu = 0; cpu < ids; ++cpu) {
    *reinterpret_cast<alloy::detail::slab_header*>(regions[cpu].data()) = {1, 1, 1 + s::slots};
    table[2 + cpu] = regions[cpu].data();
  }
  s::table = table.data() + 2;
  for (int& token : s::tokens) REQUIRE(alloy::detail::slab_push(s::table, 0, &token));

  struct sigaction action {};
  action.sa_handler = s::on_signal;
  sigemptyset(&action.sa_mask);
  struct sigaction previous {};
  REQUIRE(sigaction(SIGUSR1, &action, &previous) == 0);

  constexpr int workers_count = 8;
  std::atomic<bool> signalling_done{false};
  std::atomic<int> working{workers_count};
  std::vector<std::thread> workers;
  const unsigned cpus = std::max(1u, std::thread::hardware_concurrency());
  for (int w = 0; w < workers_count; ++w)
    workers.emplace_back([&, w] {
      for (int i = 0; i < 1000000; ++i) {
        if (i % 4096 == 0) {  // hop CPUs now and then
          cpu_set_t set;
          CPU_ZERO(&set);
          CPU_SET(static_cast<unsigned>(w + i / 4096) % cpus, &set);
          (void)pthread_setaffinity_np(pthread_self(), sizeof set, &set);
        }
        void* hand[4];
        int n = 0;
        while (n < 4 && alloy::detail::slab_pop(s::table, 0, hand[n])) ++n;
        while (n > 0)
          if (!alloy::detail::slab_push(s::table, 0, hand[--n])) ++s::failed_pushes;
      }
      --working;
      while (!signalling_done.load()) std::this_thread::yield();  // signals may still come
      sigset_t block;
      sigemptyset(&block);
      sigaddset(&block, SIGUSR1);
      pthread_sigmask(SIG_BLOCK, &block, nullptr);
      if (s::pocket != nullptr && !alloy::detail::slab_push(s::table, 0, s::pocket)) ++s::failed_pushes;
      s::pocket = nullptr;
    });
  std::size_t signals = 0;
  while (working.load() > 0)
    for (auto& w : workers)
      if (pthread_kill(w.native_handle(), SIGUSR1) == 0) ++signals;
  signalling_done = true;
  for (auto& w : workers) w.join();
  REQUIRE(sigaction(SIGUSR1, &previous, nullptr) == 0);

  std::vector<int> seen(s::token_count, 0);
  std::size_t found = 0, foreign = 0;
  for (auto& region : regions) {
    const auto& h = *reinterpret_cast<const alloy::detail::slab_header*>(region.data());
    for (std::size_t w = h.begin; w < h.current; ++w, ++found) {
      const auto* token = reinterpret_cast<const int*>(region[w]);
      if (token < s::tokens || token >= s::tokens + s::token_count) ++foreign;
      else ++seen[static_cast<std::size_t>(token - s::tokens)];
    }
  }
  WARN(signals << " signals sent");
  REQUIRE(s::failed_pushes == 0);
  REQUIRE(foreign == 0);
  REQUIRE(found == s::token_count);
  REQUIRE(std::count(seen.begin(), seen.end(), 1) == static_cast<std::ptrdiff_t>(s::token_count));
}
