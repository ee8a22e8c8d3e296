// expect: lacks `void\* allocate\(std::size_t size, std::size_t alignment\) noexcept`
// A custom checks layer whose allocate may throw: the message names the member.
#include <alloc/alloy.hpp>
template <class Inner>
struct throwing_layer : Inner {
  void* allocate(std::size_t size, std::size_t alignment) { return Inner::allocate(size, alignment); }
};
struct throwing_checks {
  using axis = alloy::axis::checks;
  template <class Inner>
  using layer = throwing_layer<Inner>;
  static std::string name() { return "throwing_checks"; }
};
alloy::allocator<throwing_checks> heap;
