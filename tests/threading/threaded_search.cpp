// Every thread-safe policy over every search policy: blocks handed from producer threads to
// consumer threads (cross-thread frees), many threads churning one heap, and the whole raw
// interface against the model — contents checked on every free, stats exact after join.
#include "threading_support.hpp"

using namespace alloy::testing;

TEMPLATE_LIST_TEST_CASE("blocks freed by another thread than their allocator's", "[threading][producer_consumer]",
                        threaded_compositions) {
  TestType heap;
  for (auto [producers, consumers] : {std::pair{1, 1}, std::pair{2, 2}, std::pair{1, 3}}) {
    run_result r;
    workload w;
    w.seed = static_cast<std::uint32_t>(producers * 10 + consumers);
    producer_consumer(heap, producers, consumers, w, r);
    require_clean(heap, r);
  }
}

TEMPLATE_LIST_TEST_CASE("many threads churning one heap", "[threading][churn]", threaded_compositions) {
  TestType heap;
  run_result r;
  churn(heap, 4, workload{}, r);
  require_clean(heap, r);
}

TEMPLATE_LIST_TEST_CASE("the raw interface behind a threading layer, against the model", "[threading][model]",
                        threaded_compositions) {
  TestType heap;
  model_options o;
  o.operations = 4000;
  o.max_large = 40000;
  run_model(heap, o);
  REQUIRE(heap.stats().live_bytes == 0);
}
