//! Process-wide protections set once at start-up, before any token is read.
//!
//! The process holds tokens in memory, so it must never write a core dump (DESIGN §6): a
//! crash (SIGABRT, SIGQUIT from Ctrl-\, a panic under `panic = "abort"`) would otherwise leave
//! the token in a file, or hand it to a crash collector such as systemd-coredump or apport.

/// Disables core dumps for this process where the OS allows: `RLIMIT_CORE` = 0 (soft and
/// hard, so nothing later raises it) on Unix, and on Linux also `PR_SET_DUMPABLE` = 0, which
/// additionally covers a `core_pattern` that pipes to a collector (that ignores
/// `RLIMIT_CORE`) and keeps other processes of the same user from attaching with ptrace or
/// reading `/proc/PID/mem`. Two system calls; failures are ignored (nothing better to do).
pub fn disable_core_dumps() {
    #[cfg(unix)]
    {
        let zero = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        // SAFETY: setrlimit(2) reads the struct we pass by reference and nothing else.
        #[expect(unsafe_code)]
        unsafe {
            libc::setrlimit(libc::RLIMIT_CORE, &zero);
        }
    }
    #[cfg(any(target_os = "linux", target_os = "android"))]
    {
        // SAFETY: prctl(PR_SET_DUMPABLE, 0) takes plain integers and touches no memory.
        #[expect(unsafe_code)]
        unsafe {
            libc::prctl(libc::PR_SET_DUMPABLE, 0, 0, 0, 0);
        }
    }
}
