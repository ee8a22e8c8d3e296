// A consumer of Alloy: built against an installed package, and as a subdirectory.
#include <alloc/alloy.hpp>
int main() {
  alloy::allocator<alloy::policy::segregated_fit, alloy::policy::pow2_classes<8, 256>> heap;
  void* p = heap.allocate(24);
  heap.deallocate(p, 24);
  return p == nullptr;
}
