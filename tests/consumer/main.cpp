// A consumer of Alloy's headers, with the include spelling users write (README): the same source
// builds against an installed package (<prefix>/include/alloy) and against a source tree.
#include <alloc/allocator.hpp>
#include <alloc/alloy.hpp>
#include <policy/all.hpp>

int main() {
  alloy::allocator<alloy::policy::segregated_fit, alloy::policy::pow2_classes<8, 256>> heap;
  void* p = heap.allocate(24);
  heap.deallocate(p, 24);
  return p == nullptr;
}
