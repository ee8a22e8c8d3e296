// alloy::pmr_resource<Alloc>: an Alloy heap as a std::pmr::memory_resource, for pmr containers
// and for chaining under std::pmr pools.
#pragma once
#include <memory_resource>
#include <new>

namespace alloy {

template <class Alloc>
class pmr_resource final : public std::pmr::memory_resource {
 public:
  explicit pmr_resource(Alloc& heap) noexcept : heap_(&heap) {}
  Alloc& heap() const noexcept { return *heap_; }

 private:
  void* do_allocate(std::size_t bytes, std::size_t alignment) override {
    void* p = heap_->allocate(bytes, alignment);
    if (p == nullptr) throw std::bad_alloc();
    return p;
  }
  void do_deallocate(void* p, std::size_t bytes, std::size_t alignment) override {
    heap_->deallocate(p, bytes, alignment);
  }
  /// Equal when both draw from the same heap: then either can free the other's memory.
  bool do_is_equal(const std::pmr::memory_resource& other) const noexcept override {
    const auto* same = dynamic_cast<const pmr_resource*>(&other);
    return same != nullptr && same->heap_ == heap_;
  }

  Alloc* heap_;
};

}  // namespace alloy
