/* Preloaded beside the allocator under test by bench_programs: when the program exits, after
 * its own destructors and atexit handlers (a preloaded library is finalised after the program),
 * writes the process's resident bytes, "<bytes>\n", to the file descriptor named by
 * ALLOY_RSS_AT_EXIT_FD. A program that starts others (g++ starts cc1plus) reports once per
 * process; the driver keeps the largest. No malloc: /proc/self/statm is read with read(2) and
 * the number formatted by hand, so the probe never calls the allocator it measures. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdlib.h>
#include <unistd.h>

static long parse_field(const char* s, int field) { /* the field-th (0-based) number of s */
  long value = 0;
  for (int f = 0; *s != '\0'; ++s) {
    if (*s == ' ') {
      if (f++ == field) return value;
      value = 0;
    } else if (*s >= '0' && *s <= '9') {
      value = value * 10 + (*s - '0');
    }
  }
  return value;
}

__attribute__((destructor)) static void report_rss_at_exit(void) {
  const char* name = getenv("ALLOY_RSS_AT_EXIT_FD");
  if (name == NULL) return;
  const int out = atoi(name);
  char buf[128];
  const int fd = open("/proc/self/statm", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  const ssize_t n = read(fd, buf, sizeof buf - 1);
  close(fd);
  if (n <= 0) return;
  buf[n] = '\0';
  unsigned long long bytes = (unsigned long long)parse_field(buf, 1) * (unsigned long long)sysconf(_SC_PAGESIZE);
  char text[32];
  int at = (int)sizeof text;
  text[--at] = '\n';
  do {
    text[--at] = (char)('0' + bytes % 10);
    bytes /= 10;
  } while (bytes != 0);
  (void)!write(out, text + at, sizeof text - (size_t)at);
}
