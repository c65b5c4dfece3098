#ifndef PV_PROCESS_CONTROL_H
#define PV_PROCESS_CONTROL_H
// Two things Swift cannot do safely on its own, kept in C and kept small:
// - signal handlers that only record the signal (async-signal-safe);
// - starting a child that dies with its parent (PR_SET_PDEATHSIG must be set
//   in the child between fork and exec, which posix_spawn has no attribute for).
#include <sys/types.h>

/// Installs handlers for SIGTERM, SIGINT and SIGHUP. The first of them is only
/// recorded (the tool reaches a safe point and exits 128+n); a second one
/// restores the default action and re-raises it, so a second Ctrl-C still stops
/// the tool at once (an update journal, if any, lets the next run recover).
void pv_interruption_install(void);
/// Whether pv_interruption_install was called in this process.
int pv_interruption_installed(void);
/// The first recorded signal, or 0.
int pv_interruption_signal(void);
/// Forgets a recorded signal (tests only).
void pv_interruption_reset(void);

/// Starts `path` (an absolute or relative path; no PATH search here) with
/// stdin from /dev/null and stdout/stderr on the given descriptors.
/// own_group: the child gets its own process group, so the terminal's Ctrl-C
/// (sent to the foreground group) reaches the tool only, which decides.
/// die_with_parent: the child gets SIGKILL if the calling thread ends (set only
/// from the main thread: PR_SET_PDEATHSIG follows the thread, not the process).
/// Returns the pid, or -1 with *error_number set (exec failures included).
pid_t pv_spawn(const char *path, char *const argv[], char *const envp[],
               int stdout_fd, int stderr_fd, int own_group, int die_with_parent,
               int *error_number);

#endif
