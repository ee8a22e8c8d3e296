// alloy::stl_allocator<T, Alloc>: an Alloy heap behind any standard container.
//
// It holds a pointer to the heap, never the heap itself: two adaptors are equal when they
// share a heap. Propagation traits are all true, so memory always travels with the heap that
// can free it (a moved or swapped container brings its adaptor along).
#pragma once
#include <cstddef>
#include <limits>
#include <new>
#include <type_traits>

namespace alloy {

template <class T, class Alloc>
class stl_allocator {
 public:
  using value_type = T;
  using propagate_on_container_copy_assignment = std::true_type;
  using propagate_on_container_move_assignment = std::true_type;
  using propagate_on_container_swap = std::true_type;
  using is_always_equal = std::false_type;
  template <class U>
  struct rebind {
    using other = stl_allocator<U, Alloc>;
  };

  explicit stl_allocator(Alloc& heap) noexcept : heap_(&heap) {}
  template <class U>
  stl_allocator(const stl_allocator<U, Alloc>& other) noexcept : heap_(&other.heap()) {}

  /// @throws std::bad_alloc when the heap refuses or n * sizeof(T) overflows.
  [[nodiscard]] T* allocate(std::size_t n) {
    if (n > std::numeric_limits<std::size_t>::max() / sizeof(T)) throw std::bad_array_new_length();
    void* p = heap_->allocate(n * sizeof(T), alignof(T));
    if (p == nullptr) throw std::bad_alloc();
    return static_cast<T*>(p);
  }
  void deallocate(T* p, std::size_t n) noexcept { heap_->deallocate(p, n * sizeof(T), alignof(T)); }

  Alloc& heap() const noexcept { return *heap_; }

  template <class U>
  bool operator==(const stl_allocator<U, Alloc>& other) const noexcept {
    return heap_ == &other.heap();
  }

 private:
  Alloc* heap_;
};

}  // namespace alloy
