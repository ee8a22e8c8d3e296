// The transfer cache between thread caches (tcmalloc's name for it): chains of free blocks that
// a full bin gave back, parked beside the heap for the next empty bin of the same class to take
// whole. One lock and two pointer moves per batch, no block touched: a consumer's flushes feed a
// producer's refills without either thread walking the blocks.
//
//   flush (a full bin):   its most recent batch, cut out as one chain --> park(home, chain)
//   refill (an empty bin): take(home) --> a chain, spliced whole; nullptr: carve from the heap
//
// Chains are stacked by the *home* of the thread that parked them, so a thread that wavers
// between giving blocks back and taking them gets its own blocks again (see transfer_slot).
// Everything here runs under the back end's lock: the caller (thread_local_cache) holds it.
#pragma once
#include <algorithm>
#include <array>
#include <cstddef>

#include "sanitizer.hpp"

namespace alloy::detail {

/// A stack of parked chains. Each chain holds one batch of blocks linked through their first
/// word; the chains are stacked through the second word of their first block. Both links go
/// through the heap's codec, so a parked chain is guarded as a heap list is.
template <class Codec>
struct chain_stack {
  void* top = nullptr;
  std::size_t count = 0;

  static void** second_word(void* chain) noexcept { return static_cast<void**>(chain) + 1; }
  void* next_chain(void* chain, const Codec& codec) const noexcept { return codec.decode(*second_word(chain), second_word(chain)); }
  void push(void* chain, const Codec& codec) noexcept {
    unpoison(second_word(chain), sizeof(void*));  // a bin's list poisons all but the first word
    *second_word(chain) = codec.encode(top, second_word(chain));
    top = chain;
    ++count;
  }
  void* pop(const Codec& codec) noexcept {
    void* chain = top;
    top = next_chain(chain, codec);
    --count;
    return chain;
  }
};

/// The chains parked for one size class, stacked by the home of the thread that parked them.
/// A refill takes from its own home first, so a thread that gives blocks back gets those very
/// blocks back: its blocks stay in cache lines and pages no other thread writes (the one place
/// where Alloy keeps mimalloc's thread affinity). Taking any thread's chain instead (one stack
/// per class) mixed the threads' blocks line by line, and each core then fetched lines the
/// other had just written: bench/process own-2, two threads on two cores each freeing their
/// own objects, took 0.24 s of CPU against 0.19 s with homes (mimalloc 0.16 s, whose pages are
/// owned by a thread).
///
/// A refill takes another home's chain only once `share_at` chains or more are parked: a
/// consumer parks chain after chain and its producer never does, so chains pile up — the
/// pattern that needs the handoff — while a thread whose use of a size merely wavers parks one
/// or two and soon takes them back itself. Measured (own-2 and producer-consumer, alternating
/// runs): sharing at 4 chains and at 16 keeps own-2 at 0.17-0.19 s; at half the bound (64
/// chains of 64 B blocks) producer-consumer's peak RSS grew from 3.0-4.9 to 5.0-7.4 MiB, at 4
/// chains 3.2-5.6 MiB.
template <class Codec>
struct transfer_slot {
  /// Threads are spread over this many homes, round robin as their caches are made.
  static constexpr std::size_t home_count = 8;
  static constexpr std::size_t share_at = 4;

  std::array<chain_stack<Codec>, home_count> homes{};

  /// Chains parked over every home (the caller bounds it).
  std::size_t count() const noexcept {
    std::size_t n = 0;
    for (const chain_stack<Codec>& home : homes) n += home.count;
    return n;
  }
  void park(std::size_t home, void* chain, const Codec& codec) noexcept { homes[home].push(chain, codec); }
  /// A chain for a refill on `home`, or nullptr: its own home's, else — once count() reaches
  /// `share_at` — the fullest other home's.
  void* take(std::size_t home, const Codec& codec) noexcept {
    chain_stack<Codec>* from = &homes[home];
    if (from->count == 0) {
      if (count() < share_at) return nullptr;
      from = std::max_element(homes.begin(), homes.end(),
                              [](const chain_stack<Codec>& a, const chain_stack<Codec>& b) { return a.count < b.count; });
    }
    return from->pop(codec);
  }
};

}  // namespace alloy::detail
