/*
 * snuffel-pty-shim: lets libserialport 0.1.1 open a pseudo-terminal, for tests only.
 *
 * libserialport refuses a pty twice (see MACHINE-NOTES and Tests/pty-shim/README.md):
 *   1. sp_get_port_by_name looks the port up under /sys/class/tty/<name> (lstat, then
 *      readlink); /sys/class/tty has no entry for /dev/pts/N;
 *   2. sp_open asks for the modem-control lines (TIOCMGET, and TIOCMBIS/TIOCMBIC when it
 *      sets RTS/DTR); a pty has none and the kernel answers ENOTTY.
 * Preloaded (LD_PRELOAD), this library answers exactly those questions and nothing else:
 *   - __lxstat/lstat of /sys/class/tty/pts/N: a symbolic link, when /dev/pts/N exists;
 *   - readlink of /sys/class/tty/pts/N: "../../devices/virtual/tty/ptsN" (a native port);
 *   - TIOCMGET/TIOCMSET/TIOCMBIS/TIOCMBIC on a pty slave the kernel refused with ENOTTY
 *     or EINVAL: a per-descriptor set of modem bits (DSR, CTS and CD asserted).
 * Every other call, and these calls on anything but a pty, go to the C library unchanged,
 * so libserialport's own code (termios set-up, blocking reads and writes, flush) runs for
 * real. scripts/test builds it into .build/pty-shim/ and preloads it for the test run.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

static const char sys_prefix[] = "/sys/class/tty/pts/";

/* A marker the tests look up to know the shim is loaded. */
int snuffel_pty_shim_loaded = 1;

/* Whether fd is a pty slave (Unix98 pty slaves have majors 136-143). */
static int is_pty_slave(int fd) {
    struct stat st;
    if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode)) return 0;
    unsigned int m = major(st.st_rdev);
    return m >= 136 && m <= 143;
}

/* The /dev/pts path that a /sys/class/tty/pts/N path stands for, or 0. */
static int pts_device_for_sys_path(const char *path, char *device, size_t size) {
    if (path == NULL || strncmp(path, sys_prefix, sizeof(sys_prefix) - 1) != 0) return 0;
    const char *number = path + sizeof(sys_prefix) - 1;
    if (*number == '\0' || strspn(number, "0123456789") != strlen(number)) return 0;
    snprintf(device, size, "/dev/pts/%s", number);
    return access(device, F_OK) == 0;
}

static void fake_link_stat(struct stat *buf) {
    memset(buf, 0, sizeof(*buf));
    buf->st_mode = S_IFLNK | 0777;
}

int __lxstat(int version, const char *path, struct stat *buf) {
    static int (*real)(int, const char *, struct stat *);
    char device[64];
    if (pts_device_for_sys_path(path, device, sizeof(device))) {
        fake_link_stat(buf);
        return 0;
    }
    if (!real) real = (int (*)(int, const char *, struct stat *))dlsym(RTLD_NEXT, "__lxstat");
    if (!real) { errno = ENOSYS; return -1; }
    return real(version, path, buf);
}

int lstat(const char *path, struct stat *buf) {
    static int (*real)(const char *, struct stat *);
    char device[64];
    if (pts_device_for_sys_path(path, device, sizeof(device))) {
        fake_link_stat(buf);
        return 0;
    }
    if (!real) real = (int (*)(const char *, struct stat *))dlsym(RTLD_NEXT, "lstat");
    if (!real) { errno = ENOSYS; return -1; }
    return real(path, buf);
}

ssize_t readlink(const char *path, char *buf, size_t size) {
    static ssize_t (*real)(const char *, char *, size_t);
    char device[64];
    if (pts_device_for_sys_path(path, device, sizeof(device))) {
        char target[96];
        int n = snprintf(target, sizeof(target), "../../devices/virtual/tty/pts%s", path + sizeof(sys_prefix) - 1);
        if (n < 0) { errno = EIO; return -1; }
        size_t count = (size_t)n < size ? (size_t)n : size;
        memcpy(buf, target, count);  /* readlink does not terminate */
        return (ssize_t)count;
    }
    if (!real) real = (ssize_t (*)(const char *, char *, size_t))dlsym(RTLD_NEXT, "readlink");
    if (!real) { errno = ENOSYS; return -1; }
    return real(path, buf, size);
}

#define MAX_FDS 4096
static int modem_bits[MAX_FDS];
static unsigned char modem_bits_set[MAX_FDS];

int ioctl(int fd, unsigned long request, ...) {
    static int (*real)(int, unsigned long, ...);
    va_list ap;
    va_start(ap, request);
    void *arg = va_arg(ap, void *);
    va_end(ap);
    if (!real) real = (int (*)(int, unsigned long, ...))dlsym(RTLD_NEXT, "ioctl");
    if (!real) { errno = ENOSYS; return -1; }

    int modem = request == TIOCMGET || request == TIOCMSET || request == TIOCMBIS || request == TIOCMBIC;
    if (!modem) return real(fd, request, arg);
    int result = real(fd, request, arg);
    if (result == 0 || (errno != ENOTTY && errno != EINVAL) || fd < 0 || fd >= MAX_FDS || !is_pty_slave(fd) || arg == NULL)
        return result;
    if (!modem_bits_set[fd]) {
        modem_bits[fd] = TIOCM_DSR | TIOCM_CTS | TIOCM_CD;
        modem_bits_set[fd] = 1;
    }
    int *bits = (int *)arg;
    switch (request) {
    case TIOCMGET: *bits = modem_bits[fd]; break;
    case TIOCMSET: modem_bits[fd] = *bits; break;
    case TIOCMBIS: modem_bits[fd] |= *bits; break;
    case TIOCMBIC: modem_bits[fd] &= ~*bits; break;
    }
    errno = 0;
    return 0;
}
