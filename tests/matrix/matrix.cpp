// The matrix is generated, filtered by the allocator's own concepts, and measured with
// instruments that count what the workloads really did.
#include <catch2/catch.hpp>

#include <bench/matrix/matrix.hpp>
#include <numeric>
#include <fcntl.h>
#include <fstream>
#include <mutex>
#include <set>
#include <unistd.h>

namespace P = alloy::policy;
using boost::mp11::mp_list;
using namespace alloy::bench;

namespace {

struct not_a_search_policy {  // names the search axis but builds no heap
  using axis = alloy::axis::search;
  static std::string name() { return "broken"; }
};

using small_objects = alloy::allocator<P::segregated_fit, P::pow2_classes<16, 4096>, P::single_thread, P::align<16>>;

}  // namespace

TEST_CASE("valid_composition asks what alloy::allocator asks", "[matrix]") {
  STATIC_REQUIRE(valid_composition<mp_list<P::segregated_fit, P::single_thread>>);
  STATIC_REQUIRE(valid_composition<mp_list<P::tlsf, P::locked<>, P::align<64>>>);
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::segregated_fit, P::tlsf>>);           // two searches
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<P::single_thread, P::locked<>>>);        // two threadings
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<int, P::single_thread>>);                // not a policy
  STATIC_REQUIRE_FALSE(valid_composition<mp_list<not_a_search_policy>>);                  // breaks its concept
}

TEST_CASE("the matrix is the product of its lists, less the invalid and the duplicate cells", "[matrix]") {
  using m = matrix<mp_list<P::segregated_fit, P::tlsf, not_a_search_policy>, mp_list<P::single_thread, P::locked<>>,
                   mp_list<P::pow2_classes<16, 4096>, P::geometric_classes<16, 16384, 4>>>;
  STATIC_REQUIRE(boost::mp11::mp_size<m::product>::value == 12);
  STATIC_REQUIRE(boost::mp11::mp_size<m::valid>::value == 8);  // the broken search policy is out
  // tlsf has no size classes (max_class_size 0): one cell per threading, not one per class map
  STATIC_REQUIRE(m::size == 6);
  STATIC_REQUIRE(boost::mp11::mp_contains<m::allocators, small_objects>::value);
  STATIC_REQUIRE(boost::mp11::mp_contains<m::allocators, alloy::allocator<P::tlsf, P::locked<>>>::value);
}

TEST_CASE("a cell names the type to paste", "[matrix]") {
  CHECK(declaration_of<small_objects>() ==
        "alloy::allocator<P::segregated_fit, P::pow2_classes<16, 4096>, P::single_thread, P::align<16>>");
  // Policies named inside another's parameters are qualified too; std:: and alloy:: names stay.
  using large_heap = alloy::allocator<P::segregated_fit::with<0, P::tlsf>, P::locked<alloy::spin_mutex>>;
  CHECK(declaration_of<large_heap>().find("P::segregated_fit::with<0, P::tlsf>") != std::string::npos);
  CHECK(declaration_of<large_heap>().find("P::locked<alloy::spin_mutex>") != std::string::npos);
  CHECK(declaration_of<alloy::allocator<P::tlsf, P::locked<>>>().find("P::locked<std::mutex>") != std::string::npos);
  CHECK(alloy_cell<alloy::allocator<P::tlsf, P::locked<>>>::thread_safe);
  CHECK_FALSE(alloy_cell<small_objects>::thread_safe);
  CHECK(alloy_cell<small_objects>::properties().find("\"allocate_cost\": \"O(1)\"") != std::string::npos);
}

TEST_CASE("workloads draw the same operations every time", "[matrix]") {
  const batch_workload a{512}, b{512};
  CHECK(a.sizes == b.sizes);
  CHECK(a.order == b.order);
  std::vector<std::size_t> sorted = a.order;
  std::sort(sorted.begin(), sorted.end());
  std::vector<std::size_t> identity(512);
  std::iota(identity.begin(), identity.end(), std::size_t{0});
  CHECK(sorted == identity);  // every block freed exactly once
  const churn_workload c{1000, 256}, d{1000, 256};
  CHECK(c.slots == d.slots);
  CHECK(c.new_sizes == d.new_sizes);
  for (std::size_t s : c.new_sizes) CHECK((s >= 8 && s <= 4096));
}

TEST_CASE("the memory run counts the workload's live bytes and the heap's footprint", "[matrix]") {
  const batch_workload w{256};
  const double live = static_cast<double>(std::accumulate(w.sizes.begin(), w.sizes.end(), std::size_t{0}));
  const cell_metrics& alloy = memory_run<alloy_cell<small_objects>>(w);
  CHECK(alloy.pairs == 256);
  CHECK(alloy.peak_live_bytes == live);
  CHECK(alloy.memory_ratio >= 1.0);
  CHECK(alloy.peak_reserved_bytes == alloy.memory_ratio * live);
  const cell_metrics& hand = memory_run<hand_free_list_cell>(w);
  CHECK(hand.peak_live_bytes == live);
  CHECK(hand.peak_reserved_bytes >= live);

  const fragmentation_workload f{128};
  const cell_metrics& frag = memory_run<alloy_cell<alloy::allocator<P::tlsf>>>(f);
  CHECK(frag.largest_free_block > 0);
  CHECK((frag.external_fragmentation >= 0 && frag.external_fragmentation <= 1));
}

TEST_CASE("a cell that cannot serve the workload is reported, not measured", "[matrix]") {
  using tiny = alloy::allocator<P::segregated_fit, P::static_arena<65536>, P::pow2_classes<16, 4096>>;
  const batch_workload w{4096};  // about 1 MiB live: more than the arena holds
  const checked_metrics& m = memory_run<alloy_cell<tiny>>(w);
  CHECK(m.failures > 0);
}

TEST_CASE("the op timer resolves operations shorter than the timer's step", "[matrix]") {
  CHECK(timer_step_ns() > 0);
  // Operations of about 4 ns each (a spin of known length): below this VM's TSC step of ~8 ns,
  // which single readings reported as 0 or one step. Batches of 32 resolve them.
  const auto spin = [] {
    for (int k = 0; k < 8; ++k) asm volatile("" ::: "memory");
  };
  op_timer t{32 * 1000};
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 32 * 1000; ++i) {
    const auto s = t.start();
    spin();
    t.stop(s);
  }
  const double mean = std::chrono::duration<double, std::nano>(std::chrono::steady_clock::now() - t0).count() / 32000;
  const double median = t.percentile_ns(0.5);
  CHECK(median > 0);
  CHECK(median < 4 * mean + 1);  // the batch median per op is of the order of the true mean
  CHECK(t.max_ns() >= t.percentile_ns(0.99));
}

namespace {

namespace T = alloy::trace;

/// Writes `records` as a trace of `threads` threads; returns its path.
std::string write_trace(const std::string& name, std::uint32_t threads, const std::vector<T::record>& records) {
  const std::string path = "matrix_test_" + name + ".trace";
  std::uint32_t objects = 0;
  for (const T::record& r : records) objects = std::max(objects, r.object);
  const T::header h{{'A', 'L', 'L', 'O', 'Y', 'T', 'R', '1'}, T::version, threads, records.size(), objects};
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
  REQUIRE(fd >= 0);
  REQUIRE(T::write(fd, h, records.data()));
  ::close(fd);
  return path;
}

/// A thread-safe heap that remembers which blocks are live: an allocation of a live block, or a
/// free of a block not live (a free that overtook its allocation), is counted as an error.
struct watching_heap {
  using inner = alloy::allocator<P::segregated_fit, P::locked<>>;
  static constexpr bool keeps_peak = false;
  inner heap;
  std::mutex m;
  std::set<void*> live;
  std::size_t errors = 0;
  void* allocate(std::size_t size) {
    void* p = heap.allocate(size);
    std::lock_guard g{m};
    if (!live.insert(p).second) ++errors;
    return p;
  }
  void deallocate(void* p, std::size_t size) {
    {
      std::lock_guard g{m};
      if (live.erase(p) != 1) ++errors;
    }
    heap.deallocate(p, size);
  }
  void end_of_round() {}
  std::size_t reserved_now() const { return 0; }
  std::size_t peak_reserved() const { return 0; }
};

/// A broken heap: it hands out its last freed block again and again, live or not.
struct reusing_heap {
  static constexpr bool keeps_peak = false;
  alignas(16) std::byte block[4096];
  void* allocate(std::size_t) { return block; }
  void deallocate(void*, std::size_t) {}
  void end_of_round() {}
  std::size_t reserved_now() const { return 0; }
  std::size_t peak_reserved() const { return 0; }
};

template <class Heap>
std::pair<std::size_t, std::size_t> replay(const trace_replay_workload& w, Heap& heap) {
  memory_probe<Heap> probe{heap};
  no_timer timer;
  driver d{heap, timer, probe};
  auto s = w.setup(d);
  for (int round = 0; round < 3; ++round) w.round(d, s);
  CHECK(probe.live() == 0);  // every round frees what it allocated
  return {probe.failures(), probe.violations()};
}

}  // namespace

TEST_CASE("a threaded trace replays each thread's calls on a thread of its own, frees after allocations", "[matrix][trace]") {
  // Thread 1 frees what thread 0 allocates and the reverse, the frees recorded right after the
  // allocations: without the wait on the allocating call a free would overtake it.
  std::vector<T::record> records;
  std::uint32_t object = 0;
  for (int i = 0; i < 2000; ++i) {
    const auto maker = static_cast<std::uint16_t>(i % 2), freer = static_cast<std::uint16_t>(1 - i % 2);
    records.push_back({static_cast<std::uint64_t>(16 + i % 200), ++object, maker, T::op::allocate, 0});
    records.push_back({0, object, freer, T::op::deallocate, 0});
  }
  for (int i = 0; i < 500; ++i) records.push_back({64, ++object, 1, T::op::allocate, 0});  // left live: freed by the round
  const trace_replay_workload w{write_trace("cross", 2, records)};
  REQUIRE(w.enabled());
  CHECK(w.threaded());
  CHECK(w.name() == "trace_matrix_test_cross");
  CHECK(w.pairs_per_round() == 2500);
  watching_heap heap;
  const auto [failures, violations] = replay(w, heap);
  CHECK(failures == 0);
  CHECK(violations == 0);
  CHECK(heap.errors == 0);
}

TEST_CASE("a replay finds a block handed out twice while live", "[matrix][trace]") {
  const std::vector<T::record> records{{64, 1, 0, T::op::allocate, 0},
                                       {64, 2, 0, T::op::allocate, 0},
                                       {0, 1, 0, T::op::deallocate, 0},
                                       {0, 2, 0, T::op::deallocate, 0}};
  const trace_replay_workload w{write_trace("twice", 1, records)};
  CHECK_FALSE(w.threaded());
  reusing_heap heap;
  CHECK(replay(w, heap).second > 0);
}

TEST_CASE("the shipped trace replays with its threads, on thread-safe cells only", "[matrix][trace]") {
  const trace_replay_workload w{ALLOY_TEST_TRACE};
  REQUIRE(w.enabled());
  CHECK(w.threaded());  // python3 with two worker threads
  const checked_metrics& safe = memory_run<alloy_cell<alloy::allocator<P::segregated_fit, P::thread_local_cache>>>(w);
  CHECK(safe.failures == 0);
  CHECK(safe.violations == 0);
  CHECK(safe.memory_ratio >= 1.0);
  registry r;
  add_cell<alloy_cell<small_objects>>(r);
  for (const matrix_entry& e : r.entries()) CHECK(e.workload.rfind("trace_", 0) != 0);
}

TEST_CASE("a missing or unreadable trace is named with the reason", "[matrix][trace]") {
  std::string error;
  trace_files("no/such/file.trace", error);
  CHECK(error.find("cannot read the trace no/such/file.trace: No such file") != std::string::npos);
  const std::string junk = "matrix_test_junk.trace";
  { std::ofstream{junk} << "not a trace"; }
  error.clear();
  trace_files(junk, error);
  CHECK(error.find("is not a readable Alloy trace") != std::string::npos);
}

TEST_CASE("memory over time samples every phase, and the footprint after the quiet phase", "[matrix]") {
  const memory_over_time_workload w{512, 5};
  const checked_metrics& m = memory_run<alloy_cell<small_objects>>(w);
  CHECK(m.failures == 0);
  CHECK(m.retained_ratio >= 1.0);  // nothing of Alloy's gives memory back yet: at least what is live
}
