// static_arena<Bytes>: a fixed buffer inside the allocator object. No system call ever; when
// the arena is full, allocation fails with nullptr. For embedded targets and for tests that
// need exhaustion to be deterministic.
//
// The buffer is cut into pages of `granule` bytes; a bitmap marks the pages in use and a
// chunk request takes the first run of free pages at the requested alignment. A chunk given
// back clears its pages, so it merges at once with the free pages around it: the next request
// sees one run.
//
// Real-time bound: allocate_chunk tests each page's bit at most once (a run that meets a used
// page resumes after it), so at most Bytes / granule bit tests (1 MiB: 1024); deallocate_chunk
// clears the chunk's pages. A coalescing heap over an arena (tlsf, the fit policies) keeps at
// most one wholly free chunk, and gives it back when the arena refuses a new one
// (detail/tagged_heap.hpp's grow), where it merges with its free neighbours: so once the
// blocks allocated since some state are all freed, every request the heap served from that
// state it serves again (tests/reclaim/arena_merge.cpp; docs/policies/reclaim.md).
#pragma once
#include <array>
#include <cstdint>
#include <string>

#include "concept.hpp"

namespace alloy::policy {

template <std::size_t Bytes>
struct static_arena {
  static constexpr std::size_t granule = 1024;
  static_assert(Bytes >= granule && Bytes % granule == 0,
                "static_arena<Bytes>: Bytes must be a positive multiple of 1024 (for example static_arena<65536>)");
  using axis = alloy::axis::source;
  static constexpr std::size_t preferred_chunk_bytes = Bytes >= (std::size_t{1} << 16) ? 4096 : granule;
  static constexpr bool is_thread_safe = false;  // the owning heap's threading policy guards it

  static_arena() = default;
  static_arena(const static_arena&) = delete;
  static_arena& operator=(const static_arena&) = delete;

  void* allocate_chunk(std::size_t bytes, std::size_t alignment) noexcept {
    if (bytes == 0 || bytes > Bytes || alignment > Bytes) return nullptr;
    const std::size_t need = detail::align_up(bytes, granule) / granule;
    const std::size_t stride = alignment > granule ? alignment / granule : 1;
    const std::size_t first = (detail::align_up(detail::addr(buffer_.data()), alignment) - detail::addr(buffer_.data())) / granule;
    for (std::size_t page = first; page + need <= pages;) {
      std::size_t run = 0;
      while (run < need && !used(page + run)) ++run;
      if (run == need) {
        for (std::size_t i = 0; i < need; ++i) set(page + i, true);
        return buffer_.data() + page * granule;
      }
      // page + run is used: no run that starts at or before it fits. Resume past it, at the
      // next start the alignment allows, so no page is tested twice.
      page = first + detail::align_up(page + run + 1 - first, stride);
    }
    return nullptr;
  }

  void deallocate_chunk(void* p, std::size_t bytes) noexcept {
    const std::size_t page = (detail::addr(p) - detail::addr(buffer_.data())) / granule;
    for (std::size_t i = 0, n = detail::align_up(bytes, granule) / granule; i < n; ++i) set(page + i, false);
  }

  /// Whether `p` points into this arena (exact, and cheap: two compares).
  bool contains(const void* p) const noexcept {
    return detail::addr(p) >= detail::addr(buffer_.data()) && detail::addr(p) < detail::addr(buffer_.data()) + Bytes;
  }

  static std::string name() { return "static_arena<" + std::to_string(Bytes) + ">"; }

 private:
  static constexpr std::size_t pages = Bytes / granule;
  bool used(std::size_t page) const noexcept { return (map_[page / 64] >> (page % 64)) & 1u; }
  void set(std::size_t page, bool on) noexcept {
    const std::uint64_t bit = std::uint64_t{1} << (page % 64);
    map_[page / 64] = on ? (map_[page / 64] | bit) : (map_[page / 64] & ~bit);
  }

  alignas(granule) std::array<std::byte, Bytes> buffer_;
  std::array<std::uint64_t, (pages + 63) / 64> map_{};
};

}  // namespace alloy::policy
