#define _GNU_SOURCE
#include "process_control.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

// Only async-signal-safe calls between fork and exec: the parent may have other threads.
static void child(const char *path, char *const argv[], char *const envp[], int stdout_fd,
                  int stderr_fd, int own_group, int die_with_parent, pid_t parent, int report_fd) {
    if (own_group) setpgid(0, 0);
    if (die_with_parent) {
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        // The parent may have ended before prctl took effect.
        if (getppid() != parent) _exit(127);
    }
    // Handlers do not survive exec, but ignored signals would: reset the ones
    // the tools may change, and unblock everything.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    const int signals[] = {SIGTERM, SIGINT, SIGHUP, SIGPIPE, SIGQUIT, SIGCHLD};
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) sigaction(signals[i], &dfl, 0);
    sigset_t none;
    sigemptyset(&none);
    sigprocmask(SIG_SETMASK, &none, 0);

    int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
    if (null_fd < 0 || dup2(null_fd, 0) < 0 || dup2(stdout_fd, 1) < 0 || dup2(stderr_fd, 2) < 0) {
        int e = errno;
        (void)!write(report_fd, &e, sizeof e);
        _exit(127);
    }
    execve(path, argv, envp);
    int e = errno;
    (void)!write(report_fd, &e, sizeof e);
    _exit(127);
}

pid_t pv_spawn(const char *path, char *const argv[], char *const envp[], int stdout_fd,
               int stderr_fd, int own_group, int die_with_parent, int *error_number) {
    // The child reports an exec failure through this close-on-exec pipe; a
    // successful exec closes it, and the parent reads end-of-file.
    int report[2];
    if (pipe2(report, O_CLOEXEC) != 0) {
        *error_number = errno;
        return -1;
    }
    const int on_main_thread = getpid() == (pid_t)syscall(SYS_gettid);
    const pid_t parent = getpid();
    pid_t pid = fork();
    if (pid < 0) {
        *error_number = errno;
        close(report[0]);
        close(report[1]);
        return -1;
    }
    if (pid == 0) {
        child(path, argv, envp, stdout_fd, stderr_fd, own_group, die_with_parent && on_main_thread,
              parent, report[1]);
    }
    if (own_group) setpgid(pid, pid);  // both sides, as shells do: no race with a kill(-pid)
    close(report[1]);
    int child_errno = 0;
    ssize_t n;
    do { n = read(report[0], &child_errno, sizeof child_errno); } while (n < 0 && errno == EINTR);
    close(report[0]);
    if (n == (ssize_t)sizeof child_errno) {
        int status;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {}
        *error_number = child_errno;
        return -1;
    }
    return pid;
}
