#include <alloc/alloy.hpp>   // the allocator, every policy, stl_allocator and pmr_resource
#include <vector>
namespace P = alloy::policy;

using small_objects = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>,
                                       P::single_thread, P::align<16>>;

int main() {
  small_objects heap;                    // owns its memory; gives it all back when destroyed
  void* p = heap.allocate(24);           // nullptr when it cannot
  heap.deallocate(p, 24);                // sized free: the fast path
  void* q = heap.allocate(100, 64);      // over-aligned request
  heap.deallocate(q);                    // unsized free works for every block

  std::vector<int, alloy::stl_allocator<int, small_objects>> v{alloy::stl_allocator<int, small_objects>{heap}};
  alloy::pmr_resource<small_objects> res{heap};   // a std::pmr::memory_resource
  std::pmr::vector<int> w{&res};
  for (int i = 0; i < 1000; ++i) v.push_back(i);
  w.assign(v.begin(), v.end());
  return p != nullptr && q != nullptr && w.back() == 999 ? 0 : 1;
}
