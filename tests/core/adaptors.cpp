// stl_allocator and pmr_resource with the real standard containers.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <list>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <vector>

namespace P = alloy::policy;
using heap_type = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::stats>;
template <class T>
using adaptor = alloy::stl_allocator<T, heap_type>;

TEST_CASE("standard containers run on an Alloy heap", "[adaptors]") {
  heap_type heap;
  {
    std::vector<int, adaptor<int>> v{adaptor<int>{heap}};
    for (int i = 0; i < 10000; ++i) v.push_back(i);
    CHECK(v[9999] == 9999);

    std::list<std::string, adaptor<std::string>> l{adaptor<std::string>{heap}};
    for (int i = 0; i < 1000; ++i) l.push_back(std::to_string(i));
    CHECK(l.size() == 1000);

    using pair_alloc = adaptor<std::pair<const int, double>>;
    std::map<int, double, std::less<>, pair_alloc> m{pair_alloc{heap}};
    std::unordered_map<int, double, std::hash<int>, std::equal_to<>, pair_alloc> u{pair_alloc{heap}};
    for (int i = 0; i < 1000; ++i) m[i] = u[i] = i * 0.5;
    CHECK(m.at(500) == 250.0);
    CHECK(u.at(999) == 499.5);

    auto shared = std::allocate_shared<std::vector<int>>(adaptor<int>{heap}, 100, 7);
    CHECK(shared->at(99) == 7);
    CHECK(heap.stats().live_bytes > 0);
  }
  CHECK(heap.stats().live_bytes == 0);  // every container gave everything back
}

TEST_CASE("adaptors are equal exactly when they share a heap", "[adaptors]") {
  heap_type a, b;
  CHECK(adaptor<int>{a} == adaptor<long>{a});
  CHECK_FALSE(adaptor<int>{a} == adaptor<int>{b});
  alloy::pmr_resource<heap_type> ra{a}, ra2{a}, rb{b};
  CHECK(ra.is_equal(ra2));
  CHECK_FALSE(ra.is_equal(rb));
  CHECK_FALSE(ra.is_equal(*std::pmr::new_delete_resource()));
}

TEST_CASE("a refused allocation throws std::bad_alloc and the heap goes on", "[adaptors][bad_input]") {
  using arena_heap = alloy::allocator<P::segregated_fit, P::pow2_classes<8, 256>, P::static_arena<16384>>;
  arena_heap heap;
  std::vector<int, alloy::stl_allocator<int, arena_heap>> v{alloy::stl_allocator<int, arena_heap>{heap}};
  CHECK_THROWS_AS(v.reserve(1 << 20), std::bad_alloc);
  CHECK_THROWS_AS(v.reserve(v.max_size() + 1), std::length_error);
  v.push_back(42);  // still usable
  CHECK(v.back() == 42);
  alloy::stl_allocator<std::uint64_t, arena_heap> raw{heap};
  CHECK_THROWS_AS(raw.allocate(SIZE_MAX / 4), std::bad_array_new_length);
}

TEST_CASE("pmr containers run on an Alloy heap", "[adaptors]") {
  heap_type heap;
  alloy::pmr_resource<heap_type> resource{heap};
  {
    std::pmr::vector<std::pmr::string> words{&resource};
    for (int i = 0; i < 1000; ++i) words.emplace_back(std::string(40, static_cast<char>('a' + i % 26)));
    CHECK(words[27][0] == 'b');
    std::pmr::unsynchronized_pool_resource pool{&resource};  // Alloy under a std pool
    std::pmr::vector<int> v{&pool};
    v.assign(5000, 3);
    CHECK(v[4999] == 3);
  }
  CHECK(heap.stats().live_bytes == 0);
  alloy::pmr_resource<alloy::allocator<P::static_arena<16384>>> tiny_resource{*new alloy::allocator<P::static_arena<16384>>};
  CHECK_THROWS_AS(tiny_resource.allocate(1 << 20), std::bad_alloc);
  delete &tiny_resource.heap();
}
