// What a coalescing heap does with a chunk that has become wholly free: it keeps up to `Limit`
// such chunks (the largest ones) so that a heap that empties and refills does not thrash its
// memory source, and gives every other one back.
//
// How many are worth keeping depends on what giving one back costs. Over an arena it costs a
// few bits, and the freed pages merge with their neighbours there, so one is kept: after
// everything is freed the heap holds exactly one free block (largest_free_block == free_bytes,
// the proof that coalescing is complete). Over the kernel's pages it costs a munmap now, then a
// mmap and a page fault for every page touched again: a program that frees its large buffers
// and allocates them again (xz's per-thread dictionaries, an interpreter's arrays) paid that on
// every cycle while a system allocator kept its memory (issue 17: 0.06x tcmalloc on xz).
#pragma once
#include <array>
#include <cstddef>
#include <cstdint>
#include <utility>

#include "chunk_store.hpp"

namespace alloy::detail {

template <std::size_t Limit>
class spare_chunks {
  static_assert(Limit >= 1, "a coalescing heap keeps at least one wholly free chunk");

 public:
  static constexpr std::size_t limit = Limit;

  /// `h` just became wholly free. @returns the chunk to give back: nullptr (kept), `h`, or
  /// the smallest kept one when `h` is larger and every slot is taken.
  chunk_header* on_empty(chunk_header* h) noexcept {
    chunk_header** smallest = &kept_[0];
    for (chunk_header*& k : kept_) {
      if (k == nullptr) {
        k = h;
        return nullptr;
      }
      if (k->bytes < (*smallest)->bytes) smallest = &k;
    }
    if (h->bytes > (*smallest)->bytes) std::swap(h, *smallest);
    return h;
  }
  /// A block of `h` is being handed out: `h` is no longer wholly free.
  ALLOY_FAST_PATH void on_used(const chunk_header* h) noexcept {
    for (chunk_header*& k : kept_) {
      if (k == h) {
        k = nullptr;
        return;
      }
    }
  }
  void clear() noexcept { kept_.fill(nullptr); }
  /// A kept chunk, which stops being kept (to give it back after all), or nullptr.
  chunk_header* take() noexcept {
    for (chunk_header*& k : kept_) {
      if (k != nullptr) return std::exchange(k, nullptr);
    }
    return nullptr;
  }

 private:
  // Empty slots are null: no count beside them, so the one-spare set is one pointer, as the
  // hand-written heaps' (bench/zero_overhead: sizeof(composed) == sizeof(hand)).
  std::array<chunk_header*, Limit> kept_{};
};

/// Freed chunks of their own (huge blocks) kept for reuse while they are young: up to `Limit`,
/// each with the time it was freed, so a reclaiming heap gives back those that stayed free for
/// its delay. Over the kernel's pages a huge block freed and allocated again at once then costs
/// no munmap and no mmap, and its pages stay faulted in (a realloc-grown buffer's next round).
template <std::size_t Limit>
class recent_chunks {
  static_assert(Limit >= 1);

 public:
  /// `h` was freed at `now_ms`. @returns the chunk to give back: nullptr (kept), or the
  /// longest-kept one when every slot is taken.
  chunk_header* put(chunk_header* h, std::uint64_t now_ms) noexcept {
    entry* oldest = &kept_[0];
    for (entry& e : kept_) {
      if (e.chunk == nullptr) {
        e = {h, now_ms};
        return nullptr;
      }
      if (e.freed_ms < oldest->freed_ms) oldest = &e;
    }
    return std::exchange(*oldest, entry{h, now_ms}).chunk;
  }
  /// The kept chunk that best serves `bytes` (its payload's bytes measured by `room`, and
  /// `fits(h)` true): the smallest that holds them, else the largest, which the caller may grow.
  /// It stops being kept. nullptr when none passes `fits`.
  template <class Room, class Fits>
  chunk_header* take(std::size_t bytes, Room&& room, Fits&& fits) noexcept {
    entry* best = nullptr;
    for (entry& e : kept_) {
      if (e.chunk == nullptr || !fits(e.chunk)) continue;
      if (best == nullptr) {
        best = &e;
        continue;
      }
      const std::size_t have = room(e.chunk), best_have = room(best->chunk);
      const bool holds = have >= bytes, best_holds = best_have >= bytes;
      if (holds != best_holds ? holds : holds ? have < best_have : have > best_have) best = &e;
    }
    return best == nullptr ? nullptr : std::exchange(best->chunk, nullptr);
  }
  /// Whether a kept chunk holds `bytes` (its payload's bytes measured by `room`).
  template <class Room>
  bool holds(std::size_t bytes, Room&& room) const noexcept {
    for (const entry& e : kept_)
      if (e.chunk != nullptr && room(e.chunk) >= bytes) return true;
    return false;
  }
  /// Calls `give(h)` for every chunk freed at least `delay_ms` before `now_ms` (all of them when
  /// `delay_ms` is 0), which stops being kept. @returns how many.
  template <class Give>
  std::size_t expire(std::uint64_t now_ms, std::uint64_t delay_ms, Give&& give) noexcept {
    std::size_t n = 0;
    for (entry& e : kept_) {
      if (e.chunk != nullptr && (delay_ms == 0 || now_ms >= e.freed_ms + delay_ms)) {
        give(std::exchange(e.chunk, nullptr));
        ++n;
      }
    }
    expired_ += n;
    return n;
  }
  /// Chunks given back by expire() so far: reclaims, in the heap's metrics.
  std::size_t expired() const noexcept { return expired_; }
  template <class F>
  void for_each(F&& f) const noexcept {
    for (const entry& e : kept_)
      if (e.chunk != nullptr) f(e.chunk);
  }
  void clear() noexcept { kept_.fill({}); }

 private:
  struct entry {
    chunk_header* chunk = nullptr;
    std::uint64_t freed_ms = 0;
  };
  std::array<entry, Limit> kept_{};
  std::size_t expired_ = 0;
};

/// The one-spare set, for heaps that keep a single wholly free chunk whatever their source.
using spare_chunk = spare_chunks<1>;

/// The chunk of `store` whose blocks area [first, end) holds `p`, or nullptr. For heaps whose
/// chunks vary in size (so masking the address cannot find the header): O(chunks), and those
/// heaps grow geometrically, so chunks stay few.
template <class Store, class Bounds>
chunk_header* chunk_containing(const Store& store, const void* p, Bounds&& bounds) noexcept {
  chunk_header* found = nullptr;
  store.for_each([&](chunk_header* h) {
    const auto [first, end] = bounds(h);
    if (addr(p) >= addr(first) && addr(p) < addr(end)) found = h;
  });
  return found;
}

}  // namespace alloy::detail
