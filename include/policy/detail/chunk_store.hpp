// Chunks taken from a memory source, each led by a header that any block inside finds by
// masking its own address: header_of(p) = (p - 1) rounded down to `Granule`. Every heap keeps
// its chunks here, so ownership, release and accounting are written once.
//
//   granule-aligned chunk
//   +--------------+------------------------------------------------+
//   | chunk_header | payload: blocks of one size class, or one large |
//   +--------------+------------------------------------------------+
//
// A block whose alignment is at least the granule starts on a granule boundary; its header is
// then written in the granule just before it (inside the same chunk), which the "p - 1" finds.
//
// Memory checkers (sanitizer.hpp): a chunk's payload is poisoned when the chunk is taken, so
// no heap hands out or writes memory it has not carved; the heap unpoisons what it uses. The
// payload is made accessible again when the chunk goes back to its source, whose next user
// (an arena's next chunk, malloc, a new mapping at the same address) must not inherit it.
#pragma once
#include <algorithm>
#include <atomic>
#include <cstddef>
#include <cstdint>
#include <type_traits>

#include "../source/concept.hpp"
#include "address_set.hpp"
#include "chunk_map.hpp"
#include "config.hpp"
#include "math.hpp"
#include "sanitizer.hpp"

namespace alloy::detail {

struct chunk_header {
  chunk_header* prev;
  chunk_header* next;
  void* base;                // what the source returned, and how much: given back as is
  std::size_t bytes;
  std::byte* payload;        // first usable byte
  std::size_t block_size;    // size of the blocks carved from the payload (heap-specific)
  std::uint32_t kind;        // size class index, or a heap-specific marker
  std::uint8_t mark;         // the chunk's mark (chunk_store::mark_of), where the registry keeps none
  std::uint64_t block_magic; // heap-specific: segregated fit divides by block_size with it
};
static_assert(sizeof(chunk_header) <= 64, "a chunk header fits the 64 bytes every chunk reserves for it");

template <class Source, std::size_t Granule>
class chunk_store {
  static_assert(is_pow2(Granule) && Granule >= Source::granule);

 public:
  using source_type = Source;
  static constexpr std::size_t granule = Granule;
  static constexpr std::size_t header_bytes = align_up(sizeof(chunk_header), 64);

  chunk_store() = default;
  chunk_store(const chunk_store&) = delete;
  chunk_store& operator=(const chunk_store&) = delete;
  ~chunk_store() { release(); }

  ALLOY_FAST_PATH static chunk_header* header_of(const void* p) noexcept {
    return static_cast<chunk_header*>(ptr(align_down(addr(p) - 1, Granule)));
  }

  /// Bytes of a chunk whose payload starts `payload_offset` into it and holds `payload_bytes`:
  /// rounded to the source's page, not the granule (owns() bounds-checks against `bytes`).
  static constexpr std::size_t chunk_bytes(std::size_t payload_offset, std::size_t payload_bytes) noexcept {
    return align_up(payload_offset + payload_bytes, Source::granule);
  }
  /// How far into its chunk the payload of `h` starts.
  static std::size_t payload_offset_of(const chunk_header* h) noexcept { return addr(h->payload) - addr(h->base); }

  /// A chunk whose payload holds `payload_bytes` at alignment `alignment`, or nullptr.
  /// The caller fills `block_size` and `kind`. The payload, up to the chunk's end, is poisoned.
  chunk_header* take(std::size_t payload_bytes, std::size_t alignment) noexcept {
    // A payload aligned to a granule or more starts that far into its chunk (the header just
    // before it, in the granule the payload's address masks to); any other follows the header.
    const std::size_t payload_offset = alignment >= Granule ? alignment : align_up(header_bytes, alignment);
    if (payload_bytes > max_request - payload_offset - Granule) return nullptr;
    const std::size_t bytes = chunk_bytes(payload_offset, payload_bytes);
    void* base = source_.allocate_chunk(bytes, mapping_alignment(bytes, payload_offset));
    if (base == nullptr) return nullptr;
    auto* payload = static_cast<std::byte*>(base) + payload_offset;
    auto* h = header_of(payload);
    if (!enter(addr(h))) {
      source_.deallocate_chunk(base, bytes);
      return nullptr;
    }
    *h = chunk_header{nullptr, head_, base, bytes, payload, 0, 0, plain_mark, 0};
    if (head_ != nullptr) head_->prev = h;
    head_ = h;
    account_resize(0, bytes);
    poison(payload, payload_bytes_of(h));
    return h;
  }

  /// The alignment a chunk of `bytes` with its payload at `payload_offset` is mapped at, by
  /// take() and by resize() when it moves the chunk: the granule, which header_of() masks to,
  /// or the payload's own alignment where that is more (the offset then *is* that alignment);
  /// and a huge page's where the chunk may be backed by huge pages (prefer_huge_pages), so that
  /// all of it can be, and so that resize() moving its pages keeps them huge: the kernel moves a
  /// huge page whole only between two 2 MiB-aligned addresses and splits it otherwise
  /// (bench/process huge-realloc, medians of 9 in three interleaved runs: 378-400 ms with its
  /// chunks 1 MiB-aligned, 249-375 ms so).
  static constexpr std::size_t mapping_alignment(std::size_t bytes, std::size_t payload_offset) noexcept {
    const std::size_t wanted = std::max(payload_offset, Granule);
    if constexpr (source_huge_pages<Source>) {
      if (bytes >= Source::huge_page_bytes && wanted < Source::huge_page_bytes) return Source::huge_page_bytes;
    }
    return wanted;
  }

  /// As above, for a chunk that free-list links will point into: `links` (the heap's hardening
  /// codec, or the index that holds it) admits the chunk before any link into it is written.
  /// A chunk handed out whole (a large block) is taken without: no link may point there.
  template <class Links>
  chunk_header* take(std::size_t payload_bytes, std::size_t alignment, Links& links) noexcept {
    chunk_header* h = take(payload_bytes, alignment);
    if (h != nullptr) links.admit(h->base, h->bytes);
    return h;
  }

  /// Asks for transparent huge pages over chunk `h` when the source offers them and the chunk
  /// spans a huge page. For chunks written whole — a huge block's own chunk; never a class
  /// chunk, nor a fit heap's, whose free blocks would stay resident (memory-sources.md): one
  /// fault (45-70 us on the VM measured, the same order as a 4 KiB page's) then maps 2 MiB
  /// instead of 4 KiB, so filling a
  /// fresh 64 MiB buffer takes 32 faults, not 16384 (bench/process huge-realloc: page faults
  /// 157k -> 21k). The price is resident memory: a huge page touched anywhere is resident
  /// whole, so a sparsely touched chunk (a big calloc'd table written here and there) keeps up
  /// to 2 MiB per touched page instead of 4 KiB, and khugepaged may later collapse a range of
  /// a free block that reclaiming had decommitted, if any page of it is still resident.
  void prefer_huge_pages(const chunk_header* h) noexcept {
    if constexpr (source_huge_pages<Source>) {
      if (h->bytes >= Source::huge_page_bytes) source_.advise_huge_pages(h->base, h->bytes);
    }
  }

  /// Address space about to go back to the source leaves no poison behind: a memory checker
  /// keeps its marks per address, not per mapping (ASan's shadow outlives munmap), so the next
  /// mapping there — the kernel reuses freed ranges first — would find the old free blocks'
  /// marks on memory that is someone else's now, and report its first write.
  static void forget_poison(void* base, std::size_t bytes) noexcept { make_defined(base, bytes); }

  void give_back(chunk_header* h) noexcept {
    (h->prev != nullptr ? h->prev->next : head_) = h->next;
    if (h->next != nullptr) h->next->prev = h->prev;
    registry_.erase(addr(h));
    reserved_ -= h->bytes;
    forget_poison(h->base, h->bytes);
    source_.deallocate_chunk(h->base, h->bytes);
  }

  /// A chunk handed out whole (a large block) resized to hold `payload_bytes`, its content kept
  /// and no byte copied (a source that `remaps_pages`): where it lies when the address space
  /// after it is free, else its pages moved by the kernel onto a fresh chunk. @returns its
  /// header — at its new address when it moved — or nullptr with the chunk as it was.
  chunk_header* resize(chunk_header* h, std::size_t payload_bytes) noexcept
    requires source_remaps_pages<Source>
  {
    const std::size_t offset = payload_offset_of(h);
    if (payload_bytes > max_request - offset - Granule) return nullptr;
    const std::size_t bytes = chunk_bytes(offset, payload_bytes);
    const std::size_t old_bytes = h->bytes;
    if (bytes < old_bytes) forget_poison(static_cast<std::byte*>(h->base) + bytes, old_bytes - bytes);
    if (source_.resize_chunk(h->base, old_bytes, bytes)) {
      h->bytes = bytes;
      account_resize(old_bytes, bytes);
      return h;
    }
    if (bytes <= old_bytes) return nullptr;
    // Moving: the new chunk is registered first (that can fail; nothing has moved yet), and
    // the old one unregistered before its pages go, so a lock-free lookup never finds a
    // registered header in memory that is no longer the heap's.
    void* to = source_.allocate_chunk(bytes, mapping_alignment(bytes, offset));
    if (to == nullptr) return nullptr;
    auto* moved = header_of(static_cast<std::byte*>(to) + offset);
    if (!enter(addr(moved))) {
      source_.deallocate_chunk(to, bytes);
      return nullptr;
    }
    chunk_header* const prev = h->prev;
    chunk_header* const next = h->next;
    registry_.erase(addr(h));
    forget_poison(h->base, old_bytes);  // the pages move; their address range goes back
    if (!source_.move_chunk(h->base, old_bytes, to, bytes)) {
      (void)enter(addr(h));  // its leaf exists: cannot fail
      registry_.erase(addr(moved));
      source_.deallocate_chunk(to, bytes);
      return nullptr;
    }
    moved->base = to;
    moved->bytes = bytes;
    moved->payload = static_cast<std::byte*>(to) + offset;
    (prev != nullptr ? prev->next : head_) = moved;
    if (next != nullptr) next->prev = moved;
    account_resize(old_bytes, bytes);
    return moved;
  }

  /// Whether `h` (a header_of() answer) heads one of this store's chunks; lock-free.
  ALLOY_FAST_PATH bool registered(const chunk_header* h) const noexcept { return registry_.contains(addr(h)); }

  // Marks: a byte per chunk that its heap sets (under its lock) and any thread reads with no
  // lock in the same lookup that finds the chunk registered — in the page map's own entry, so
  // a free learns what the heap said of the block's chunk from one byte (segregated fit: its
  // class), or in the header where the registry is a hash set. 0 is no chunk of this store;
  // every chunk starts with plain_mark, which says nothing more.
  static constexpr std::uint8_t plain_mark = 1;
  void mark(chunk_header* h, std::uint8_t m) noexcept {
    if constexpr (marks_in_registry) registry_.remark(addr(h), m);
    else std::atomic_ref(h->mark).store(m, std::memory_order_relaxed);
  }
  /// The mark of the chunk `p` points into, or 0 when it is none of this store's; lock-free.
  /// Not exact where owns() is: a pointer into a chunk's header reads the chunk's mark too —
  /// the caller holds a block's start (a free's argument), and asks owns() when it must know.
  ALLOY_FAST_PATH std::uint8_t mark_of(const void* p) const noexcept {
    if constexpr (marks_in_registry) {
      return registry_.mark_of(addr(p) - 1);  // header_of's granule, unmasked: the map shifts it
    } else {
      const chunk_header* h = header_of(p);
      return registered(h) ? std::atomic_ref(const_cast<chunk_header*>(h)->mark).load(std::memory_order_relaxed) : 0;
    }
  }

  /// Exact: true only for pointers into the payload of one of this store's chunks.
  bool owns(const void* p) const noexcept {
    if (p == nullptr) return false;
    chunk_header* h = header_of(p);
    return registered(h) && p >= h->payload && addr(p) < addr(h->base) + h->bytes;
  }

  template <class F>
  void for_each(F&& f) const noexcept {
    for (chunk_header* h = head_; h != nullptr; h = h->next) f(h);
  }

  void release() noexcept {
    while (head_ != nullptr) give_back(head_);
    registry_.clear(source_);
  }

  std::size_t reserved_bytes() const noexcept { return reserved_ + registry_.table_bytes(); }
  std::size_t peak_reserved_bytes() const noexcept { return peak_; }

  /// The chunk list is doubly linked and every chunk is registered.
  bool invariant() const noexcept {
    std::size_t n = 0;
    for (chunk_header* h = head_; h != nullptr; h = h->next, ++n) {
      if (h->next != nullptr && h->next->prev != h) return false;
      if (!registry_.contains(addr(h)) || header_of(h->payload) != h) return false;
    }
    return n == registry_.size();
  }

  Source& source() noexcept { return source_; }

  /// The bytes from `h`'s payload to the end of its chunk.
  static std::size_t payload_bytes_of(const chunk_header* h) noexcept {
    return h->bytes - payload_offset_of(h);
  }

 private:
  void account_resize(std::size_t old_bytes, std::size_t new_bytes) noexcept {
    reserved_ = reserved_ - old_bytes + new_bytes;
    peak_ = std::max(peak_, reserved_ + registry_.table_bytes());
  }

  static constexpr bool marks_in_registry = source_kernel_pages<Source>;
  /// `key` registered with plain_mark; false when the registry cannot grow.
  bool enter(std::uintptr_t key) noexcept {
    if constexpr (marks_in_registry) return registry_.insert(source_, key, plain_mark);
    else return registry_.insert(source_, key);
  }

  [[no_unique_address]] Source source_;
  // The registry of chunk headers that makes owns() exact: a page map where the source is the
  // kernel's pages (two loads, no loop; its byte is the chunk's mark), else a hash set whose
  // tables are the source's chunks (the mark then in the header).
  std::conditional_t<marks_in_registry, chunk_map<Granule>, address_set<Source>> registry_;
  chunk_header* head_ = nullptr;
  std::size_t reserved_ = 0;
  std::size_t peak_ = 0;
};

}  // namespace alloy::detail
