// The one error reporter of the library, shared by hardening (a corrupted link, a double free:
// the program stops) and the checks axis (checks/report.hpp: the default check handler).
//
// A report is composed in a fixed buffer on the stack and written to stderr with write(2):
// no allocation, no stdio, no locale. So it is safe where errors are found: inside a heap whose
// lock is held (malloc would re-enter it), inside a heap that is already corrupted, under the
// malloc shim (there is no other malloc), and in a signal handler (write is async-signal-safe).
//
//   error_message m;
//   m.text("alloy hardening: ").text(what).text(" (block ").pointer(p).text(")\n");
//   m.write_to_stderr();
#pragma once
#include <unistd.h>

#include <cerrno>
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "config.hpp"

namespace alloy::detail {

/// A message built in place. Text past `capacity` is cut, and a cut message ends with a
/// newline in its last byte, so a report always ends its line.
class error_message {
 public:
  static constexpr std::size_t capacity = 512;

  error_message& text(std::string_view s) noexcept {
    for (char c : s) put(c);
    return *this;
  }

  /// Unsigned decimal.
  error_message& dec(std::uintmax_t v) noexcept {
    char digits[24];
    std::size_t n = 0;
    do {
      digits[n++] = static_cast<char>('0' + v % 10);
      v /= 10;
    } while (v != 0);
    while (n != 0) put(digits[--n]);
    return *this;
  }

  /// "0x" and lowercase hex digits, as printf's %#x (but 0 prints as 0x0).
  error_message& hex(std::uintmax_t v) noexcept {
    put('0');
    put('x');
    char digits[16];
    std::size_t n = 0;
    do {
      digits[n++] = "0123456789abcdef"[v & 15];
      v >>= 4;
    } while (v != 0);
    while (n != 0) put(digits[--n]);
    return *this;
  }

  error_message& pointer(const void* p) noexcept { return hex(reinterpret_cast<std::uintptr_t>(p)); }

  std::string_view view() const noexcept { return {text_, size_}; }

  /// Writes the message to file descriptor 2, retrying partial writes and EINTR; gives up
  /// silently on any other error (there is nobody left to tell).
  void write_to_stderr() const noexcept {
    const char* p = text_;
    std::size_t left = size_;
    while (left != 0) {
      const ssize_t n = ::write(2, p, left);
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) return;
      p += n;
      left -= static_cast<std::size_t>(n);
    }
  }

 private:
  void put(char c) noexcept {
    if (size_ < capacity) text_[size_++] = c;
    else text_[capacity - 1] = '\n';
  }

  char text_[capacity];
  std::size_t size_ = 0;
};

/// Hardening found the heap attacked or corrupted: report on stderr and stop the program.
/// Continuing would hand out memory of the attacker's choosing.
[[noreturn]] ALLOY_SLOW_PATH inline void hardening_abort(std::string_view what, const void* block,
                                                         std::uintptr_t value) noexcept {
  error_message m;
  m.text("alloy hardening: ").text(what).text(" (block ").pointer(block).text(", value ").hex(value).text("); aborting\n");
  m.write_to_stderr();
  std::abort();
}

[[noreturn]] ALLOY_SLOW_PATH inline void report_corrupt_link(const void* slot, std::uintptr_t decoded) noexcept {
  hardening_abort("corrupted free-list link: it decodes to a misaligned address or one outside this heap's chunks",
                  slot, decoded);
}

[[noreturn]] ALLOY_SLOW_PATH inline void report_double_free(const void* block) noexcept {
  hardening_abort("double free: the block is already on its free list", block, reinterpret_cast<std::uintptr_t>(block));
}

}  // namespace alloy::detail
