// Death tests without a framework: run a piece of code in a forked child and report how the
// child ended and what it wrote on stderr. The child runs plain code (no REQUIRE: a Catch2
// failure would throw inside the child), with core dumps off so an expected abort is cheap.
#pragma once
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fcntl.h>

#include <csignal>
#include <cstdio>
#include <cstring>
#include <string>

namespace alloy::testing {

struct child_outcome {
  int signal = 0;      ///< the signal that killed the child, 0 if it exited
  int exit_code = -1;  ///< its exit status when it exited
  std::string err;     ///< everything it wrote on stderr
};

template <class F>
child_outcome run_in_child(F&& body) {
  int pipe_fds[2];
  if (::pipe(pipe_fds) != 0) return {};
  std::fflush(stdout);
  std::fflush(stderr);
  const pid_t pid = ::fork();
  if (pid == 0) {
    ::close(pipe_fds[0]);
    ::dup2(pipe_fds[1], 2);
    const rlimit no_core{0, 0};
    ::setrlimit(RLIMIT_CORE, &no_core);
    // Catch2's and the sanitizers' handlers would report the expected signal as a failure or
    // turn it into an exit; the test wants the signal itself.
    for (int s : {SIGABRT, SIGSEGV, SIGBUS, SIGILL, SIGFPE}) std::signal(s, SIG_DFL);
    body();
    ::_exit(0);
  }
  ::close(pipe_fds[1]);
  child_outcome out;
  char buffer[512];
  for (ssize_t n; (n = ::read(pipe_fds[0], buffer, sizeof buffer)) > 0;) out.err.append(buffer, static_cast<std::size_t>(n));
  ::close(pipe_fds[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  if (WIFSIGNALED(status)) out.signal = WTERMSIG(status);
  if (WIFEXITED(status)) out.exit_code = WEXITSTATUS(status);
  return out;
}

/// For a child that expects a fault: on SIGSEGV, write "fault in mapping <perms>" to stderr,
/// <perms> being the /proc/self/maps permissions of the page that faulted ("---p" for a guard
/// page, "unmapped" when no mapping holds it), then die of the signal. That tells a guard page
/// from memory that merely happened not to be mapped.
inline void report_fault_mapping() {
  struct sigaction action {};
  action.sa_flags = SA_SIGINFO;
  action.sa_sigaction = [](int, siginfo_t* info, void*) {
    const auto fault = reinterpret_cast<unsigned long>(info->si_addr);
    char maps[1 << 16];
    std::size_t length = 0;
    const int fd = ::open("/proc/self/maps", O_RDONLY);
    for (ssize_t n; fd >= 0 && length < sizeof maps - 1 && (n = ::read(fd, maps + length, sizeof maps - 1 - length)) > 0;)
      length += static_cast<std::size_t>(n);
    maps[length] = '\0';
    const char* found = "unmapped";
    char perms[5] = {};
    for (char* line = maps; line != nullptr && *line != '\0';) {
      unsigned long begin = 0, end = 0;
      if (std::sscanf(line, "%lx-%lx %4s", &begin, &end, perms) == 3 && fault >= begin && fault < end) {
        found = perms;
        break;
      }
      line = std::strchr(line, '\n');
      if (line != nullptr) ++line;
    }
    char message[128];
    const int n = std::snprintf(message, sizeof message, "fault in mapping %s\n", found);
    if (n > 0 && ::write(2, message, static_cast<std::size_t>(n)) < 0) ::_exit(3);
    std::signal(SIGSEGV, SIG_DFL);
    std::raise(SIGSEGV);
  };
  ::sigaction(SIGSEGV, &action, nullptr);
}

/// Writes `n` bytes from `p` one by one, as a linear overflow does. Hidden from AddressSanitizer,
/// whose poisoning of free blocks would report the overflow before it reaches a guard page.
[[gnu::no_sanitize_address, gnu::noinline]] inline void overflow_write(unsigned char* p, std::size_t n) {
  volatile unsigned char* q = p;
  for (std::size_t i = 0; i < n; ++i) q[i] = 0xAA;
}

}  // namespace alloy::testing
