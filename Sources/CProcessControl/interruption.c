#include "process_control.h"
#include <signal.h>
#include <string.h>

static volatile sig_atomic_t recorded_signal = 0;
static volatile sig_atomic_t installed = 0;

static void on_signal(int sig) {
    if (recorded_signal == 0) {
        recorded_signal = sig;
        return;
    }
    // A second request: the operator insists. Default action, now.
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, 0);
    raise(sig);
}

void pv_interruption_install(void) {
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    // SA_RESTART keeps reads and writes going; poll() still returns EINTR, which
    // is what wakes the process runner's loop at once.
    sa.sa_flags = SA_RESTART;
    sigemptyset(&sa.sa_mask);
    const int signals[] = {SIGTERM, SIGINT, SIGHUP};
    sigset_t these;
    sigemptyset(&these);
    for (unsigned i = 0; i < sizeof signals / sizeof signals[0]; i++) {
        sigaction(signals[i], &sa, 0);
        sigaddset(&these, signals[i]);
    }
    // A parent may have started us with them blocked (a test runner, some supervisors):
    // a blocked SIGTERM would wait, unseen, until the tool exits.
    sigprocmask(SIG_UNBLOCK, &these, 0);
    installed = 1;
}

int pv_interruption_installed(void) { return installed; }
int pv_interruption_signal(void) { return recorded_signal; }
void pv_interruption_reset(void) { recorded_signal = 0; }
