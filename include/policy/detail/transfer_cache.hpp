// The transfer cache between thread caches (tcmalloc's name for it): batches of free blocks
// that a full bin gave back, parked beside the heap as *parcels* — arrays of the blocks'
// addresses — for the next empty bin of the same class to take whole. A bin is an array too,
// so a batch travels from one thread's bin to another's as a copy of its addresses: no block
// is read or written on the way, and a producer takes a consumer's batch without one miss on
// the lines the consumer's core holds (a chain linked through the blocks made the taker walk
// 32 such misses back to back: docs/policies/threading.md, "Bins are arrays; batches travel as parcels").
//
//   flush (a full bin):   its newest batch's addresses --> a parcel --> park(home, parcel)
//   refill (an empty bin): take(home) --> a parcel, copied into the bin; nullptr: the heap's
//
// A parcel is a block of the heap itself (taken and given back under its lock): word 0 links
// it to the parcel parked before it, words 1..n hold the batch in the bin's order. Both go
// through the heap's link codec, so under P::hardened a parcel's words are encoded and
// checked as a free list's links are: a forged address in a parked parcel stops the thread
// that takes it. Parcels are stacked by the *home* of the thread that parked them, so a thread
// that wavers between giving blocks back and taking them gets its own blocks again (see
// transfer_slot). Everything here runs under the back end's lock: the caller
// (thread_local_cache) holds it.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>

namespace alloy::detail {

/// Words of a parcel that carries `blocks` addresses: the link, then the addresses.
constexpr std::size_t parcel_words(std::size_t blocks) noexcept { return 1 + blocks; }

/// A stack of parked parcels, linked through their word 0 (encoded by `Codec`).
template <class Codec>
struct parcel_stack {
  void** top = nullptr;
  std::size_t count = 0;

  void** next_parcel(void** parcel, const Codec& codec) const noexcept {
    return static_cast<void**>(codec.decode(parcel[0], &parcel[0]));
  }
  void push(void** parcel, const Codec& codec) noexcept {
    parcel[0] = codec.encode(top, &parcel[0]);
    top = parcel;
    ++count;
  }
  void** pop(const Codec& codec) noexcept {
    void** parcel = top;
    top = next_parcel(parcel, codec);
    --count;
    return parcel;
  }
};

/// Writes the `n` addresses at `from` into `parcel`, encoded (each with its own word as the
/// codec's slot, as a list link is with its block's).
template <class Codec>
void pack(void** parcel, void* const* from, std::size_t n, const Codec& codec) noexcept {
  for (std::size_t i = 0; i < n; ++i) parcel[1 + i] = codec.encode(from[i], &parcel[1 + i]);
}
/// The `k`th address `parcel` holds, decoded (and checked).
template <class Codec>
void* parcel_block(void** parcel, std::size_t k, const Codec& codec) noexcept {
  return codec.decode(parcel[1 + k], &parcel[1 + k]);
}
/// The `n` addresses `parcel` holds, decoded (and checked) into `to`.
template <class Codec>
void unpack(void** parcel, void** to, std::size_t n, const Codec& codec) noexcept {
  for (std::size_t i = 0; i < n; ++i) to[i] = parcel_block(parcel, i, codec);
}

/// The parcels parked for one size class, stacked by the home of the thread that parked them.
/// A refill takes from its own home first, so a thread that gives blocks back gets those very
/// blocks back: its blocks stay in cache lines and pages no other thread writes (the one place
/// where Alloy keeps mimalloc's thread affinity). Taking any thread's batch instead (one stack
/// per class) mixed the threads' blocks line by line, and each core then fetched lines the
/// other had just written: bench/process own-2, two threads on two cores each freeing their
/// own objects, took 0.24 s of CPU against 0.19 s with homes (mimalloc 0.16 s, whose pages are
/// owned by a thread).
///
/// A refill takes another home's parcel only once `share_at` parcels or more are parked: a
/// consumer parks batch after batch and its producer never does, so parcels pile up — the
/// pattern that needs the handoff — while a thread whose use of a size merely wavers parks one
/// or two and soon takes them back itself. Measured (own-2 and producer-consumer, alternating
/// runs): sharing at 4 batches and at 16 keeps own-2 at 0.17-0.19 s; at half the bound (64
/// batches of 64 B blocks) producer-consumer's peak RSS grew from 3.0-4.9 to 5.0-7.4 MiB, at 4
/// batches 3.2-5.6 MiB.
template <class Codec>
struct transfer_slot {
  /// Threads are spread over this many homes, round robin as their caches are made.
  static constexpr std::size_t home_count = 8;
  static constexpr std::size_t share_at = 4;

  std::array<parcel_stack<Codec>, home_count> homes{};

  /// Parcels parked over every home (the caller bounds it).
  std::size_t count() const noexcept {
    std::size_t n = 0;
    for (const parcel_stack<Codec>& home : homes) n += home.count;
    return n;
  }
  void park(std::size_t home, void** parcel, const Codec& codec) noexcept { homes[home].push(parcel, codec); }
  /// A parcel for a refill on `home`, or nullptr: its own home's, else — once count() reaches
  /// `share_at` — the fullest other home's.
  void** take(std::size_t home, const Codec& codec) noexcept {
    parcel_stack<Codec>* from = &homes[home];
    if (from->count == 0) {
      if (count() < share_at) return nullptr;
      from = std::max_element(homes.begin(), homes.end(),
                              [](const parcel_stack<Codec>& a, const parcel_stack<Codec>& b) { return a.count < b.count; });
    }
    return from->pop(codec);
  }
};

}  // namespace alloy::detail
