// A randomized, model-based check of any composed allocator: a reference model (an ordered map
// of live blocks) runs beside the allocator under thousands of random operations, and every
// step is checked against it — no overlap, alignment honoured, contents intact, owns and
// usable_size right, stats equal to the model, the heap's own invariant().
//
// Shared by every search policy's tests (and the fuzzer), so a new policy is checked by adding
// it to a type list.
#pragma once
#include <catch2/catch.hpp>

#include <alloc/allocator.hpp>
#include <cstdint>
#include <cstring>
#include <map>
#include <random>
#include <vector>

namespace alloy::testing {

struct model_options {
  std::size_t operations = 20000;
  std::size_t max_live = 300;
  std::size_t max_size = 600;          ///< most requests are up to this
  std::size_t large_every = 50;        ///< about one request in this many is large (0: never)
  std::size_t max_large = 200000;
  std::size_t max_alignment = 256;     ///< over-aligned requests up to this (a power of two)
  bool reallocate = true;
  std::uint32_t seed = 1;
};

struct live_block {
  std::size_t size;
  std::size_t align;
  unsigned char fill;
  std::size_t granted;  ///< usable_size when recorded
};

/// Fills and checks block contents: a byte pattern that depends on the block's fill seed.
inline void fill_block(void* p, std::size_t n, unsigned char seed) {
  auto* b = static_cast<unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i) b[i] = static_cast<unsigned char>(seed + i * 7);
}
inline bool block_intact(const void* p, std::size_t n, unsigned char seed) {
  const auto* b = static_cast<const unsigned char*>(p);
  for (std::size_t i = 0; i < n; ++i)
    if (b[i] != static_cast<unsigned char>(seed + i * 7)) return false;
  return true;
}

template <class Alloc>
class model {
 public:
  explicit model(Alloc& heap) : heap_(heap) {}

  /// Records a fresh block and checks it against every live one. `p` may be null (refused).
  void on_allocate(void* p, std::size_t size, std::size_t align, unsigned char fill) {
    if (p == nullptr) return;
    const auto a = reinterpret_cast<std::uintptr_t>(p);
    REQUIRE(a % std::max(align, Alloc::alignment) == 0);
    REQUIRE(heap_.owns(p));
    REQUIRE(heap_.usable_size(p) >= size);
    auto next = live_.lower_bound(p);
    if (next != live_.end()) REQUIRE(a + size <= reinterpret_cast<std::uintptr_t>(next->first));
    if (next != live_.begin()) {
      auto prev = std::prev(next);
      REQUIRE(reinterpret_cast<std::uintptr_t>(prev->first) + prev->second.size <= a);
    }
    fill_block(p, size, fill);
    live_[p] = {size, align, fill, heap_.usable_size(p)};
    granted_ += live_[p].granted;
  }

  /// Checks the block is intact and forgets it; the caller frees it afterwards.
  live_block on_free(void* p) {
    auto it = live_.find(p);
    REQUIRE(it != live_.end());
    REQUIRE(block_intact(p, it->second.size, it->second.fill));
    return forget(p);
  }

  /// Forgets a block without checking it (it was handed to reallocate).
  live_block forget(void* p) {
    auto it = live_.find(p);
    REQUIRE(it != live_.end());
    live_block b = it->second;
    granted_ -= b.granted;
    live_.erase(it);
    return b;
  }

  void check_stats() {
    if constexpr (Alloc::has_stats) {
      const auto s = heap_.stats();
      REQUIRE(s.live_bytes == granted_);
      REQUIRE(s.allocations - s.deallocations == live_.size());
      REQUIRE(s.peak_live_bytes >= s.live_bytes);
      REQUIRE(s.reserved_bytes >= s.live_bytes + s.free_bytes);
      REQUIRE(s.largest_free_block <= s.free_bytes);
      REQUIRE(s.external_fragmentation() >= 0.0);
      REQUIRE(s.external_fragmentation() <= 1.0);
    }
    REQUIRE(heap_.invariant());
  }

  std::map<void*, live_block>& live() { return live_; }

 private:
  Alloc& heap_;
  std::map<void*, live_block> live_;
  std::size_t granted_ = 0;
};

/// Runs random allocate / sized free / unsized free / reallocate steps and checks each.
template <class Alloc>
void run_model(Alloc& heap, const model_options& o = {}) {
  std::mt19937 rng(o.seed);
  model<Alloc> m(heap);
  std::vector<void*> order;  // live blocks, for picking one at random
  auto pick = [&] { return std::uniform_int_distribution<std::size_t>(0, order.size() - 1)(rng); };
  auto random_size = [&]() -> std::size_t {
    if (o.large_every != 0 && rng() % o.large_every == 0)
      return std::uniform_int_distribution<std::size_t>(o.max_size, o.max_large)(rng);
    return std::uniform_int_distribution<std::size_t>(0, o.max_size)(rng);
  };
  auto random_align = [&]() -> std::size_t {
    if (rng() % 8 != 0) return 0;  // mostly the default alignment
    return std::size_t{1} << std::uniform_int_distribution<int>(0, std::countr_zero(o.max_alignment))(rng);
  };
  for (std::size_t step = 0; step < o.operations; ++step) {
    const unsigned op = rng() % 10;
    if (order.empty() || (op < 5 && order.size() < o.max_live)) {
      const std::size_t size = random_size();
      const std::size_t align = random_align();
      void* p = align == 0 ? heap.allocate(size) : heap.allocate(size, align);
      if (p == nullptr) continue;  // refusal is allowed (an exhausted arena); corruption is not
      m.on_allocate(p, size, align, static_cast<unsigned char>(rng()));
      order.push_back(p);
    } else if (op < 9 || !o.reallocate) {
      const std::size_t i = pick();
      void* p = order[i];
      const live_block b = m.on_free(p);
      if (rng() % 2 == 0) {
        if (b.align == 0) heap.deallocate(p, b.size);
        else heap.deallocate(p, b.size, b.align);
      } else {
        heap.deallocate(p);
      }
      order[i] = order.back();
      order.pop_back();
    } else {
      const std::size_t i = pick();
      void* p = order[i];
      const std::size_t new_size = random_size();
      const live_block b = m.live().at(p);
      void* q = heap.reallocate(p, b.size, new_size, b.align == 0 ? 1 : b.align);
      if (q == nullptr) continue;  // refused: p still live and intact, checked on its free
      const std::size_t kept = std::min(b.size, new_size);
      REQUIRE(block_intact(q, kept, b.fill));
      m.forget(p);
      // Re-record under the new size; the model re-fills the whole block with a fresh pattern.
      m.on_allocate(q, new_size, b.align, static_cast<unsigned char>(rng()));
      order[i] = q;
    }
    if (step % 512 == 0) m.check_stats();
  }
  m.check_stats();
  for (void* p : order) {
    m.on_free(p);
    heap.deallocate(p);
  }
  m.check_stats();
  if constexpr (Alloc::has_stats) REQUIRE(heap.stats().live_bytes == 0);
}

}  // namespace alloy::testing
