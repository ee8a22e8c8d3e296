// What a checking layer tells its user when it finds an error, and who it tells: one handler
// for the process, replaceable (tests collect reports instead of aborting).
//
// A report is found inside a heap, often under its lock: nothing on the way to the handler
// allocates, and the default handler writes through the library's one error reporter
// (detail/report_error.hpp: a fixed buffer and write(2)), which hardening uses too.
#pragma once
#include <atomic>
#include <cstddef>
#include <cstdlib>
#include <string_view>

#include "../detail/report_error.hpp"

namespace alloy {

/// The errors a checking layer detects.
enum class check {
  canary_before,    ///< bytes just before the block were overwritten (buffer underflow)
  canary_after,     ///< bytes just after the block were overwritten (buffer overflow)
  double_free,      ///< a block freed twice
  foreign_pointer,  ///< freed, resized or queried through a heap that never handed it out
  invalid_pointer,  ///< inside this heap's memory, but not the start of a live block
  size_mismatch,    ///< sized free with a size other than the one allocated
  use_after_free,   ///< a freed block was written to before it was reused
  leak,             ///< a block still live when the heap was released
};

constexpr std::string_view to_string(check c) noexcept {
  switch (c) {
    case check::canary_before: return "canary_before";
    case check::canary_after: return "canary_after";
    case check::double_free: return "double_free";
    case check::foreign_pointer: return "foreign_pointer";
    case check::invalid_pointer: return "invalid_pointer";
    case check::size_mismatch: return "size_mismatch";
    case check::use_after_free: return "use_after_free";
    case check::leak: return "leak";
  }
  return "?";
}

/// One detection. The strings live at least as long as the handler call (the allocator's name
/// as long as the heap).
struct check_report {
  alloy::check check;           ///< which check fired
  const void* pointer;          ///< the block, as the user knows it
  std::size_t size;             ///< the block's size as allocated (0 when unknown)
  std::string_view allocator;   ///< the allocator's name, as alloy::name_of gives it
};

/// Called for each detection. It may return (the heap then goes on, losing nothing) or not.
using check_handler = void (*)(const check_report&) noexcept;

/// The default: print what happened to stderr and abort. Allocates nothing, and is
/// async-signal-safe (write(2)).
inline void abort_on_check(const check_report& r) noexcept {
  detail::error_message m;
  m.text("alloy: ").text(to_string(r.check)).text(" detected: block ").pointer(r.pointer).text(" (").dec(r.size);
  m.text(" bytes) of allocator '").text(r.allocator).text("'\n");
  m.write_to_stderr();
  std::abort();
}

namespace detail {
inline std::atomic<check_handler> current_check_handler{&abort_on_check};
}

/// Installs `handler` for every checking heap of the process; returns the one it replaces.
inline check_handler set_check_handler(check_handler handler) noexcept {
  return detail::current_check_handler.exchange(handler == nullptr ? &abort_on_check : handler);
}

}  // namespace alloy
