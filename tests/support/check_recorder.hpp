// Records the reports of checking heaps instead of aborting, for as long as it lives, so a
// test can trigger a detection and look at what was reported.
#pragma once
#include <policy/checks/report.hpp>
#include <string>
#include <vector>

namespace alloy::testing {

struct recorded_check {
  alloy::check check;
  const void* pointer;
  std::size_t size;
  std::string allocator;
};

class check_recorder {
 public:
  check_recorder() : previous_(alloy::set_check_handler(&record)) { reports().clear(); }
  ~check_recorder() { alloy::set_check_handler(previous_); }
  check_recorder(const check_recorder&) = delete;
  check_recorder& operator=(const check_recorder&) = delete;

  static std::vector<recorded_check>& reports() {
    static std::vector<recorded_check> all;
    return all;
  }

 private:
  static void record(const alloy::check_report& r) noexcept {
    reports().push_back({r.check, r.pointer, r.size, std::string(r.allocator)});
  }
  alloy::check_handler previous_;
};

}  // namespace alloy::testing
