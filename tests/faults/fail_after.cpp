// Fault injection: a chosen allocation fails, and code using the allocator can be tested at
// every failure point — exception safety through stl_allocator, nullptr handling through the
// raw interface — with no leak and the heap intact afterwards.
#include <catch2/catch.hpp>

#include <alloc/alloy.hpp>
#include <alloc/testing/failure_points.hpp>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "../support/check_recorder.hpp"

namespace P = alloy::policy;

using heap_type = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 512>, P::fail_after, P::stats>;

TEST_CASE("fail_after fails exactly the chosen allocation", "[faults]") {
  auto heap = std::make_unique<heap_type>();
  CHECK(alloy::name_of<heap_type>() == "segregated_fit + pow2_classes<16, 512> + single_thread + align<16> + stats + fail_after");
  STATIC_REQUIRE(alloy::faults_policy<P::fail_after>);
  STATIC_REQUIRE(std::is_same_v<alloy::allocator<>::composition::top, alloy::allocator<P::no_faults>::composition::top>);

  auto& faults = heap->layers();
  CHECK_FALSE(faults.failure_pending());
  void* keep = heap->allocate(32);
  REQUIRE(keep != nullptr);

  SECTION("one failure, then allocations work again") {
    faults.fail_after(2);
    void* a = heap->allocate(10);
    void* b = heap->allocate(1000, 64);
    CHECK(heap->allocate(10) == nullptr);
    CHECK_FALSE(faults.failure_pending());
    void* c = heap->allocate(10);
    REQUIRE((a && b && c));
    CHECK(faults.injected_failures() == 1);
    heap->deallocate(a, 10);
    heap->deallocate(b);
    heap->deallocate(c);
  }
  SECTION("fail_all_after: the heap runs out until disarmed") {
    faults.fail_all_after(1);
    void* a = heap->allocate(10);
    REQUIRE(a != nullptr);
    for (int i = 0; i < 5; ++i) CHECK(heap->allocate(10) == nullptr);
    CHECK(faults.injected_failures() == 5);
    faults.disarm();
    void* b = heap->allocate(10);
    CHECK(b != nullptr);
    heap->deallocate(a, 10);
    heap->deallocate(b, 10);
  }
  SECTION("reallocate and reserve count as allocations, and fail cleanly") {
    std::memset(keep, 0x3c, 32);
    faults.fail_after(0);
    CHECK(heap->reallocate(keep, 32, 4000) == nullptr);
    CHECK(static_cast<unsigned char*>(keep)[31] == 0x3c);  // untouched
    faults.fail_after(0);
    CHECK_FALSE(heap->reserve(64, 10));
  }
  heap->deallocate(keep, 32);
  // An injected failure never reached the heap or its counters: nothing leaked, nothing miscounted.
  CHECK(heap->stats().live_bytes == 0);
  CHECK(heap->stats().allocations == heap->stats().deallocations);
  CHECK(heap->invariant());
}

TEST_CASE("fail_after::with<N> is armed from construction", "[faults]") {
  alloy::allocator<P::fail_after::with<3>> heap;
  void* a[3];
  for (void*& p : a) {
    p = heap.allocate(8);
    REQUIRE(p != nullptr);
  }
  CHECK(heap.allocate(8) == nullptr);
  void* after = heap.allocate(8);
  CHECK(after != nullptr);
  for (void* p : a) heap.deallocate(p);
  heap.deallocate(after);
}

namespace {

/// User code written against the raw interface: a table of rows, all or nothing.
struct table {
  heap_type& heap;
  std::size_t row_bytes;
  std::vector<void*> rows;
  bool build(std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      void* r = heap.allocate(row_bytes);
      if (r == nullptr) {  // undo what was done: the heap must get every row back
        clear();
        return false;
      }
      rows.push_back(r);
    }
    return true;
  }
  void clear() {
    for (void* r : rows) heap.deallocate(r, row_bytes);
    rows.clear();
  }
};

}  // namespace

TEST_CASE("raw interface: nullptr at every failure point, and nothing leaks", "[faults][raw]") {
  auto heap = std::make_unique<heap_type>();
  std::size_t built = 0;
  const std::size_t points = alloy::testing::for_each_failure_point(*heap, [&](std::size_t point) {
    table t{*heap, 48, {}};
    const bool ok = t.build(20);
    CHECK(ok == (point >= 20));  // exactly the first 20 runs see a failure
    CHECK(heap->stats().live_bytes == (ok ? 20 * heap->usable_size(t.rows.front()) : 0));
    built += ok;
    t.clear();
  });
  CHECK(points == 20);
  CHECK(built == 1);
  CHECK(heap->stats().live_bytes == 0);
}

TEST_CASE("stl_allocator: containers keep the strong guarantee at every failure point", "[faults][stl]") {
  auto heap = std::make_unique<heap_type>();
  using int_alloc = alloy::stl_allocator<int, heap_type>;
  using pair_alloc = alloy::stl_allocator<std::pair<const int, std::string>, heap_type>;

  SECTION("std::vector::push_back") {
    const std::size_t points = alloy::testing::for_each_failure_point(*heap, [&] {
      std::vector<int, int_alloc> v{int_alloc{*heap}};
      for (int i = 0; i < 200; ++i) {
        // The state before the step. Copying allocates too: a failure there leaves v alone as well.
        const std::vector<int, int_alloc> before(v.begin(), v.end(), int_alloc{*heap});
        try {
          v.push_back(i);
        } catch (const std::bad_alloc&) {
          CHECK(v == before);  // push_back failed: the vector is as it was
          throw;
        }
      }
      CHECK(v.size() == 200);
    });
    CHECK(points > 10);  // the copies and the growth each allocate
  }
  SECTION("std::map::emplace") {
    const std::size_t points = alloy::testing::for_each_failure_point(*heap, [&] {
      std::map<int, std::string, std::less<>, pair_alloc> m{pair_alloc{*heap}};
      for (int i = 0; i < 50; ++i) {
        const std::size_t size_before = m.size();
        try {
          m.emplace(i, "value");
        } catch (const std::bad_alloc&) {
          CHECK(m.size() == size_before);
          CHECK(m.find(i) == m.end());
          throw;
        }
      }
      CHECK(m.size() == 50);
    });
    CHECK(points == 50);  // one node per insert
  }
  // Every container was destroyed at its failure point: the heap got every block back.
  CHECK(heap->stats().live_bytes == 0);
  CHECK(heap->invariant());
}

TEST_CASE("fault injection composes with the checking layer", "[faults][checks]") {
  alloy::testing::check_recorder recorder;
  using checked_heap = alloy::allocator<P::segregated_fit, P::checked, P::fail_after>;
  auto heap = std::make_unique<checked_heap>();
  const std::size_t points = alloy::testing::for_each_failure_point(*heap, [&] {
    std::vector<void*> got;
    for (int i = 0; i < 30; ++i) {
      void* p = heap->allocate(static_cast<std::size_t>(i) * 8);
      if (p == nullptr) break;
      got.push_back(p);
    }
    for (void* p : got) heap->deallocate(p);
  });
  CHECK(points == 30);
  heap->release();
  CHECK(alloy::testing::check_recorder::reports().empty());  // a refused allocation is no user error
}
