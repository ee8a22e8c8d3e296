// expect: lacks `template <class Inner> using layer = ...;`
#include <alloc/alloy.hpp>
struct layerless_threads {
  using axis = alloy::axis::threading;
  static std::string name() { return "layerless_threads"; }
};
alloy::allocator<layerless_threads> heap;
