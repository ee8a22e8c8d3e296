// Concentrating (detail/class_reclaim.hpp): a class that a sweep finds mostly free stops being
// cached by recency, so that turnover gathers its live blocks in few pages and the rest go back.
// Observed from outside: a freed block is not the next one handed out; turnover then a trim
// leaves fewer pages committed than the in-place reuse of a cache would; and the class is cached
// again once its surplus is used.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <algorithm>
#include <chrono>
#include <cstring>
#include <memory>
#include <random>
#include <thread>
#include <vector>

namespace P = alloy::policy;

namespace {

constexpr std::size_t size = 1024;  // four blocks to a page: a tenth live at random keeps a third of the pages

template <class... More>
using cached = alloy::allocator<P::segregated_fit, P::stats, P::thread_local_cache, More...>;
// Sweeps only at trim(): a second sweep, a delay after the trim's, would come long after each
// test is done, however slowly it runs (a sanitizer's build), so what each checks is decided
// by the trims alone.
using concentrating = cached<P::reclaim::with<1000>>;
// Sweeps on every tick of the clock, cut short by the refills of the class they sweep.
using sweeping = cached<P::reclaim::with<0>>;

/// A block tagged with its serial in every word, so a block handed out twice, or overwritten
/// by a neighbour, shows.
struct tagged {
  void* p;
  std::uint64_t serial;
};
void tag(const tagged& b) {
  auto* w = static_cast<std::uint64_t*>(b.p);
  for (std::size_t i = 0; i < size / sizeof(std::uint64_t); ++i) w[i] = b.serial;
}
bool intact(const tagged& b) {
  const auto* w = static_cast<const std::uint64_t*>(b.p);
  return std::all_of(w, w + size / sizeof(std::uint64_t), [&](std::uint64_t x) { return x == b.serial; });
}

/// `n` blocks, then all but a tenth of them freed at random: the live tenth is returned.
template <class Heap>
std::vector<tagged> fill_then_free_most(Heap& heap, std::size_t n, std::mt19937_64& rng, std::uint64_t& serial) {
  std::vector<tagged> blocks;
  for (std::size_t i = 0; i < n; ++i) {
    tagged b{heap.allocate(size), ++serial};
    REQUIRE(b.p != nullptr);
    tag(b);
    blocks.push_back(b);
  }
  std::shuffle(blocks.begin(), blocks.end(), rng);
  for (std::size_t i = n / 10; i < n; ++i) heap.deallocate(blocks[i].p, size);
  blocks.resize(n / 10);
  return blocks;
}

/// `rounds` times: a live block at random freed, a new one taken.
template <class Heap>
void turn_over(Heap& heap, std::vector<tagged>& live, std::size_t rounds, std::mt19937_64& rng, std::uint64_t& serial) {
  for (std::size_t r = 0; r < rounds; ++r) {
    tagged& b = live[rng() % live.size()];
    REQUIRE(intact(b));
    heap.deallocate(b.p, size);
    b = {heap.allocate(size), ++serial};
    REQUIRE(b.p != nullptr);
    tag(b);
  }
}

/// A heap whose 1024-byte class concentrates: 16,000 blocks (16 MiB) taken, 90% freed at random,
/// then a trim, which leaves ~10 MiB free in the pages the live tenth keeps resident.
template <class Heap = concentrating>
struct concentrated {
  explicit concentrated(unsigned seed) : rng(seed) {
    live = fill_then_free_most(*heap, 16000, rng, serial);
    heap->trim();
  }
  std::mt19937_64 rng;
  std::uint64_t serial = 0;
  std::unique_ptr<Heap> heap = std::make_unique<Heap>();
  std::vector<tagged> live;
};

bool distinct(std::vector<tagged> blocks) {
  std::sort(blocks.begin(), blocks.end(), [](const tagged& a, const tagged& b) { return a.p < b.p; });
  for (std::size_t i = 1; i < blocks.size(); ++i)
    if (static_cast<char*>(blocks[i - 1].p) + size > blocks[i].p) return false;
  return true;
}

}  // namespace

TEST_CASE("a class mostly free is not cached by recency, and is cached again once its surplus is used",
          "[reclaim][concentrate]") {
  SECTION("reclaiming: a freed block waits") {
    concentrated<> s(11);
    auto& heap = s.heap;
    void* p = heap->allocate(size);
    heap->deallocate(p, size);
    CHECK(heap->allocate(size) != p);
    // The surplus used up: the class's list runs dry and the thread's bin caches again.
    std::vector<void*> more;
    for (int i = 0; i < 16000; ++i) more.push_back(heap->allocate(size));
    void* q = heap->allocate(size);
    heap->deallocate(q, size);
    CHECK(heap->allocate(size) == q);
    for (const tagged& b : s.live) REQUIRE(intact(b));
    CHECK(heap->invariant());
  }
  SECTION("without reclaiming (the control): the freed block is the next one handed out") {
    std::mt19937_64 rng(11);
    std::uint64_t serial = 0;
    auto heap = std::make_unique<cached<>>();
    auto live = fill_then_free_most(*heap, 16000, rng, serial);
    void* p = heap->allocate(size);
    heap->deallocate(p, size);
    CHECK(heap->allocate(size) == p);
  }
}

TEST_CASE("turnover in a concentrating class gathers the live blocks: fewer pages stay committed", "[reclaim][concentrate]") {
  concentrated<> s(5);
  auto& [rng, serial, heap, live] = s;
  const auto before = heap->stats();
  // Three times the live blocks replaced: in place, the committed pages would stay as they are.
  turn_over(*heap, live, 3 * live.size(), rng, serial);
  heap->trim();
  const auto after = heap->stats();
  INFO("committed " << before.committed_bytes << " -> " << after.committed_bytes << " for "
                    << live.size() * size << " live bytes");
  CHECK(after.committed_bytes < before.committed_bytes * 3 / 4);
  CHECK(after.reserved_bytes <= before.reserved_bytes);
  for (const tagged& b : live) REQUIRE(intact(b));
  CHECK(distinct(live));
  CHECK(heap->invariant());
}

TEST_CASE("threads turn over a concentrating class together: blocks intact and distinct", "[reclaim][concentrate][threading]") {
  concentrated<sweeping> s(3);
  auto& heap = s.heap;  // not a structured binding: the threads' lambda captures it (clang 14)
  auto& live = s.live;
  // More threads than cores, each with a share of the live blocks, all of which this thread
  // allocated: frees cross threads as well. The heap sweeps all along (with<0>), so the
  // threads' refills cut sweeps short and their bins are refitted mid-flight.
  constexpr std::size_t threads = 6;
  std::vector<std::vector<tagged>> shares(threads);
  for (std::size_t i = 0; i < live.size(); ++i) shares[i % threads].push_back(live[i]);
  std::vector<std::thread> workers;
  for (std::size_t t = 0; t < threads; ++t) {
    workers.emplace_back([&, t] {
      std::mt19937_64 mine(100 + t);
      std::uint64_t next = (t + 1) << 40;
      // Catch2's REQUIRE is not thread-safe: turn over by hand, count what is wrong.
      for (std::size_t r = 0; r < 3 * shares[t].size(); ++r) {
        tagged& b = shares[t][mine() % shares[t].size()];
        if (!intact(b)) std::abort();
        heap->deallocate(b.p, size);
        b = {heap->allocate(size), ++next};
        if (b.p == nullptr) std::abort();
        tag(b);
      }
    });
  }
  for (auto& w : workers) w.join();
  live.clear();
  for (const auto& s : shares) live.insert(live.end(), s.begin(), s.end());
  for (const tagged& b : live) REQUIRE(intact(b));
  CHECK(distinct(live));
  heap->trim();
  CHECK(heap->invariant());
  for (const tagged& b : live) heap->deallocate(b.p, size);
  heap->trim();
  CHECK(heap->stats().committed_bytes < 16000 * size / 10);
}

TEST_CASE("a class that begins concentrating gets back the parcels parked for it", "[reclaim][concentrate]") {
  std::mt19937_64 rng(7);
  std::uint64_t serial = 0;
  auto heap = std::make_unique<sweeping>();
  auto& layers = heap->layers();
  const auto epoch = [&] { return layers.with_lock([](auto& h) { return h.concentration_epoch(); }); };
  // The frees overflow the thread's bin batch after batch, and the first batches are parked.
  auto live = fill_then_free_most(*heap, 16000, rng, serial);
  // Sweeps run on slow paths, once per tick of the clock: a few ticks find the class mostly free.
  for (int i = 0; i < 5000 && epoch() == 0; ++i) {
    std::this_thread::sleep_for(std::chrono::microseconds(500));
    layers.reclaim_tick();
  }
  REQUIRE(epoch() != 0);
  // The thread's next slow path, of any class, sees it begin: a first allocation of another size.
  void* other = heap->allocate(48);
  REQUIRE(other != nullptr);
  // The parcels went back to the heap, whose sweeps count only its own free blocks.
  CHECK(layers.parcels_parked(size) == 0);
  heap->deallocate(other, 48);
  for (const tagged& b : live) REQUIRE(intact(b));
  CHECK(heap->invariant());
}
