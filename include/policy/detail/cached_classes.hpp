// What a caching layer (thread_local_cache, per_cpu_cache) caches of the heap below it, and how
// it reallocates: one definition, so the two layers cannot disagree on which requests they keep.
//
// A cache's bins *are* the heap's size classes — a request's class is computed once, and the
// block a bin holds is the block the heap would give — for the sizes the heap serves from its
// classes, at the alignment the classes serve (the composition's `align<N>`). Everything else
// (over-aligned requests, sizes above the largest class) goes past the cache to the heap.
#pragma once
#include <algorithm>
#include <cstddef>

#include "config.hpp"
#include "heap_layer.hpp"
#include "math.hpp"
#include "reallocate.hpp"

namespace alloy::detail {

/// A caching layer over `Inner` derives from this (an empty base: no bytes) for its names.
template <class Inner>
struct cached_classes {
  using classes = typename Inner::config::classes;
  static constexpr std::size_t alignment = Inner::config::alignment;
  /// Requests up to this are cached: the sizes the heap serves from its classes (0: none).
  static constexpr std::size_t cached_max = std::min<std::size_t>(Inner::max_class_size, classes::max_size);
  static constexpr std::size_t bin_count = cached_max == 0 ? 0 : classes::class_of(cached_max) + 1;

  /// The block a bin holds: the heap's block for class `c`.
  static constexpr std::size_t block_size(std::size_t c) noexcept { return align_up(classes::size_of(c), alignment); }
  ALLOY_FAST_PATH static constexpr bool cacheable(std::size_t size, std::size_t align) noexcept {
    return size <= cached_max && align <= alignment;
  }

  /// allocate_maybe_zeroed (layer_knows_zeroed) for the caching `layer` over `below`: a cached
  /// size is a class block, which is never known zero; the rest is the heap's answer.
  template <class Layer, class Below>
  static maybe_zeroed allocate_maybe_zeroed(Layer& layer, Below& below, std::size_t size, std::size_t align) noexcept {
    if (cacheable(size, align)) return {layer.allocate(size, align), false};
    return below.allocate_maybe_zeroed(size, align);
  }

  /// reallocate for the caching `layer` over `below` (the layer's route to the heap). Sizes the
  /// cache holds neither of stay in the heap (which may resize in place). Same class: the block
  /// already is the one a new request would get, and a sized free with `new_size` finds the same
  /// bin. Otherwise the block moves through the layer, so a block is only ever given back as the
  /// size it was taken as, to the bin (or the heap) that size names.
  template <class Layer, class Below>
  static void* reallocate(Layer& layer, Below& below, void* p, std::size_t old_size, std::size_t new_size,
                          std::size_t align) noexcept {
    const bool old_cached = cacheable(old_size, align);
    const bool new_cached = cacheable(new_size, align);
    if (!old_cached && !new_cached) return below.reallocate(p, old_size, new_size, align);
    if (old_cached && new_cached && classes::class_of(old_size) == classes::class_of(new_size)) return p;
    return reallocate_by_copy(layer, p, old_size, new_size, align);
  }
};

}  // namespace alloy::detail
